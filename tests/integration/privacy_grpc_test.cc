// Investigators, auditors, masking and search over real gRPC with mTLS: the
// broker in front of the caselog and directory services on loopback, every
// identity named by its certificate (tools/pki.sh), investigators and the
// auditor among them though the directory does not know two of them.

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/referral/access.h"
#include "services/referral/search_index.h"
#include "services/runtime/grpc_status.h"
#include "tests/integration/referral_fixture.h"
#include "tests/integration/run_command.h"

namespace referral {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::ReferralSystem;
using ::referral::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kLabor[] = "qinzhou.labor-inspection";
constexpr char kArbitration[] = "qinzhou.arbitration";
constexpr char kProcuratorate[] = "qinzhou.procuratorate";
constexpr char kSupervision[] = "qinzhou.supervision";  // not in the directory
constexpr char kDiscipline[] = "qinzhou.discipline";    // not in the directory
constexpr char kWorkerId[] = "620502199003071610";
constexpr char kMaskedId[] = "620*************10";
constexpr char kPurpose[] = "秦检民监〔2026〕17号";

#define CALL(system, node, Method, request, response) \
  FromGrpcStatus((system).StubFor(node)->Method(       \
      (system).ContextFor(node).get(), (request), (response)))

class PrivacyGrpc : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(absl::StrCat(::testing::TempDir(), "/privacy_grpc_", getpid()));
    auto [code, out] = ::referral::testing::RunCommand(absl::StrCat(
        PKI_SCRIPT, " ", *dir_, "/pki caselog directory referral ", kJustice, " ", kLabor,
        " ", kArbitration, " ", kProcuratorate, " ", kSupervision, " ", kDiscipline));
    ASSERT_EQ(code, 0) << out;
    std::ofstream(*dir_ + "/access.toml")
        << "investigators = [\"" << kProcuratorate << "\", \"" << kSupervision << "\"]\n"
        << "auditors = [\"" << kDiscipline << "\"]\n";
    std::ofstream(*dir_ + "/search.key", std::ios::binary) << std::string(32, '\x5a');
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // The broker as main() configures it from --access and --search_key.
  static broker::BrokerOptions Options() {
    broker::BrokerOptions o;
    auto access = broker::AccessList::FromFile(*dir_ + "/access.toml");
    EXPECT_TRUE(access.ok()) << access.status();
    if (access.ok()) o.access = *access;
    auto key = broker::SearchIndex::ReadKeyFile(*dir_ + "/search.key");
    EXPECT_TRUE(key.ok()) << key.status();
    if (key.ok()) o.search_key = *key;
    return o;
  }

  static v1::OpenCaseRequest WorkerCase(const std::string& request_id,
                                        const std::string& id_number) {
    v1::OpenCaseRequest r;
    r.set_request_id(request_id);
    r.set_channel(v1::INTAKE_CHANNEL_WALK_IN);
    r.set_title("a worker owed wages");
    r.set_matter(v1::MATTER_WAGE_ARREARS);
    r.set_project("Yuquan Garden phase II");
    v1::Party* w = r.add_parties();
    w->set_role(v1::PARTY_ROLE_WORKER);
    w->set_name("张三");
    w->set_contact("13912345678");
    w->set_id_number(id_number);
    return r;
  }

  static std::string* dir_;
};
std::string* PrivacyGrpc::dir_ = nullptr;

TEST_F(PrivacyGrpc, InvestigatorsTraceAuditorsReadTheRecordAndPartiesSeeMasks) {
  ReferralSystem s(*dir_ + "/pki", Options());

  // A bad ID number: the field, how to fix it, and nothing written.
  v1::OpenCaseResponse opened;
  absl::Status bad =
      CALL(s, kJustice, OpenCase, WorkerCase("open-bad", "620502199003071611"), &opened);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ViewError(bad).field, "parties[0].id_number");
  EXPECT_THAT(std::string(bad.message()), HasSubstr("check digit"));
  v1::ListCasesResponse listed;
  ASSERT_THAT(CALL(s, kJustice, ListCases, v1::ListCasesRequest(), &listed), IsOk());
  EXPECT_EQ(listed.cases_size(), 0);

  ASSERT_THAT(CALL(s, kJustice, OpenCase, WorkerCase("open-1", kWorkerId), &opened), IsOk());
  const std::string case_id = opened.case_().case_id();
  v1::SendReferralRequest send;
  send.set_request_id("send-1");
  send.set_case_id(case_id);
  send.set_to_node(kLabor);
  send.set_purpose("order the contractor to pay");
  v1::SendReferralResponse sent;
  ASSERT_THAT(CALL(s, kJustice, SendReferral, send, &sent), IsOk());

  // The addressee has not accepted: it sees the case masked.
  v1::GetCaseRequest get;
  get.set_case_id(case_id);
  v1::GetCaseResponse got;
  ASSERT_THAT(CALL(s, kLabor, GetCase, get, &got), IsOk());
  EXPECT_EQ(got.case_().opened().parties(0).id_number(), kMaskedId);
  EXPECT_EQ(got.case_().opened().parties(0).contact(), "139****5678");

  // Neither party nor investigator: refused, purpose or not.
  get.set_purpose(kPurpose);
  EXPECT_THAT(CALL(s, kArbitration, GetCase, get, &got), HasReason("NOT_A_PARTY"));
  // An investigator must say why.
  v1::TraceCaseRequest trace;
  trace.set_case_id(case_id);
  v1::TraceCaseResponse traced;
  absl::Status no_purpose = CALL(s, kProcuratorate, TraceCase, trace, &traced);
  EXPECT_THAT(no_purpose, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ViewError(no_purpose).field, "purpose");
  // With a purpose it sees everything in clear; so does the supervision
  // commission, an identity the directory does not know.
  trace.set_purpose(kPurpose);
  ASSERT_THAT(CALL(s, kProcuratorate, TraceCase, trace, &traced), IsOk());
  EXPECT_EQ(traced.events(0).case_opened().parties(0).id_number(), kWorkerId);
  ASSERT_THAT(CALL(s, kSupervision, GetCase, get, &got), IsOk());
  EXPECT_EQ(got.case_().opened().parties(0).id_number(), kWorkerId);

  // Search by ID number: the owner finds its case, masked; an investigator
  // with a purpose finds it too, and that is recorded.
  v1::SearchCasesRequest search;
  search.set_worker_id_number(kWorkerId);
  v1::SearchCasesResponse found;
  ASSERT_THAT(CALL(s, kJustice, SearchCases, search, &found), IsOk());
  ASSERT_EQ(found.cases_size(), 1);
  EXPECT_EQ(found.cases(0).opened().parties(0).id_number(), kMaskedId);
  ASSERT_THAT(CALL(s, kArbitration, SearchCases, search, &found), IsOk());
  EXPECT_EQ(found.cases_size(), 0);
  search.set_purpose(kPurpose);
  ASSERT_THAT(CALL(s, kProcuratorate, SearchCases, search, &found), IsOk());
  ASSERT_EQ(found.cases_size(), 1);

  // The auditor reads the case's record...
  v1::ListAuditEventsRequest by_case;
  by_case.set_case_id(case_id);
  v1::ListAuditEventsResponse audit;
  ASSERT_THAT(CALL(s, kDiscipline, ListAuditEvents, by_case, &audit), IsOk());
  std::vector<std::string> record;
  for (const v1::Event& e : audit.events()) {
    record.push_back(absl::StrCat(e.source(), " ", e.type()));
  }
  EXPECT_THAT(record,
              ElementsAre("qinzhou.procuratorate referral.v1.CaseTracedByInvestigator",
                          "qinzhou.procuratorate referral.v1.PersonalDataAccessed",
                          "qinzhou.supervision referral.v1.CaseTracedByInvestigator",
                          "qinzhou.supervision referral.v1.PersonalDataAccessed"));
  // ... and one investigator's, searches included.
  v1::ListAuditEventsRequest by_accessor;
  by_accessor.set_accessor(kProcuratorate);
  ASSERT_THAT(CALL(s, kDiscipline, ListAuditEvents, by_accessor, &audit), IsOk());
  ASSERT_EQ(audit.events_size(), 3);
  EXPECT_EQ(audit.events(2).cases_searched_by_investigator().criteria(),
            absl::StrCat("worker_id_number=", kMaskedId));

  // Investigators do not read their own record; a certificate cannot be
  // talked out of its name by metadata.
  absl::Status refused = CALL(s, kProcuratorate, ListAuditEvents, by_case, &audit);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("qinzhou.discipline"));
  auto context = s.ContextFor(kSupervision);
  ActAs(context.get(), kDiscipline);
  EXPECT_THAT(FromGrpcStatus(
                  s.StubFor(kSupervision)->ListAuditEvents(context.get(), by_case, &audit)),
              HasReason("NOT_ALLOWED_FOR_ROLE"));

  // The case's parties learn nothing: their case stream and their inboxes
  // hold no trace of it.
  v1::TraceCaseRequest own;
  own.set_case_id(case_id);
  ASSERT_THAT(CALL(s, kJustice, TraceCase, own, &traced), IsOk());
  for (const v1::Event& e : traced.events()) {
    EXPECT_NE(e.source(), kProcuratorate);
    EXPECT_NE(e.source(), kSupervision);
  }
  v1::GetBacklogResponse backlog;
  ASSERT_THAT(CALL(s, kJustice, GetBacklog, v1::GetBacklogRequest(), &backlog), IsOk());
  ASSERT_THAT(CALL(s, kLabor, GetBacklog, v1::GetBacklogRequest(), &backlog), IsOk());
  EXPECT_EQ(backlog.unacknowledged(), 1u);  // only the referral
}

}  // namespace
}  // namespace referral
