// A broker with investigators, an auditor and a search key, over a real
// event store on disk, for the tests of who sees personal data, the audit
// streams and the search.

#ifndef REFERRAL_SERVICES_REFERRAL_PRIVACY_FIXTURE_H_
#define REFERRAL_SERVICES_REFERRAL_PRIVACY_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "gtest/gtest.h"
#include "services/referral/access.h"
#include "services/referral/broker_fixture.h"

namespace referral::broker {

// Investigators: the procuratorate (a directory node) and the supervision
// commission (an identity the directory does not know). The auditor is the
// discipline inspection commission.
inline constexpr char kInvestigator[] = "qinzhou.procuratorate";
inline constexpr char kSupervision[] = "qinzhou.supervision";
inline constexpr char kAuditor[] = "qinzhou.discipline";

// Valid ID numbers (ISO 7064 MOD 11-2 check digits), and one with a wrong
// check digit.
inline constexpr char kWorkerId[] = "620502199003071610";
inline constexpr char kOtherWorkerId[] = "620502198511200023";
inline constexpr char kIdWithX[] = "11010519491231002X";
inline constexpr char kBadCheckDigit[] = "620502199003071611";
inline constexpr char kWorkerPhone[] = "13912345678";

class PrivacyBrokerTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    auto access = AccessList::Of({kInvestigator, kSupervision}, {kAuditor});
    ASSERT_TRUE(access.ok()) << access.status();
    options_.access = *access;
    options_.search_key = std::string(32, 'k');
    options_.clock = [this] { return now_; };
    now_ = absl::FromCivil(absl::CivilMinute(2026, 3, 2, 9, 0), absl::UTCTimeZone());
    Restart();
  }

  // A fresh broker on the same store (its search index is rebuilt).
  void Restart() {
    broker_ = std::make_unique<Broker>(&log_, local_directory_.get(), options_);
  }

  // A case with one named worker (phone and ID number), the worker group
  // and an employer.
  v1::OpenCaseRequest WorkerCaseRequest(const std::string& worker = "张三",
                                        const std::string& id_number = kWorkerId) {
    v1::OpenCaseRequest r = CaseRequest();
    v1::Party* w = r.add_parties();
    w->set_role(v1::PARTY_ROLE_WORKER);
    w->set_name(worker);
    w->set_contact(kWorkerPhone);
    w->set_id_number(id_number);
    v1::Party* e = r.add_parties();
    e->set_role(v1::PARTY_ROLE_EMPLOYER);
    e->set_name("Tianshui Hongda Construction Co.");
    r.set_project("Yuquan Garden phase II");
    return r;
  }

  std::string OpenWorkerCase(const std::string& owner = kJustice,
                             const std::string& worker = "张三",
                             const std::string& id_number = kWorkerId) {
    auto c = broker_->OpenCase(owner, WorkerCaseRequest(worker, id_number));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->case_id() : "";
  }

  // The events of a stream; empty when it has none.
  std::vector<v1::Event> Stream(const std::string& stream) {
    auto events = log_.ReadCase(stream);
    if (!events.ok()) {
      EXPECT_EQ(ViewError(events.status()).reason, "CASE_NOT_FOUND") << events.status();
      return {};
    }
    return *events;
  }
  std::vector<v1::Event> Audit(const std::string& case_id) {
    return Stream("audit:" + case_id);
  }

  v1::GetCaseRequest Get(const std::string& case_id, const std::string& purpose = "") {
    v1::GetCaseRequest r;
    r.set_case_id(case_id);
    r.set_purpose(purpose);
    return r;
  }
  v1::TraceCaseRequest Trace(const std::string& case_id, const std::string& purpose = "") {
    v1::TraceCaseRequest r;
    r.set_case_id(case_id);
    r.set_purpose(purpose);
    return r;
  }

  // The worker party as `reader` sees it in GetCase.
  v1::Party WorkerAs(const std::string& reader, const std::string& case_id) {
    auto c = broker_->GetCase(reader, case_id);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return {};
    for (const v1::Party& p : c->opened().parties()) {
      if (p.role() == v1::PARTY_ROLE_WORKER) return p;
    }
    ADD_FAILURE() << "no worker party in " << case_id;
    return {};
  }

  BrokerOptions options_;
  absl::Time now_;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_PRIVACY_FIXTURE_H_
