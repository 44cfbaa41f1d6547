// A broker over a real event store on disk and the default directory, for
// the referral core's tests.

#ifndef REFERRAL_SERVICES_REFERRAL_BROKER_FIXTURE_H_
#define REFERRAL_SERVICES_REFERRAL_BROKER_FIXTURE_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/referral/broker.h"
#include "services/referral/local_ports.h"

namespace referral::broker {

inline constexpr char kJustice[] = "qinzhou.justice";
inline constexpr char kLabor[] = "qinzhou.labor-inspection";
inline constexpr char kArbitration[] = "qinzhou.arbitration";
inline constexpr char kUnion[] = "qinzhou.union";
inline constexpr char kOutsider[] = "qinzhou.procuratorate";

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("broker_", getpid(), "_", n++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto d = directory::Directory::LoadFile(QINZHOU_TOML);
    ASSERT_TRUE(d.ok()) << d.status();
    directory_ = std::make_unique<directory::Directory>(std::move(*d));
    local_directory_ = std::make_unique<LocalDirectory>(directory_.get());
    OpenStore();
  }
  void TearDown() override {
    broker_.reset();
    core_.Detach().reset();
    std::filesystem::remove_all(dir_);
  }

  // (Re)opens the store and a fresh broker on it: a restart of both.
  void OpenStore() {
    broker_.reset();
    core_.Detach().reset();
    storage::EventStoreOptions o;
    o.path = (dir_ / "log").string();
    auto store = storage::EventStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    core_.Attach(std::move(*store));
    broker_ = std::make_unique<Broker>(&log_, local_directory_.get());
  }

  std::string NextRequestId() { return absl::StrCat("req-", ++requests_); }

  v1::OpenCaseRequest CaseRequest() {
    v1::OpenCaseRequest r;
    r.set_request_id(NextRequestId());
    r.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
    r.set_title("23 workers owed wages");
    r.set_matter(v1::MATTER_WAGE_ARREARS);
    r.set_jurisdiction("gansu/tianshui/qinzhou/yuquan");
    auto* g = r.add_parties();
    g->set_role(v1::PARTY_ROLE_WORKER_GROUP);
    g->set_name("Yuquan project workers");
    g->set_head_count(23);
    r.set_amount_claimed_fen(46000000);
    r.set_green_channel(true);
    return r;
  }

  std::string OpenCase(const std::string& owner = kJustice) {
    auto c = broker_->OpenCase(owner, CaseRequest());
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->case_id() : "";
  }

  v1::SendReferralRequest SendRequest(const std::string& case_id,
                                      const std::string& to = kLabor) {
    v1::SendReferralRequest r;
    r.set_request_id(NextRequestId());
    r.set_case_id(case_id);
    r.set_to_node(to);
    r.set_purpose("order the contractor to pay the wages");
    return r;
  }

  // "<accessor> <method> <role>" of each clear read of personal data
  // recorded in the case's audit stream, oldest first.
  std::vector<std::string> ClearReads(const std::string& case_id) {
    std::vector<std::string> out;
    auto audit = log_.ReadCase("audit:" + case_id);
    if (!audit.ok()) return out;
    for (const v1::Event& e : *audit) {
      if (!e.has_personal_data_accessed()) continue;
      const v1::PersonalDataAccessed& a = e.personal_data_accessed();
      out.push_back(absl::StrCat(a.accessor(), " ", a.method(), " ",
                                 v1::AccessRole_Name(a.role())));
    }
    return out;
  }

  std::string Send(const std::string& case_id, const std::string& to = kLabor,
                   const std::string& from = kJustice) {
    auto r = broker_->SendReferral(from, SendRequest(case_id, to));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->referral_id() : "";
  }

  // Takes `action` on a referral as `caller`, with the smallest valid
  // request for it; returns the referral after the step.
  absl::StatusOr<v1::Referral> Take(Action action, const std::string& caller,
                                    const std::string& referral_id,
                                    std::string request_id = "") {
    if (request_id.empty()) request_id = NextRequestId();
    Broker& b = *broker_;
    switch (action) {
      case Action::kSend:
        return absl::InvalidArgumentError("send makes a new referral");
#define REFERRAL_TAKE(ActionValue, Req, Method, ...)      \
  case ActionValue: {                                    \
    v1::Req r;                                           \
    r.set_request_id(request_id);                        \
    r.set_referral_id(referral_id);                      \
    __VA_ARGS__;                                         \
    return b.Method(caller, r);                          \
  }
      REFERRAL_TAKE(Action::kReceive, ReceiveReferralRequest, Receive)
      REFERRAL_TAKE(Action::kAccept, AcceptReferralRequest, Accept)
      REFERRAL_TAKE(Action::kReject, RejectReferralRequest, Reject,
                    r.set_reason_code("out_of_jurisdiction"))
      REFERRAL_TAKE(Action::kReturn, ReturnReferralRequest, Return,
                    r.add_missing_items("labour contract copies"))
      REFERRAL_TAKE(Action::kResubmit, ResubmitReferralRequest, Resubmit)
      REFERRAL_TAKE(Action::kStart, StartReferralRequest, Start)
      REFERRAL_TAKE(Action::kHold, HoldReferralRequest, Hold,
                    r.set_reason("waiting for evidence"))
      REFERRAL_TAKE(Action::kResume, ResumeReferralRequest, Resume)
      REFERRAL_TAKE(Action::kComplete, CompleteReferralRequest, Complete,
                    r.set_outcome(v1::OUTCOME_WAGES_RECOVERED))
      REFERRAL_TAKE(Action::kFail, FailReferralRequest, Fail,
                    r.set_reason_code("respondent_missing"))
      REFERRAL_TAKE(Action::kCancel, CancelReferralRequest, Cancel)
#undef REFERRAL_TAKE
      case Action::kRedirect: {
        v1::RedirectReferralRequest r;
        r.set_request_id(request_id);
        r.set_referral_id(referral_id);
        r.set_to_node(kArbitration);
        r.set_reason("a contract dispute belongs to arbitration");
        auto s = b.Redirect(caller, r);
        if (!s.ok()) return s.status();
        return s->referral;
      }
    }
    return absl::InternalError("unreachable");
  }

  std::filesystem::path dir_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<LocalDirectory> local_directory_;
  caselog::CaseLog core_;
  LocalCaseLog log_{&core_};
  std::unique_ptr<Broker> broker_;
  int requests_ = 0;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_BROKER_FIXTURE_H_
