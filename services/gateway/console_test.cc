// The console core over hand-written fake ports: the HTTP error table, the
// node check, how query parameters and bodies become requests, the inbox's
// rule, and the dashboard's arithmetic on fixed inputs. The case search runs
// against the real referral service instead (caselog on disk, directory and
// broker on loopback ports, reached through the gateway's own gRPC ports):
// what it finds, and which bad input the service refuses and how, is the
// service's answer, not a fake's. What a person sees in the browser is the
// end-to-end test's job (tests/e2e/).

#include "services/gateway/console.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/refctl/units.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "common/timestamps.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/gateway/dashboard.h"
#include "services/gateway/grpc_ports.h"
#include "services/runtime/grpc_status.h"
#include "tests/integration/referral_fixture.h"

namespace referral::gateway {
namespace {

using json = nlohmann::json;
using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kInspection[] = "qinzhou.labor-inspection";
constexpr char kHousing[] = "qinzhou.housing";
constexpr char kCase[] = "qinzhou.justice:2026-000001";
constexpr char kReferral[] = "qinzhou.justice:2026-000001/r1";

google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}
const absl::Time kT0 = absl::FromUnixSeconds(1'790'000'000);

v1::Referral Ref(std::string id, std::string from, std::string to, v1::ReferralState state,
                 absl::Time created = kT0) {
  v1::Referral r;
  r.set_referral_id(id);
  r.set_case_id(id.substr(0, id.rfind('/')));
  r.set_from_node(std::move(from));
  r.set_to_node(std::move(to));
  r.set_state(state);
  *r.mutable_create_time() = At(created);
  return r;
}

v1::Event Requested(const std::string& referral, const std::string& to, absl::Time t) {
  v1::Event e;
  e.set_source(kJustice);
  e.set_subject(referral.substr(0, referral.rfind('/')));
  *e.mutable_time() = At(t);
  e.mutable_referral_requested()->set_referral_id(referral);
  e.mutable_referral_requested()->set_to_node(to);
  return e;
}

v1::Event Accepted(const std::string& referral, absl::Time t) {
  v1::Event e;
  e.set_source(kInspection);
  *e.mutable_time() = At(t);
  e.mutable_referral_accepted()->set_referral_id(referral);
  return e;
}

// ------------------------------------------------------------- fake ports

// Answers from fields the test sets; records the last request of each kind.
class FakeReferral final : public ReferralPort {
 public:
  absl::Status error;  // when set, every call fails with it
  int calls = 0;
  std::string last_node;
  v1::ListCasesRequest list_cases;
  std::vector<v1::ListReferralsRequest> list_referrals;
  v1::ReceiveReferralRequest receive;
  v1::AcceptReferralRequest accept;
  std::vector<v1::Referral> referrals;
  std::vector<v1::Event> events;
  v1::GetBacklogResponse backlog;

  absl::StatusOr<v1::ListCasesResponse> ListCases(absl::string_view node,
                                                  const v1::ListCasesRequest& r) override {
    RETURN_IF_ERROR(Called(node));
    list_cases = r;
    return v1::ListCasesResponse();
  }
  absl::StatusOr<v1::SearchCasesResponse> SearchCases(absl::string_view node,
                                                      const v1::SearchCasesRequest&) override {
    RETURN_IF_ERROR(Called(node));
    return absl::UnimplementedError("the search is tested against the real service below");
  }
  absl::StatusOr<v1::GetCaseResponse> GetCase(absl::string_view node,
                                              const v1::GetCaseRequest& r) override {
    RETURN_IF_ERROR(Called(node));
    v1::GetCaseResponse out;
    out.mutable_case_()->set_case_id(r.case_id());
    return out;
  }
  absl::StatusOr<v1::TraceCaseResponse> TraceCase(absl::string_view node,
                                                  const v1::TraceCaseRequest& r) override {
    RETURN_IF_ERROR(Called(node));
    v1::TraceCaseResponse out;
    for (const auto& e : events) *out.add_events() = e;
    return out;
  }
  absl::StatusOr<v1::ListReferralsResponse> ListReferrals(
      absl::string_view node, const v1::ListReferralsRequest& r) override {
    RETURN_IF_ERROR(Called(node));
    list_referrals.push_back(r);
    v1::ListReferralsResponse out;
    for (const auto& ref : referrals) {
      bool sent = ref.from_node() == node, received = ref.to_node() == node;
      if (r.role() == v1::REFERRAL_ROLE_RECEIVED && !received) continue;
      if (r.role() == v1::REFERRAL_ROLE_SENT && !sent) continue;
      if (r.state() != v1::REFERRAL_STATE_UNSPECIFIED && ref.state() != r.state()) continue;
      *out.add_referrals() = ref;
    }
    return out;
  }
  absl::StatusOr<v1::GetBacklogResponse> GetBacklog(absl::string_view node,
                                                    const v1::GetBacklogRequest&) override {
    RETURN_IF_ERROR(Called(node));
    return backlog;
  }
  absl::StatusOr<v1::ReceiveReferralResponse> ReceiveReferral(
      absl::string_view node, const v1::ReceiveReferralRequest& r) override {
    RETURN_IF_ERROR(Called(node));
    receive = r;
    v1::ReceiveReferralResponse out;
    *out.mutable_referral() = Ref(r.referral_id(), kJustice, std::string(node),
                                  v1::REFERRAL_STATE_RECEIVED);
    return out;
  }
  absl::StatusOr<v1::AcceptReferralResponse> AcceptReferral(
      absl::string_view node, const v1::AcceptReferralRequest& r) override {
    RETURN_IF_ERROR(Called(node));
    accept = r;
    v1::AcceptReferralResponse out;
    *out.mutable_referral() = Ref(r.referral_id(), kJustice, std::string(node),
                                  v1::REFERRAL_STATE_ACCEPTED);
    return out;
  }

 private:
  absl::Status Called(absl::string_view node) {
    ++calls;
    last_node = std::string(node);
    return error;
  }
};

class FakeDeadlines final : public DeadlinePort {
 public:
  absl::Status error;
  std::vector<v1::Deadline> deadlines;
  absl::StatusOr<v1::ListDeadlinesResponse> ListDeadlines(
      absl::string_view, const v1::ListDeadlinesRequest& r) override {
    if (!error.ok()) return error;
    EXPECT_TRUE(r.overdue_only());
    v1::ListDeadlinesResponse out;
    for (const auto& d : deadlines) *out.add_deadlines() = d;
    return out;
  }
};

class ConsoleTest : public ::testing::Test {
 protected:
  ConsoleTest() { Make(); }

  void Make() {
    ConsoleOptions options;
    options.nodes = {kJustice, kInspection};
    options.new_request_id = [] { return std::string("console-test-1"); };
    ConsolePorts ports;
    ports.referral = &referral_;
    ports.deadlines = with_deadlines_ ? &deadlines_ : nullptr;
    console_ = std::make_unique<Console>(options, ports);
  }

  ApiResponse Get(std::string path, std::string node = kInspection,
                  std::map<std::string, std::string> query = {}) {
    return console_->Handle({"GET", std::move(path), std::move(query), "", std::move(node)});
  }
  ApiResponse Post(std::string path, std::string body, std::string node = kInspection) {
    return console_->Handle({"POST", std::move(path), {}, std::move(body), std::move(node)});
  }
  static json Body(const ApiResponse& r) { return json::parse(r.body); }

  FakeReferral referral_;
  FakeDeadlines deadlines_;
  bool with_deadlines_ = true;
  std::unique_ptr<Console> console_;
};

// ------------------------------------------------------ the error table

struct TableRow {
  absl::StatusCode code;
  int http;
};

class HttpErrorTableTest : public ::testing::TestWithParam<TableRow> {};

TEST_P(HttpErrorTableTest, MapsTheCodeToItsHttpStatus) {
  EXPECT_EQ(HttpStatusOf(GetParam().code), GetParam().http)
      << absl::StatusCodeToString(GetParam().code);
}

INSTANTIATE_TEST_SUITE_P(
    EveryRow, HttpErrorTableTest,
    ::testing::Values(TableRow{absl::StatusCode::kInvalidArgument, 400},
                      TableRow{absl::StatusCode::kNotFound, 404},
                      TableRow{absl::StatusCode::kPermissionDenied, 403},
                      TableRow{absl::StatusCode::kUnauthenticated, 401},
                      TableRow{absl::StatusCode::kFailedPrecondition, 409},
                      TableRow{absl::StatusCode::kAlreadyExists, 409},
                      TableRow{absl::StatusCode::kAborted, 409},
                      TableRow{absl::StatusCode::kUnavailable, 503},
                      TableRow{absl::StatusCode::kDeadlineExceeded, 504},
                      // Everything else is 500.
                      TableRow{absl::StatusCode::kInternal, 500},
                      TableRow{absl::StatusCode::kDataLoss, 500},
                      TableRow{absl::StatusCode::kUnknown, 500},
                      TableRow{absl::StatusCode::kResourceExhausted, 500}));

TEST(HttpErrorTable, EveryRowHasASentenceForPeople) {
  for (const HttpErrorRow& row : HttpErrorTable()) {
    EXPECT_FALSE(row.zh.empty()) << absl::StatusCodeToString(row.code);
  }
}

TEST(ErrorJson, CarriesTheDomainReasonAndTheChineseMessage) {
  json e = json::parse(ErrorJson(MakeError(ErrorReason::kNotAParty, "not party to case c",
                                           "贵机构不是本案当事方")))["error"];
  EXPECT_EQ(e["code"], "PERMISSION_DENIED");
  EXPECT_EQ(e["reason"], "NOT_A_PARTY");
  EXPECT_EQ(e["message"], "not party to case c");
  EXPECT_EQ(e["message_zh"], "贵机构不是本案当事方");
}

TEST(ErrorJson, AStatusWithoutDetailsGetsTheCodeAsReasonAndTheTablesSentence) {
  json e = json::parse(ErrorJson(absl::UnavailableError("connection refused")))["error"];
  EXPECT_EQ(e["code"], "UNAVAILABLE");
  EXPECT_EQ(e["reason"], "UNAVAILABLE");
  EXPECT_THAT(e["message_zh"].get<std::string>(), HasSubstr("./dev up"));
}

TEST_F(ConsoleTest, AServiceErrorBecomesItsHttpStatusWithItsReason) {
  referral_.error = MakeError(ErrorReason::kNotAParty, "not party", "贵机构不是本案当事方");
  ApiResponse r = Get(std::string("/api/v1/cases/") + kCase);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Body(r)["error"]["reason"], "NOT_A_PARTY");
  EXPECT_EQ(Body(r)["error"]["message_zh"], "贵机构不是本案当事方");
}

// ------------------------------------------------------------ the node

TEST_F(ConsoleTest, ARequestActsAsTheNodeItNames) {
  ASSERT_EQ(Get("/api/v1/cases", kJustice).status, 200);
  EXPECT_EQ(referral_.last_node, kJustice);
  ASSERT_EQ(Get("/api/v1/cases", kInspection).status, 200);
  EXPECT_EQ(referral_.last_node, kInspection);
}

TEST_F(ConsoleTest, ARequestNamingNoNodeIsUnauthenticated) {
  ApiResponse r = Get("/api/v1/cases", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r)["error"]["reason"], "UNAUTHENTICATED");
  EXPECT_EQ(referral_.calls, 0);
}

TEST_F(ConsoleTest, ANodeTheConsoleWasNotStartedForIsForbiddenAndNothingIsCalled) {
  for (std::string path : {"/api/v1/cases", "/api/v1/inbox", "/api/v1/dashboard"}) {
    ApiResponse r = Get(path, kHousing);
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_EQ(Body(r)["error"]["reason"], "NODE_NOT_SERVED") << path;
    EXPECT_THAT(Body(r)["error"]["message"].get<std::string>(), HasSubstr(kInspection));
  }
  EXPECT_EQ(Post(std::string("/api/v1/referrals/") + kReferral + ":receive", "{}", kHousing).status,
            403);
  EXPECT_EQ(Post("/api/v1/cases:search", "{}", kHousing).status, 403);
  EXPECT_EQ(Post("/api/v1/cases:search", "{}", "").status, 401);
  EXPECT_EQ(referral_.calls, 0);
  EXPECT_FALSE(console_->Serves(kHousing));
  EXPECT_TRUE(console_->Serves(kJustice));
}

TEST_F(ConsoleTest, NodesAndVocabularyNeedNoNode) {
  ApiResponse nodes = Get("/api/v1/nodes", "");
  ASSERT_EQ(nodes.status, 200);
  EXPECT_EQ(Body(nodes)["nodes"][0]["name"], kJustice);
  EXPECT_EQ(Body(nodes)["nodes"][1]["name"], kInspection);
  ApiResponse vocab = Get("/api/v1/vocabulary", "");
  ASSERT_EQ(vocab.status, 200);
  EXPECT_EQ(Body(vocab)["referral_states"]["REFERRAL_STATE_RECEIVED"]["zh"], "已签收");
  EXPECT_EQ(Body(vocab)["events"]["ReferralRequested"]["zh"], "转出");
}

TEST_F(ConsoleTest, AnUnknownRouteIsNotFound) {
  EXPECT_EQ(Get("/api/v1/nowhere").status, 404);
  EXPECT_EQ(Get(std::string("/api/v1/referrals/") + kReferral + ":receive").status, 404);
  EXPECT_EQ(Post(std::string("/api/v1/referrals/") + kReferral + ":approve", "{}").status, 404);
}

// ------------------------------------------- query parameters and bodies

TEST_F(ConsoleTest, QueryParametersFillTheRequestByFieldName) {
  ASSERT_EQ(Get("/api/v1/cases", kInspection, {{"page_size", "5"}}).status, 200);
  EXPECT_EQ(referral_.list_cases.page_size(), 5);
  ASSERT_EQ(Get("/api/v1/referrals", kInspection,
                {{"role", "REFERRAL_ROLE_RECEIVED"}, {"state", "REFERRAL_STATE_REQUESTED"}})
                .status,
            200);
  EXPECT_EQ(referral_.list_referrals.back().role(), v1::REFERRAL_ROLE_RECEIVED);
  EXPECT_EQ(referral_.list_referrals.back().state(), v1::REFERRAL_STATE_REQUESTED);
}

TEST_F(ConsoleTest, AParameterTheRequestHasNoFieldForIsRefusedNamingTheOnesItHas) {
  ApiResponse r = Get("/api/v1/referrals", kInspection, {{"sate", "REFERRAL_STATE_REQUESTED"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error"]["reason"], "INVALID_FIELD");
  EXPECT_EQ(Body(r)["error"]["field"], "sate");
  EXPECT_THAT(Body(r)["error"]["message"].get<std::string>(), HasSubstr("role, state, page_size"));
  EXPECT_EQ(Get("/api/v1/cases", kInspection, {{"page_size", "many"}}).status, 400);
  EXPECT_EQ(Get("/api/v1/inbox", kInspection, {{"x", "1"}}).status, 400);
  EXPECT_EQ(referral_.list_referrals.size(), 0u);
}

TEST_F(ConsoleTest, ACommandTakesTheReferralFromThePathAndGetsARequestId) {
  ApiResponse r = Post(std::string("/api/v1/referrals/") + kReferral + ":receive", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(referral_.receive.referral_id(), kReferral);
  EXPECT_EQ(referral_.receive.request_id(), "console-test-1");
  EXPECT_EQ(Body(r)["referral"]["state"], "REFERRAL_STATE_RECEIVED");

  r = Post(std::string("/api/v1/referrals/") + kReferral + ":accept",
           R"({"request_id": "desk-42", "note": "受理"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(referral_.accept.request_id(), "desk-42");
  EXPECT_EQ(referral_.accept.note(), "受理");
  EXPECT_EQ(referral_.accept.referral_id(), kReferral);
}

TEST_F(ConsoleTest, ABadCommandBodyIsRefusedAndNothingIsCalled) {
  const std::string path = std::string("/api/v1/referrals/") + kReferral + ":accept";
  ApiResponse other = Post(path, R"({"referral_id": "qinzhou.justice:2026-000009/r1"})");
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(Body(other)["error"]["field"], "referral_id");
  EXPECT_EQ(Post(path, "{not json").status, 400);
  EXPECT_EQ(Post(path, R"({"notes": "typo"})").status, 400);
  EXPECT_EQ(referral_.calls, 0);
}

// ----------------------------------------------------------- the inbox

TEST_F(ConsoleTest, TheInboxListsReferralsAwaitingTheNodeOldestFirstWithItsBacklog) {
  referral_.backlog.set_node(kInspection);
  referral_.backlog.set_unacknowledged(1);
  referral_.referrals = {
      Ref("qinzhou.justice:2026-000002/r1", kJustice, kInspection, v1::REFERRAL_STATE_RECEIVED,
          kT0 + absl::Hours(1)),
      Ref("qinzhou.justice:2026-000001/r1", kJustice, kInspection, v1::REFERRAL_STATE_REQUESTED,
          kT0 + absl::Hours(2)),
      Ref("qinzhou.justice:2026-000003/r1", kJustice, kInspection, v1::REFERRAL_STATE_ACCEPTED),
      Ref("qinzhou.justice:2026-000004/r1", kInspection, kJustice, v1::REFERRAL_STATE_REQUESTED),
  };
  ApiResponse r = Get("/api/v1/inbox");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["backlog"]["unacknowledged"], "1");
  std::vector<std::string> ids;
  for (const auto& item : body["items"]) ids.push_back(item["referral_id"]);
  EXPECT_THAT(ids, ElementsAre("qinzhou.justice:2026-000002/r1", "qinzhou.justice:2026-000001/r1"));
  for (const auto& req : referral_.list_referrals) {
    EXPECT_EQ(req.role(), v1::REFERRAL_ROLE_RECEIVED);
  }
}

// ------------------------------------------------------- the dashboard

TEST(Median, OfNoneOddAndEvenCounts) {
  EXPECT_EQ(Median({}), std::nullopt);
  EXPECT_THAT(Median({absl::Hours(5), absl::Hours(1), absl::Hours(3)}), Optional(absl::Hours(3)));
  EXPECT_THAT(Median({absl::Hours(4), absl::Hours(1), absl::Hours(2), absl::Hours(10)}),
              Optional(absl::Hours(3)));
}

DashboardInput FixedInput() {
  DashboardInput in;
  in.node = kInspection;
  in.referrals = {
      Ref("qinzhou.justice:2026-000001/r1", kJustice, kInspection, v1::REFERRAL_STATE_ACCEPTED),
      Ref("qinzhou.justice:2026-000002/r1", kJustice, kInspection, v1::REFERRAL_STATE_COMPLETED),
      Ref("qinzhou.justice:2026-000003/r1", kJustice, kInspection, v1::REFERRAL_STATE_REQUESTED),
      Ref("qinzhou.justice:2026-000003/r2", kInspection, "qinzhou.arbitration",
          v1::REFERRAL_STATE_REQUESTED),
  };
  in.events = {
      Requested("qinzhou.justice:2026-000001/r1", kInspection, kT0),
      Accepted("qinzhou.justice:2026-000001/r1", kT0 + absl::Hours(2)),
      Requested("qinzhou.justice:2026-000002/r1", kInspection, kT0),
      Accepted("qinzhou.justice:2026-000002/r1", kT0 + absl::Hours(4)),
      // Stopped for reassignment and accepted again: the first acceptance
      // counts.
      Accepted("qinzhou.justice:2026-000002/r1", kT0 + absl::Hours(30)),
      Requested("qinzhou.justice:2026-000003/r1", kInspection, kT0),
  };
  return in;
}

TEST(ComputeDashboard, CountsReferralsInAndOutByState) {
  DashboardStats s = ComputeDashboard(FixedInput());
  EXPECT_EQ(s.referrals_in, 3);
  EXPECT_EQ(s.referrals_out, 1);
  EXPECT_EQ(s.in_by_state.at(v1::REFERRAL_STATE_ACCEPTED), 1);
  EXPECT_EQ(s.in_by_state.at(v1::REFERRAL_STATE_REQUESTED), 1);
  EXPECT_EQ(s.out_by_state.at(v1::REFERRAL_STATE_REQUESTED), 1);
}

TEST(ComputeDashboard, MedianTimeToAcceptIsFromTheFirstRequestToTheFirstAcceptance) {
  DashboardStats s = ComputeDashboard(FixedInput());
  EXPECT_EQ(s.accepted_in, 2);  // the REQUESTED one is not in the sample
  EXPECT_THAT(s.median_time_to_accept, Optional(absl::Hours(3)));
}

TEST(ComputeDashboard, ReferralsTheNodeSentDoNotCountTowardsItsTimeToAccept) {
  DashboardInput in = FixedInput();
  in.node = kJustice;  // the sender of r1 and r2
  DashboardStats s = ComputeDashboard(in);
  EXPECT_EQ(s.referrals_out, 3);
  EXPECT_EQ(s.referrals_in, 0);
  EXPECT_EQ(s.accepted_in, 0);
  EXPECT_EQ(s.median_time_to_accept, std::nullopt);
}

TEST(ComputeDashboard, OverdueCountsOpenBreachesTheNodeMustMeetAndEscalationsApart) {
  auto deadline = [](std::string responsible, std::string escalated, v1::DeadlineState state) {
    v1::Deadline d;
    d.mutable_set()->set_responsible_node(std::move(responsible));
    d.set_escalated_to(std::move(escalated));
    d.set_state(state);
    return d;
  };
  DashboardInput in = FixedInput();
  in.overdue_deadlines = std::vector<v1::Deadline>{
      deadline(kInspection, kJustice, v1::DEADLINE_STATE_BREACHED),
      deadline(kInspection, kJustice, v1::DEADLINE_STATE_BREACHED),
      deadline(kInspection, kJustice, v1::DEADLINE_STATE_MET_LATE),
      deadline("qinzhou.labor-inspection.town", kInspection, v1::DEADLINE_STATE_BREACHED),
  };
  DashboardStats s = ComputeDashboard(in);
  EXPECT_THAT(s.overdue, Optional(2));
  EXPECT_THAT(s.escalated, Optional(1));
}

TEST(ComputeDashboard, WithoutTheDeadlinesServiceOverdueIsUnknownNotZero) {
  DashboardStats s = ComputeDashboard(FixedInput());
  EXPECT_EQ(s.overdue, std::nullopt);
  EXPECT_EQ(s.escalated, std::nullopt);
}

TEST(AcceptTimeCases, OnlyCasesOfReferralsInThatMayHaveBeenAcceptedOnceEach) {
  std::vector<v1::Referral> refs = {
      Ref("c:1/r1", kJustice, kInspection, v1::REFERRAL_STATE_ACCEPTED),
      Ref("c:1/r2", kJustice, kInspection, v1::REFERRAL_STATE_COMPLETED),
      Ref("c:2/r1", kJustice, kInspection, v1::REFERRAL_STATE_RECEIVED),
      Ref("c:3/r1", kInspection, kJustice, v1::REFERRAL_STATE_ACCEPTED),
      Ref("c:4/r1", kJustice, kInspection, v1::REFERRAL_STATE_CANCELLED),
  };
  EXPECT_THAT(AcceptTimeCases(kInspection, refs), ElementsAre("c:1", "c:4"));
  EXPECT_FALSE(MayHaveBeenAccepted(v1::REFERRAL_STATE_REQUESTED));
  EXPECT_FALSE(MayHaveBeenAccepted(v1::REFERRAL_STATE_RETURNED));
  EXPECT_FALSE(MayHaveBeenAccepted(v1::REFERRAL_STATE_REJECTED));
}

TEST_F(ConsoleTest, TheDashboardRouteReportsTheNumbersAndWhyOverdueIsUnknown) {
  referral_.referrals = FixedInput().referrals;
  referral_.events = FixedInput().events;
  deadlines_.error = absl::UnavailableError("connection refused");
  ApiResponse r = Get("/api/v1/dashboard");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["referrals_in"], 3);
  EXPECT_EQ(body["referrals_out"], 1);
  EXPECT_EQ(body["median_seconds_to_accept"], 3 * 3600);
  EXPECT_EQ(body["in_by_state"]["REFERRAL_STATE_ACCEPTED"], 1);
  EXPECT_TRUE(body["overdue"].is_null());
  EXPECT_EQ(body["overdue_error"]["code"], "UNAVAILABLE");

  deadlines_.error = absl::OkStatus();
  body = Body(Get("/api/v1/dashboard"));
  EXPECT_EQ(body["overdue"], 0);
  EXPECT_FALSE(body.contains("overdue_error"));
}

TEST_F(ConsoleTest, MeetingsWithoutTheMediationServiceAreUnavailable) {
  ApiResponse r = Get(std::string("/api/v1/cases/") + kCase + "/meetings");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(Body(r)["error"]["message"].get<std::string>(), HasSubstr("--mediation"));
}

// ------------------------------------------------------- the timeline

TEST_F(ConsoleTest, TheTimelineIsTheSwimlanePictureAndTheTraceHasTheTableRows) {
  v1::Event opened;
  opened.set_source(kJustice);
  opened.set_subject(kCase);
  opened.set_sequence(1);
  *opened.mutable_time() = At(kT0);
  opened.mutable_case_opened()->set_owning_node(kJustice);
  v1::Event sent = Requested(kReferral, kInspection, kT0 + absl::Minutes(5));
  sent.set_sequence(2);
  referral_.events = {opened, sent};

  ApiResponse svg = Get(std::string("/api/v1/cases/") + kCase + "/timeline.svg");
  ASSERT_EQ(svg.status, 200) << svg.body;
  EXPECT_EQ(svg.content_type, "image/svg+xml; charset=utf-8");
  EXPECT_THAT(svg.body, HasSubstr("<svg"));
  EXPECT_THAT(svg.body, HasSubstr("劳动保障监察"));
  EXPECT_THAT(svg.body, HasSubstr("转出"));

  ApiResponse trace = Get(std::string("/api/v1/cases/") + kCase + "/trace");
  ASSERT_EQ(trace.status, 200) << trace.body;
  json body = Body(trace);
  ASSERT_EQ(body["events"].size(), 2u);
  ASSERT_EQ(body["timeline"].size(), 2u);
  EXPECT_EQ(body["timeline"][1]["event_zh"], "转出");
  EXPECT_EQ(body["timeline"][1]["event_type"], "ReferralRequested");
}

// ------------------------------------------- the case search: its body

TEST(CaseSearchFromJson, EachCriterionLandsInItsField) {
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesRequest r, CaseSearchFromJson(R"({
      "worker_name": "张", "worker_id_number": "620502199003071610",
      "party_name": "某建筑", "project": "花园", "node": "qinzhou.labor-inspection",
      "matter": "MATTER_WAGE_ARREARS", "state": "REFERRAL_STATE_ACCEPTED",
      "page_size": 5, "page_token": "abc", "purpose": "秦检民监〔2026〕17号"})"));
  EXPECT_EQ(r.worker_name(), "张");
  EXPECT_EQ(r.worker_id_number(), "620502199003071610");
  EXPECT_EQ(r.party_name(), "某建筑");
  EXPECT_EQ(r.project(), "花园");
  EXPECT_EQ(r.node(), kInspection);
  EXPECT_EQ(r.matter(), v1::MATTER_WAGE_ARREARS);
  EXPECT_EQ(r.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(r.page_size(), 5);
  EXPECT_EQ(r.page_token(), "abc");
  EXPECT_EQ(r.purpose(), "秦检民监〔2026〕17号");
  EXPECT_FALSE(r.has_opened_from());
  EXPECT_FALSE(r.has_opened_to());
}

TEST(CaseSearchFromJson, MatterAndStateTakeTheVocabularyKeyTooAndEmptyMeansAny) {
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesRequest r,
                       CaseSearchFromJson(R"({"matter": "work_injury", "state": "received"})"));
  EXPECT_EQ(r.matter(), v1::MATTER_WORK_INJURY);
  EXPECT_EQ(r.state(), v1::REFERRAL_STATE_RECEIVED);
  ASSERT_OK_AND_ASSIGN(
      r, CaseSearchFromJson(R"({"matter": "", "state": null, "opened_from": "", "project": ""})"));
  EXPECT_EQ(r.matter(), v1::MATTER_UNSPECIFIED);
  EXPECT_EQ(r.state(), v1::REFERRAL_STATE_UNSPECIFIED);
  EXPECT_FALSE(r.has_opened_from());
  ASSERT_OK_AND_ASSIGN(r, CaseSearchFromJson(""));
  EXPECT_EQ(r.ByteSizeLong(), 0u);
}

TEST(CaseSearchFromJson, DaysAreAsiaShanghaiAndTheLastDayIsIncludedWhole) {
  ASSERT_OK_AND_ASSIGN(
      v1::SearchCasesRequest r,
      CaseSearchFromJson(R"({"opened_from": "2026-03-02", "opened_to": "2026-03-02"})"));
  // Midnight in Shanghai is 16:00 UTC the day before; the range is
  // [2 March 00:00, 3 March 00:00) Shanghai time.
  EXPECT_EQ(TimeOf(r.opened_from()), absl::FromCivil(absl::CivilSecond(2026, 3, 1, 16, 0, 0),
                                                     absl::UTCTimeZone()));
  EXPECT_EQ(TimeOf(r.opened_to()), absl::FromCivil(absl::CivilSecond(2026, 3, 2, 16, 0, 0),
                                                   absl::UTCTimeZone()));
}

// -------------------------- the case search: against the real service

constexpr char kWorkerId[] = "620502199003071610";
constexpr char kMaskedId[] = "620*************10";

// The referral service with caselog and directory, reached through the
// gateway's gRPC ports as the console reaches it, plaintext (the node in
// the metadata). Three cases of the justice bureau:
//   wages    worker 张三 (kWorkerId), general contractor 某建筑工程有限公司,
//            project 玉泉花园二期, referred to labour inspection (REQUESTED)
//   injury   a group of 5 workers, developer 麦积置业, project 麦积商城
//   old      a group of 3 workers, project 秦州花园, wages, no referral
class ConsoleSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<std::string> nodes = {kJustice, kInspection, kHousing};
    auto channels = NodeChannels::Create(std::nullopt, nodes, absl::Seconds(10));
    ASSERT_TRUE(channels.ok()) << channels.status();
    channels_ = *std::move(channels);
    port_ = std::make_unique<GrpcReferralPort>(channels_.get(), system_.referral_address());
    ConsoleOptions options;
    options.nodes = nodes;
    ConsolePorts ports;
    ports.referral = port_.get();
    console_ = std::make_unique<Console>(options, ports);

    v1::OpenCaseRequest wages = CaseRequest("某住宅小区项目农民工欠薪", v1::MATTER_WAGE_ARREARS,
                                            "玉泉花园二期");
    v1::Party* w = wages.add_parties();
    w->set_role(v1::PARTY_ROLE_WORKER);
    w->set_name("张三");
    w->set_contact("13912345678");
    w->set_id_number(kWorkerId);
    AddParty(&wages, v1::PARTY_ROLE_GENERAL_CONTRACTOR, "某建筑工程有限公司");
    wages_ = Open(wages);
    v1::OpenCaseRequest injury = CaseRequest("工地坠落受伤", v1::MATTER_WORK_INJURY, "麦积商城");
    AddParty(&injury, v1::PARTY_ROLE_WORKER_GROUP, "5名农民工", 5);
    AddParty(&injury, v1::PARTY_ROLE_DEVELOPER, "麦积置业有限公司");
    injury_ = Open(injury);
    v1::OpenCaseRequest old = CaseRequest("秦州花园欠薪", v1::MATTER_WAGE_ARREARS, "秦州花园");
    AddParty(&old, v1::PARTY_ROLE_WORKER_GROUP, "3名农民工", 3);
    old_ = Open(old);

    v1::SendReferralRequest refer;
    refer.set_request_id("seed-refer");
    refer.set_case_id(wages_.case_id());
    refer.set_to_node(kInspection);
    refer.set_purpose("责令支付拖欠工资");
    v1::SendReferralResponse sent;
    ASSERT_THAT(FromGrpcStatus(system_.StubFor(kJustice)->SendReferral(
                    system_.ContextFor(kJustice).get(), refer, &sent)),
                IsOk());
  }

  v1::OpenCaseRequest CaseRequest(std::string title, v1::Matter matter, std::string project) {
    v1::OpenCaseRequest r;
    r.set_request_id(absl::StrCat("seed-", ++seeded_));
    r.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
    r.set_title(std::move(title));
    r.set_matter(matter);
    r.set_project(std::move(project));
    return r;
  }
  static void AddParty(v1::OpenCaseRequest* r, v1::PartyRole role, std::string name,
                       int head_count = 0) {
    v1::Party* p = r->add_parties();
    p->set_role(role);
    p->set_name(std::move(name));
    p->set_head_count(head_count);
  }
  v1::Case Open(const v1::OpenCaseRequest& r) {
    v1::OpenCaseResponse out;
    absl::Status st = FromGrpcStatus(system_.StubFor(kJustice)->OpenCase(
        system_.ContextFor(kJustice).get(), r, &out));
    EXPECT_TRUE(st.ok()) << st;
    return out.case_();
  }

  ApiResponse Search(const json& body, std::string node = kJustice,
                     std::map<std::string, std::string> query = {}) {
    return console_->Handle(
        {"POST", "/api/v1/cases:search", std::move(query), body.dump(), std::move(node)});
  }
  static json Body(const ApiResponse& r) { return json::parse(r.body); }
  // The case ids a successful search found, in the order given.
  std::vector<std::string> Found(const json& body, std::string node = kJustice) {
    ApiResponse r = Search(body, std::move(node));
    EXPECT_EQ(r.status, 200) << body.dump() << " -> " << r.body;
    std::vector<std::string> ids;
    if (r.status != 200) return ids;
    const json out = json::parse(r.body);
    for (const json& c : out["cases"]) ids.push_back(c["case_id"]);
    return ids;
  }

  testing::ReferralSystem system_;
  std::unique_ptr<NodeChannels> channels_;
  std::unique_ptr<GrpcReferralPort> port_;
  std::unique_ptr<Console> console_;
  int seeded_ = 0;
  v1::Case wages_, injury_, old_;
};

TEST_F(ConsoleSearchTest, EachCriterionFindsItsCasesAndOnlyThem) {
  const std::string wages = wages_.case_id(), injury = injury_.case_id(), old = old_.case_id();
  EXPECT_THAT(Found(json::object()), ElementsAre(old, injury, wages));  // newest first
  EXPECT_THAT(Found({{"worker_name", "张"}}), ElementsAre(wages));
  EXPECT_THAT(Found({{"worker_name", "3名"}}), ElementsAre(old));
  EXPECT_THAT(Found({{"worker_id_number", kWorkerId}}), ElementsAre(wages));
  EXPECT_THAT(Found({{"party_name", "某建筑"}}), ElementsAre(wages));
  EXPECT_THAT(Found({{"party_name", "麦积置业有限公司"}}), ElementsAre(injury));
  EXPECT_THAT(Found({{"project", "花园"}}), ElementsAre(old, wages));
  EXPECT_THAT(Found({{"matter", "MATTER_WORK_INJURY"}}), ElementsAre(injury));
  EXPECT_THAT(Found({{"matter", "wage_arrears"}}), ElementsAre(old, wages));
  EXPECT_THAT(Found({{"node", kInspection}}), ElementsAre(wages));
  EXPECT_THAT(Found({{"state", "REFERRAL_STATE_REQUESTED"}}), ElementsAre(wages));
  EXPECT_THAT(Found({{"state", "REFERRAL_STATE_ACCEPTED"}}), IsEmpty());
  EXPECT_THAT(Found({{"project", "花园"}, {"matter", "MATTER_WAGE_ARREARS"}, {"worker_name", "张"}}),
              ElementsAre(wages));
  EXPECT_THAT(Found({{"project", "没有这个项目"}}), IsEmpty());
}

TEST_F(ConsoleSearchTest, ASearchActsAsTheNodeItNames) {
  // Labour inspection is party to the case referred to it, and only that.
  EXPECT_THAT(Found(json::object(), kInspection), ElementsAre(wages_.case_id()));
  EXPECT_THAT(Found({{"project", "花园"}}, kInspection), ElementsAre(wages_.case_id()));
  // Housing is served by this console but party to none of them.
  EXPECT_THAT(Found({{"project", "花园"}}, kHousing), IsEmpty());
}

TEST_F(ConsoleSearchTest, TheIdNumberTravelsInTheBodyAndComesBackMasked) {
  ApiResponse found = Search({{"worker_id_number", kWorkerId}});
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_THAT(found.body, Not(HasSubstr(kWorkerId)));
  EXPECT_THAT(found.body, Not(HasSubstr("13912345678")));
  EXPECT_EQ(Body(found)["cases"][0]["opened"]["parties"][0]["id_number"], kMaskedId);

  // In the URL it is refused, naming the body, whatever the method.
  ApiResponse in_url = Search(json::object(), kJustice, {{"worker_id_number", kWorkerId}});
  EXPECT_EQ(in_url.status, 400);
  EXPECT_EQ(Body(in_url)["error"]["reason"], "INVALID_FIELD");
  EXPECT_EQ(Body(in_url)["error"]["field"], "worker_id_number");
  EXPECT_THAT(Body(in_url)["error"]["message"].get<std::string>(), HasSubstr("POST body"));
  EXPECT_THAT(Body(in_url)["error"]["message_zh"].get<std::string>(), HasSubstr("请求内容"));
  EXPECT_THAT(in_url.body, Not(HasSubstr(kWorkerId)));
  // Any criterion: one design, so none is put in a URL by habit.
  EXPECT_EQ(Search(json::object(), kJustice, {{"project", "花园"}}).status, 400);
  EXPECT_EQ(console_
                ->Handle({"GET", "/api/v1/cases:search", {{"worker_id_number", kWorkerId}}, "",
                          kJustice})
                .status,
            404);
  EXPECT_EQ(
      console_->Handle({"GET", "/api/v1/cases", {{"worker_id_number", kWorkerId}}, "", kJustice})
          .status,
      400);
}

TEST_F(ConsoleSearchTest, DaysAreAsiaShanghaiDaysAndTheLastOneIsIncluded) {
  // The day the cases were opened, as a person in Qinzhou names it.
  const absl::CivilDay day =
      absl::ToCivilDay(TimeOf(wages_.create_time()), refctl::Shanghai());
  const absl::CivilDay last = absl::ToCivilDay(TimeOf(old_.create_time()), refctl::Shanghai());
  const std::string d = absl::FormatCivilTime(day), l = absl::FormatCivilTime(last);
  const std::string before = absl::FormatCivilTime(day - 1), after = absl::FormatCivilTime(last + 1);
  EXPECT_THAT(Found({{"opened_from", d}, {"opened_to", l}}),
              ElementsAre(old_.case_id(), injury_.case_id(), wages_.case_id()));
  EXPECT_THAT(Found({{"opened_from", d}}), ::testing::SizeIs(3));
  EXPECT_THAT(Found({{"opened_to", l}}), ::testing::SizeIs(3));
  EXPECT_THAT(Found({{"opened_to", before}}), IsEmpty());
  EXPECT_THAT(Found({{"opened_from", after}}), IsEmpty());
  EXPECT_THAT(Found({{"opened_from", before}, {"opened_to", before}}), IsEmpty());
}

TEST_F(ConsoleSearchTest, PagesFollowTheNextPageTokenToTheEnd) {
  std::vector<std::string> seen;
  json body = {{"page_size", 1}};
  for (int page = 1; page <= 5; ++page) {
    ApiResponse r = Search(body);
    ASSERT_EQ(r.status, 200) << r.body;
    json out = Body(r);
    ASSERT_EQ(out["cases"].size(), 1u) << "page " << page << ": " << r.body;
    seen.push_back(out["cases"][0]["case_id"]);
    if (out["next_page_token"] == "") break;
    body["page_token"] = out["next_page_token"];
  }
  // Three pages of one, none twice, and the last one says it is the last.
  EXPECT_THAT(seen, ElementsAre(old_.case_id(), injury_.case_id(), wages_.case_id()));
}

// One bad input: the body, the field the error names, a phrase of its
// Chinese message; every one is a 400 with both messages.
struct BadSearch {
  const char* what;
  json body;
  const char* field;
  const char* zh;
};

void PrintTo(const BadSearch& bad, std::ostream* os) { *os << bad.body.dump(); }

class ConsoleBadSearchTest : public ConsoleSearchTest,
                             public ::testing::WithParamInterface<BadSearch> {};

TEST_P(ConsoleBadSearchTest, IsA400NamingTheFieldInEnglishAndChinese) {
  const BadSearch& bad = GetParam();
  ApiResponse r = Search(bad.body);
  ASSERT_EQ(r.status, 400) << r.body;
  json e = Body(r)["error"];
  EXPECT_EQ(e["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(e["reason"], "INVALID_FIELD");
  EXPECT_EQ(e.value("field", ""), bad.field) << r.body;
  EXPECT_FALSE(e["message"].get<std::string>().empty());
  EXPECT_THAT(e["message_zh"].get<std::string>(), HasSubstr(bad.zh)) << r.body;
}

INSTANTIATE_TEST_SUITE_P(
    EachBadInput, ConsoleBadSearchTest,
    ::testing::Values(
        // Judged by the gateway: the form's own fields.
        BadSearch{"MonthThirteen", {{"opened_from", "2026-13-01"}}, "opened_from", "开始日期"},
        BadSearch{"NoSuchDay", {{"opened_to", "2026-02-30"}}, "opened_to", "结束日期"},
        BadSearch{"NotADay", {{"opened_from", "03/01/2026"}}, "opened_from", "2026-03-01"},
        BadSearch{"ATimeNotADay", {{"opened_to", "2026-03-01T00:00:00Z"}}, "opened_to", "日期"},
        BadSearch{"ADayAsANumber", {{"opened_from", 20260301}}, "opened_from", "日期"},
        BadSearch{"CamelCaseDay", {{"openedFrom", "2026-03-01T00:00:00Z"}}, "openedFrom",
                  "opened_from"},
        BadSearch{"UnknownMatter", {{"matter", "salary"}}, "matter", "事项无效"},
        BadSearch{"UnknownState", {{"state", "done"}}, "state", "转介状态无效"},
        BadSearch{"UnknownCriterion", {{"worker", "张"}}, "", "JSON"},
        // Judged by the referral service, its reason and message passed on.
        BadSearch{"IdNumberCheckDigit", {{"worker_id_number", "620502199003071611"}},
                  "worker_id_number", "校验位"},
        BadSearch{"IdNumberTooShort", {{"worker_id_number", "62050219900307"}},
                  "worker_id_number", "18位"},
        BadSearch{"PageTokenNotIssued", {{"page_token", "not-a-token"}}, "page_token",
                  "分页标记无效"},
        BadSearch{"RangeEndsBeforeItStarts",
                  {{"opened_from", "2026-03-02"}, {"opened_to", "2026-03-01"}}, "opened_to",
                  "结束时间应晚于开始时间"},
        BadSearch{"NegativePageSize", {{"page_size", -1}}, "page_size", "负数"},
        BadSearch{"IdNumberAsANumber", {{"worker_id_number", 110101199003077777}}, "",
                  "JSON"}),
    [](const ::testing::TestParamInfo<BadSearch>& info) { return info.param.what; });

TEST_F(ConsoleSearchTest, AMistypedIdNumberIsNeverEchoedInTheError) {
  ApiResponse r = Search({{"worker_id_number", 110101199003077777}});
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, Not(HasSubstr("110101199003077777")));
  EXPECT_THAT(r.body, HasSubstr("worker_id_number"));  // the field is named
}

TEST_F(ConsoleSearchTest, APageTokenIsGoodOnlyForTheCriteriaItWasIssuedFor) {
  ApiResponse first = Search({{"page_size", 1}});
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string token = Body(first)["next_page_token"];
  ASSERT_FALSE(token.empty());
  ApiResponse other = Search({{"page_size", 1}, {"project", "花园"}, {"page_token", token}});
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(Body(other)["error"]["field"], "page_token");
}

// -------------------------------------------------------- loopback only

TEST(Loopback, OnlyLoopbackLiteralsAreLoopbackAddresses) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackAddress(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0", "10.0.0.1", "192.168.1.2", "128.0.0.1", "127.0.0.256",
                         "127.0.0", "localhost", "::", "", "127.0.0.1.example.com"}) {
    EXPECT_FALSE(IsLoopbackAddress(no)) << no;
  }
}

TEST(Loopback, ListenRefusesAnythingButLoopbackAndSaysWhy) {
  auto v4 = ParseLoopbackListen("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = ParseLoopbackListen("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);

  for (const char* no : {"0.0.0.0:8080", "[::]:8080", "192.168.1.2:8080", "localhost:8080"}) {
    auto r = ParseLoopbackListen(no);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << no;
    EXPECT_THAT(r, HasReason("CONFIG_INVALID")) << no;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("loopback")) << no;
  }
  for (const char* malformed : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:x"}) {
    EXPECT_THAT(ParseLoopbackListen(malformed), StatusIs(absl::StatusCode::kInvalidArgument))
        << malformed;
  }
}

TEST(Loopback, OnlyLoopbackHostHeadersAreAnswered) {
  for (const char* yes : {"127.0.0.1:8080", "127.0.0.1", "localhost:8080", "LOCALHOST",
                          "[::1]:8080", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackAuthority(yes)) << yes;
  }
  // DNS rebinding: another site's name that resolves to 127.0.0.1.
  for (const char* no : {"evil.example:8080", "127.0.0.1.nip.io:8080", "localhost.evil:8080",
                         "", "[::1]x", "127.0.0.1:80x"}) {
    EXPECT_FALSE(IsLoopbackAuthority(no)) << no;
  }
}

}  // namespace
}  // namespace referral::gateway
