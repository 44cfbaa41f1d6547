// The console core over hand-written fake ports: the HTTP error table, the
// node check, how query parameters and bodies become requests, the inbox's
// rule, and the dashboard's arithmetic on fixed inputs. What the services
// answer for real is the end-to-end test's job (tests/e2e/).

#include "services/gateway/console.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/gateway/dashboard.h"

namespace referral::gateway {
namespace {

using json = nlohmann::json;
using ::referral::testing::HasReason;
using ::referral::testing::StatusIs;
using ::testing::ElementsAre;
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

TEST_F(ConsoleTest, CaseSearchPassesThroughOnlyWhenListCasesHasAField) {
  ApiResponse r = Get("/api/v1/cases", kInspection, {{"q", "欠薪"}});
  if (v1::ListCasesRequest::descriptor()->FindFieldByName("q") != nullptr) {
    EXPECT_EQ(r.status, 200);
  } else {
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Body(r)["error"]["field"], "q");
  }
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
