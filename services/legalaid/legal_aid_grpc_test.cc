// LegalAidService end to end over real gRPC: the caselog, directory,
// referral and legal-aid services on loopback ports in one process, the
// legal-aid service reaching the case log and the directory over gRPC as in
// production. Plaintext: nodes are named by call metadata.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cpp/caselog_client.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/caselog/caselog_grpc_service.h"
#include "services/deadlines/calendar.h"
#include "services/directory/directory_grpc_service.h"
#include "services/legalaid/legal_aid_grpc_service.h"
#include "services/referral/grpc_ports.h"
#include "services/referral/referral_grpc_service.h"
#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"
#include "tests/integration/caselog_fixture.h"

namespace referral {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kLabor[] = "qinzhou.labor-inspection";

std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }

// The four services, each behind its own ServiceHost.
class LegalAidSystem {
 public:
  LegalAidSystem() : dir_(testing::FreshDir("legalaid_system")) {
    auto d = directory::Directory::LoadFile(QINZHOU_TOML);
    EXPECT_TRUE(d.ok()) << d.status();
    directory_ = std::make_unique<directory::Directory>(std::move(*d));

    storage::EventStoreOptions o;
    o.path = (dir_ / "caselog").string();
    auto store = storage::EventStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status();
    caselog_core_.Attach(std::move(*store));
    caselog_host_ = Host(&caselog_service_);
    directory_service_ = std::make_unique<directory::DirectoryGrpcService>(directory_.get());
    directory_host_ = Host(directory_service_.get());

    referral_ = Backend();
    broker_ = std::make_unique<broker::Broker>(referral_->log(), referral_->directory());
    referral_service_ = std::make_unique<broker::ReferralGrpcService>(
        broker_.get(), referral_->caselog_channel());
    referral_host_ = Host(referral_service_.get());

    legal_aid_backend_ = Backend();
    legal_aid_ = std::make_unique<legalaid::LegalAid>(
        legal_aid_backend_->log(), legal_aid_backend_->directory(), &calendar_);
    legal_aid_service_ = std::make_unique<legalaid::LegalAidGrpcService>(legal_aid_.get());
    legal_aid_host_ = Host(legal_aid_service_.get());
  }
  ~LegalAidSystem() {
    for (auto* h : {&legal_aid_host_, &referral_host_, &directory_host_, &caselog_host_}) {
      if (*h) (*h)->Shutdown(absl::ZeroDuration());
    }
    caselog_core_.Detach().reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<v1::LegalAidService::Stub> LegalAid() const {
    return v1::LegalAidService::NewStub(Channel(legal_aid_host_->port()));
  }
  std::unique_ptr<v1::ReferralService::Stub> Referral() const {
    return v1::ReferralService::NewStub(Channel(referral_host_->port()));
  }
  // A context acting as `node` (plaintext: the x-referral-node metadata).
  std::unique_ptr<grpc::ClientContext> ContextFor(const std::string& node) const {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ActAs(c.get(), node);
    return c;
  }

 private:
  // A service's own clients of the case log and the directory, as its
  // main() wires them.
  std::unique_ptr<broker::RemotePorts> Backend() const {
    auto ports = broker::RemotePorts::Connect(Address(caselog_host_->port()),
                                              directory_host_->address(), std::nullopt);
    EXPECT_TRUE(ports.ok()) << ports.status();
    return ports.ok() ? std::move(*ports) : nullptr;
  }

  std::shared_ptr<grpc::Channel> Channel(int port) const {
    auto creds = ChannelCredentialsFor(std::nullopt);
    EXPECT_TRUE(creds.ok()) << creds.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(Address(port), *creds, args);
  }

  std::unique_ptr<ServiceHost> Host(grpc::Service* service) {
    ServiceHostOptions o;
    o.listen = "127.0.0.1:0";
    auto h = ServiceHost::Start(o, {service});
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) return nullptr;
    (*h)->SetServing(true);
    return std::move(*h);
  }

  std::filesystem::path dir_;
  std::unique_ptr<directory::Directory> directory_;
  caselog::CaseLog caselog_core_;
  caselog::CaseLogGrpcService caselog_service_{&caselog_core_};
  std::unique_ptr<ServiceHost> caselog_host_;
  std::unique_ptr<directory::DirectoryGrpcService> directory_service_;
  std::unique_ptr<ServiceHost> directory_host_;
  std::unique_ptr<broker::RemotePorts> referral_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<broker::ReferralGrpcService> referral_service_;
  std::unique_ptr<ServiceHost> referral_host_;
  deadlines::Calendar calendar_;
  std::unique_ptr<broker::RemotePorts> legal_aid_backend_;
  std::unique_ptr<legalaid::LegalAid> legal_aid_;
  std::unique_ptr<legalaid::LegalAidGrpcService> legal_aid_service_;
  std::unique_ptr<ServiceHost> legal_aid_host_;
};

// Calls LegalAidService `Method` as `node`.
#define LEGAL_AID(system, node, Method, request, response)            \
  FromGrpcStatus((system).LegalAid()->Method(                         \
      (system).ContextFor(node).get(), (request), (response)))

std::string OpenCase(LegalAidSystem& s, const std::string& request_id) {
  v1::OpenCaseRequest req;
  req.set_request_id(request_id);
  req.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
  req.set_title("工地受伤");
  req.set_matter(v1::MATTER_WORK_INJURY);
  v1::OpenCaseResponse resp;
  absl::Status st =
      FromGrpcStatus(s.Referral()->OpenCase(s.ContextFor(kJustice).get(), req, &resp));
  EXPECT_THAT(st, IsOk());
  return resp.case_().case_id();
}

void Enrol(LegalAidSystem& s, const std::string& id, const std::string& request_id) {
  v1::EnrolLawyerRequest r;
  r.set_request_id(request_id);
  r.mutable_lawyer()->set_lawyer_id(id);
  r.mutable_lawyer()->set_name(absl::StrCat("律师 ", id));
  r.mutable_lawyer()->set_firm("天水某律师事务所");
  r.mutable_lawyer()->add_specialties(v1::MATTER_WAGE_ARREARS);
  r.mutable_lawyer()->add_specialties(v1::MATTER_WORK_INJURY);
  r.mutable_lawyer()->set_capacity(5);
  v1::EnrolLawyerResponse resp;
  ASSERT_THAT(LEGAL_AID(s, kJustice, EnrolLawyer, r, &resp), IsOk());
  EXPECT_EQ(resp.lawyer().justice_node(), kJustice);
}

TEST(LegalAidGrpc, GreenChannelApplicationIsReviewedAndAssignedPastTheBarredLawyer) {
  LegalAidSystem s;
  Enrol(s, "L-001", "enrol-1");
  Enrol(s, "L-002", "enrol-2");
  v1::EvaluateLawyerRequest evaluate;
  evaluate.set_request_id("evaluate-1");
  evaluate.set_lawyer_id("L-001");
  evaluate.mutable_evaluation()->set_kind(v1::EVALUATION_KIND_EXPERT_REVIEW);
  evaluate.mutable_evaluation()->set_score(52);
  evaluate.mutable_evaluation()->set_note("案卷评估不合格");
  v1::EvaluateLawyerResponse evaluated;
  ASSERT_THAT(LEGAL_AID(s, kJustice, EvaluateLawyer, evaluate, &evaluated), IsOk());
  EXPECT_TRUE(evaluated.lawyer().barred());

  const std::string case_id = OpenCase(s, "open-1");
  v1::ApplyForLegalAidRequest apply;
  apply.set_request_id("apply-1");
  apply.set_case_id(case_id);
  apply.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
  apply.mutable_applicant()->set_name("工人代表");
  apply.set_migrant_worker(true);  // the matter is the case's: work injury
  v1::ApplyForLegalAidResponse applied;
  ASSERT_THAT(LEGAL_AID(s, kJustice, ApplyForLegalAid, apply, &applied), IsOk());
  const std::string app = applied.application().application_id();
  EXPECT_EQ(app, case_id + "/a1");
  EXPECT_TRUE(applied.application().green_channel());
  EXPECT_TRUE(applied.application().hardship_review_waived());
  EXPECT_TRUE(applied.application().has_assign_due_time());

  v1::ReviewApplicationRequest review;
  review.set_request_id("review-1");
  review.set_application_id(app);
  review.set_approved(true);
  v1::ReviewApplicationResponse reviewed;
  ASSERT_THAT(LEGAL_AID(s, kJustice, ReviewApplication, review, &reviewed), IsOk());

  // The barred lawyer, asked for by name, is refused with the reason on the wire.
  v1::AssignLawyerRequest assign;
  assign.set_request_id("assign-1");
  assign.set_application_id(app);
  assign.set_lawyer_id("L-001");
  v1::AssignLawyerResponse assigned;
  absl::Status refused = LEGAL_AID(s, kJustice, AssignLawyer, assign, &assigned);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(refused, HasReason("NO_ELIGIBLE_LAWYER"));
  EXPECT_EQ(ViewError(refused).metadata["gate"], "barred");
  EXPECT_FALSE(ViewError(refused).zh_message.empty());

  assign.set_request_id("assign-2");
  assign.clear_lawyer_id();
  ASSERT_THAT(LEGAL_AID(s, kJustice, AssignLawyer, assign, &assigned), IsOk());
  EXPECT_EQ(assigned.application().lawyer_id(), "L-002");
  EXPECT_EQ(assigned.application().state(), v1::LEGAL_AID_STATE_ASSIGNED);
  EXPECT_EQ(assigned.lawyer().active_cases(), 1);
  // A retry over the wire answers alike.
  v1::AssignLawyerResponse again;
  ASSERT_THAT(LEGAL_AID(s, kJustice, AssignLawyer, assign, &again), IsOk());
  EXPECT_EQ(again.application().lawyer_id(), "L-002");
  EXPECT_EQ(again.lawyer().active_cases(), 1);

  v1::ListApplicationsResponse queue;
  ASSERT_THAT(LEGAL_AID(s, kJustice, ListApplications, v1::ListApplicationsRequest(), &queue),
              IsOk());
  ASSERT_EQ(queue.applications_size(), 1);
  EXPECT_EQ(queue.applications(0).application_id(), app);

  v1::ListLawyersResponse roster;
  ASSERT_THAT(LEGAL_AID(s, kLabor, ListLawyers,
                        [] {
                          v1::ListLawyersRequest r;
                          r.set_justice_node(kJustice);
                          return r;
                        }(),
                        &roster),
              IsOk());
  ASSERT_EQ(roster.lawyers_size(), 2);
  EXPECT_EQ(roster.lawyers(0).lawyer_id(), "L-001");
  EXPECT_TRUE(roster.lawyers(0).barred());
}

TEST(LegalAidGrpc, TheCallerComesFromTheCallAndBadInputGetsAFieldViolation) {
  LegalAidSystem s;
  const std::string case_id = OpenCase(s, "open-1");
  v1::ApplyForLegalAidRequest apply;
  apply.set_request_id("apply-1");
  apply.set_case_id(case_id);
  apply.set_channel(v1::INTAKE_CHANNEL_WALK_IN);
  apply.mutable_applicant()->set_name("工人代表");
  v1::ApplyForLegalAidResponse applied;
  absl::Status st = LEGAL_AID(s, kLabor, ApplyForLegalAid, apply, &applied);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(st, HasReason("NOT_ALLOWED_FOR_ROLE"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("justice"));

  apply.mutable_applicant()->clear_name();
  st = LEGAL_AID(s, kJustice, ApplyForLegalAid, apply, &applied);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ViewError(st).field, "applicant.name");

  // No node named at all: refused before the core.
  grpc::ClientContext anonymous;
  anonymous.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetApplicationRequest get;
  get.set_application_id(case_id + "/a1");
  v1::GetApplicationResponse got;
  st = FromGrpcStatus(s.LegalAid()->GetApplication(&anonymous, get, &got));
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace referral
