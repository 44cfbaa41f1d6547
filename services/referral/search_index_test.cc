// The search index and SearchCases: each criterion, paging, the investigator
// scope, and that no ID number is kept in clear.

#include "services/referral/forwarding_log.h"
#include "services/referral/search_index.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/digest.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/referral/privacy.h"
#include "services/referral/privacy_fixture.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kPurpose[] = "秦检民监〔2026〕17号";

// Counts the events the index reads through the port.
class CountingLog final : public ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& r) override {
    auto page = ForwardingLog::ReadAll(r);
    if (page.ok()) read += page->events_size();
    return page;
  }
  int read = 0;
};

// ------------------------------------------------------------------ the index

using SearchIndexTest = PrivacyBrokerTest;

TEST_F(SearchIndexTest, FollowsTheLogFromThePositionItRemembers) {
  CountingLog counting(&log_);
  SearchIndex index(&counting, std::string(32, 'k'));
  OpenWorkerCase();
  OpenCase();
  ASSERT_THAT(index.Refresh(), IsOk());
  EXPECT_EQ(index.size(), 2u);
  v1::ReadAllRequest all;
  all.set_page_size(1000);
  const uint64_t head = log_.ReadAll(all)->last_position();
  EXPECT_EQ(index.position(), head);
  EXPECT_EQ(counting.read, static_cast<int>(head));

  // Nothing new: nothing read.
  ASSERT_THAT(index.Refresh(), IsOk());
  EXPECT_EQ(counting.read, static_cast<int>(head));
  // One more case: only its events (its number and its opening) are read.
  OpenCase(kLabor);
  ASSERT_THAT(index.Refresh(), IsOk());
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(counting.read, static_cast<int>(head) + 2);
}

TEST_F(SearchIndexTest, HoldsNoIdNumberInClearOnlyItsKeyedDigest) {
  OpenWorkerCase(kJustice, "张三", kWorkerId);
  OpenWorkerCase(kJustice, "王五", "11010519491231002x");  // as the worker gave it
  SearchIndex index(&log_, std::string(32, 'k'));
  ASSERT_THAT(index.Refresh(), IsOk());
  const std::string dump = index.DebugDump();

  for (const std::string& clear :
       {std::string(kWorkerId), std::string(kWorkerId).substr(0, 17),
        std::string("11010519491231002"), std::string(kWorkerPhone),
        std::string(kWorkerPhone).substr(3)}) {
    EXPECT_THAT(dump, Not(HasSubstr(clear))) << clear;
  }
  // Negative control: the dump does hold what the index keeps, so the check
  // above would catch a number kept in clear.
  EXPECT_THAT(dump, HasSubstr(HexOf(index.IdDigest(kWorkerId))));
  EXPECT_THAT(dump, HasSubstr(HexOf(index.IdDigest(kIdWithX))));
  EXPECT_THAT(dump, HasSubstr("张三"));
  EXPECT_THAT(dump, HasSubstr("tianshui hongda construction co."));

  // The digest is keyed (another key, another digest; not a plain hash that
  // anyone could recompute for every possible number) and taken of the
  // normal form.
  SearchIndex other(&log_, std::string(32, 'z'));
  EXPECT_NE(other.IdDigest(kWorkerId), index.IdDigest(kWorkerId));
  EXPECT_NE(index.IdDigest(kWorkerId), Sha256(kWorkerId));
  EXPECT_EQ(index.IdDigest(kWorkerId).size(), 32u);
  EXPECT_EQ(index.IdDigest("11010519491231002x"), index.IdDigest(kIdWithX));
}

TEST_F(SearchIndexTest, ARestartedBrokerRebuildsItFromTheLog) {
  std::string case_id = OpenWorkerCase();
  options_.search_key = "";  // a random key for the new process
  Restart();
  EXPECT_EQ(broker_->search_index().size(), 0u);
  v1::SearchCasesRequest q;
  q.set_worker_id_number(kWorkerId);
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse r, broker_->SearchCases(kJustice, q));
  ASSERT_EQ(r.cases_size(), 1);
  EXPECT_EQ(r.cases(0).case_id(), case_id);
}

TEST(SearchIndexKey, AKeyFileNeedsThirtyTwoBytes) {
  const std::string dir = ::testing::TempDir();
  const std::string good = absl::StrCat(dir, "/search_key_good_", getpid());
  const std::string bad = absl::StrCat(dir, "/search_key_bad_", getpid());
  { std::ofstream(good, std::ios::binary) << std::string(32, '\x07'); }
  { std::ofstream(bad, std::ios::binary) << "secret\n"; }
  ASSERT_OK_AND_ASSIGN(std::string key, SearchIndex::ReadKeyFile(good));
  EXPECT_EQ(key, std::string(32, '\x07'));
  absl::StatusOr<std::string> short_key = SearchIndex::ReadKeyFile(bad);
  EXPECT_THAT(short_key, HasReason("CONFIG_INVALID"));
  EXPECT_THAT(std::string(short_key.status().message()), HasSubstr("/dev/urandom"));
  EXPECT_THAT(SearchIndex::ReadKeyFile(dir + "/no_such_key"), HasReason("CONFIG_INVALID"));
  EXPECT_NE(SearchIndex::RandomKey(), SearchIndex::RandomKey());
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

// ------------------------------------------------------------------ SearchCases

class SearchCasesTest : public PrivacyBrokerTest {
 protected:
  std::vector<std::string> Find(const std::string& caller,
                                const std::function<void(v1::SearchCasesRequest&)>& fill) {
    v1::SearchCasesRequest q;
    fill(q);
    auto r = broker_->SearchCases(caller, q);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> ids;
    if (r.ok()) {
      for (const v1::Case& c : r->cases()) ids.push_back(c.case_id());
    }
    return ids;
  }
  google::protobuf::Timestamp CreateTime(const std::string& case_id) {
    return broker_->GetCase(kJustice, case_id)->create_time();
  }
};

TEST_F(SearchCasesTest, EachCriterionFindsItsCasesAndOnlyThem) {
  // a: the justice bureau's wage case, referred to labour inspection and
  // accepted there.
  std::string a = OpenWorkerCase(kJustice, "张三", kWorkerId);
  ASSERT_THAT(Take(Action::kAccept, kLabor, Send(a, kLabor)), IsOk());
  // b: a work injury with a developer, referred to arbitration.
  v1::OpenCaseRequest rb = WorkerCaseRequest("Li Si", kOtherWorkerId);
  rb.set_matter(v1::MATTER_WORK_INJURY);
  rb.set_project("Maiji Road widening");
  rb.mutable_parties(2)->set_role(v1::PARTY_ROLE_DEVELOPER);
  rb.mutable_parties(2)->set_name("Maiji Real Estate");
  ASSERT_OK_AND_ASSIGN(v1::Case cb, broker_->OpenCase(kJustice, rb));
  std::string b = cb.case_id();
  Send(b, kArbitration);
  // c: labour inspection's own case, which the justice bureau is not party to.
  v1::OpenCaseRequest rc = WorkerCaseRequest("Li Xiaolong", kIdWithX);
  rc.set_project("Yuquan Garden phase I");
  ASSERT_OK_AND_ASSIGN(v1::Case cc, broker_->OpenCase(kLabor, rc));
  std::string c = cc.case_id();

  using Q = v1::SearchCasesRequest;
  auto as_justice = [&](const std::function<void(Q&)>& fill) { return Find(kJustice, fill); };
  EXPECT_THAT(as_justice([](Q&) {}), ElementsAre(b, a));  // newest first
  // Workers: by name, exact or prefix, any case; or by ID number.
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_name("li"); }), ElementsAre(b));
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_name("LI SI"); }), ElementsAre(b));
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_name("si"); }), IsEmpty());
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_name("张"); }), ElementsAre(a));
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_name("Yuquan project"); }),
              ElementsAre(b, a));  // the worker group is a worker party too
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_id_number(kWorkerId); }), ElementsAre(a));
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_id_number(kOtherWorkerId); }),
              ElementsAre(b));
  EXPECT_THAT(as_justice([](Q& q) { q.set_worker_id_number(kIdWithX); }), IsEmpty());
  // Employer, contractor, developer: any party that is not a worker.
  EXPECT_THAT(as_justice([](Q& q) { q.set_party_name("TIANSHUI hongda"); }), ElementsAre(a));
  EXPECT_THAT(as_justice([](Q& q) { q.set_party_name("maiji"); }), ElementsAre(b));
  EXPECT_THAT(as_justice([](Q& q) { q.set_party_name("张三"); }), IsEmpty());
  // Project: a substring.
  EXPECT_THAT(as_justice([](Q& q) { q.set_project("garden"); }), ElementsAre(a));
  EXPECT_THAT(as_justice([](Q& q) { q.set_project("ROAD"); }), ElementsAre(b));
  EXPECT_THAT(as_justice([](Q& q) { q.set_matter(v1::MATTER_WORK_INJURY); }), ElementsAre(b));
  // A party node; the state of any referral.
  EXPECT_THAT(as_justice([](Q& q) { q.set_node(kArbitration); }), ElementsAre(b));
  EXPECT_THAT(as_justice([](Q& q) { q.set_node(kLabor); }), ElementsAre(a));
  EXPECT_THAT(as_justice([](Q& q) { q.set_state(v1::REFERRAL_STATE_ACCEPTED); }),
              ElementsAre(a));
  EXPECT_THAT(as_justice([](Q& q) { q.set_state(v1::REFERRAL_STATE_REQUESTED); }),
              ElementsAre(b));
  EXPECT_THAT(as_justice([](Q& q) { q.set_state(v1::REFERRAL_STATE_COMPLETED); }),
              IsEmpty());
  // Opened in [from, to).
  const auto at_a = CreateTime(a), at_b = CreateTime(b);
  EXPECT_THAT(as_justice([&](Q& q) { *q.mutable_opened_from() = at_b; }), ElementsAre(b));
  EXPECT_THAT(as_justice([&](Q& q) {
                *q.mutable_opened_from() = at_a;
                *q.mutable_opened_to() = at_b;
              }),
              ElementsAre(a));
  // Every criterion must hold.
  EXPECT_THAT(as_justice([](Q& q) {
                q.set_worker_name("li");
                q.set_matter(v1::MATTER_WAGE_ARREARS);
              }),
              IsEmpty());

  // Labour inspection finds its own case and the one referred to it.
  EXPECT_THAT(Find(kLabor, [](Q&) {}), ElementsAre(c, a));
  EXPECT_THAT(Find(kLabor, [](Q& q) { q.set_worker_name("li"); }), ElementsAre(c));
  // Results are masked, always.
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse r, broker_->SearchCases(kJustice, Q()));
  EXPECT_THAT(r.DebugString(), Not(HasSubstr(kWorkerId)));
  EXPECT_THAT(r.DebugString(), HasSubstr("620*************10"));
}

TEST_F(SearchCasesTest, AnInvestigatorSearchesEveryCaseOnlyWithAPurposeAndIsAudited) {
  std::string a = OpenWorkerCase(kJustice, "张三", kWorkerId);
  std::string c = OpenWorkerCase(kLabor, "王五", kIdWithX);
  using Q = v1::SearchCasesRequest;
  // Without a purpose an investigator is a node like any other.
  EXPECT_THAT(Find(kInvestigator, [](Q&) {}), IsEmpty());
  EXPECT_THAT(Stream(absl::StrCat("audit-search:", kInvestigator)), IsEmpty());

  EXPECT_THAT(Find(kInvestigator, [](Q& q) { q.set_purpose(kPurpose); }), ElementsAre(c, a));
  EXPECT_THAT(Find(kInvestigator,
                   [](Q& q) {
                     q.set_purpose(kPurpose);
                     q.set_worker_id_number("11010519491231002x");
                   }),
              ElementsAre(c));

  std::vector<v1::Event> audit = Stream(absl::StrCat("audit-search:", kInvestigator));
  ASSERT_EQ(audit.size(), 2u);
  const v1::CasesSearchedByInvestigator& s = audit[1].cases_searched_by_investigator();
  EXPECT_EQ(s.investigator(), kInvestigator);
  EXPECT_EQ(s.purpose(), kPurpose);
  EXPECT_EQ(s.criteria(), "worker_id_number=110*************2X");
  EXPECT_THAT(s.case_ids(), ElementsAre(c));
  EXPECT_THAT(audit[1].DebugString(), Not(HasSubstr("11010519491231002")));
  EXPECT_THAT(audit[1].involved_nodes(), ElementsAre(kInvestigator));
  EXPECT_EQ(audit[0].cases_searched_by_investigator().criteria(), "(all cases)");
  // The results were masked, so no case records a read of personal data,
  // and the cases' own streams are untouched.
  EXPECT_THAT(Audit(a), IsEmpty());
  EXPECT_THAT(Audit(c), IsEmpty());
  for (const std::string& id : {a, c}) {
    const std::vector<v1::Event> events = log_.ReadCase(id).value();
    for (const v1::Event& e : events) {
      EXPECT_NE(e.source(), kInvestigator);
    }
  }
}

TEST_F(SearchCasesTest, PagesAreStableAcrossThreePagesWithNoDuplicates) {
  std::vector<std::string> opened;
  for (int i = 0; i < 7; ++i) opened.push_back(OpenWorkerCase(kJustice, absl::StrCat("工人", i)));
  v1::SearchCasesRequest q;
  q.set_page_size(3);
  q.set_project("yuquan");
  std::vector<std::string> seen;
  std::vector<int> sizes;
  for (int page = 0; page < 5; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse r, broker_->SearchCases(kJustice, q));
    sizes.push_back(r.cases_size());
    for (const v1::Case& c : r.cases()) seen.push_back(c.case_id());
    if (page == 0) {
      // A case opened while paging is newer than every page: it shows on a
      // fresh search, and the pages still neither repeat nor skip.
      OpenWorkerCase(kJustice, "后来的工人");
    }
    if (r.next_page_token().empty()) break;
    q.set_page_token(r.next_page_token());
  }
  EXPECT_THAT(sizes, ElementsAre(3, 3, 1));
  std::vector<std::string> newest_first(opened.rbegin(), opened.rend());
  EXPECT_EQ(seen, newest_first);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7u);

  q.clear_page_token();
  q.set_page_size(0);
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse fresh, broker_->SearchCases(kJustice, q));
  EXPECT_EQ(fresh.cases_size(), 8);
}

TEST_F(SearchCasesTest, PageSizeDefaultsToTwentyAndLargerOnesAreCappedNotRefused) {
  for (int i = 0; i < 21; ++i) OpenCase();
  v1::SearchCasesRequest q;
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse first, broker_->SearchCases(kJustice, q));
  EXPECT_EQ(first.cases_size(), 20);
  ASSERT_FALSE(first.next_page_token().empty());
  q.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse second, broker_->SearchCases(kJustice, q));
  EXPECT_EQ(second.cases_size(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  q.clear_page_token();
  q.set_page_size(100000);
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse all, broker_->SearchCases(kJustice, q));
  EXPECT_EQ(all.cases_size(), 21);
}

TEST_F(SearchCasesTest, ATokenServesOnlyTheCriteriaItWasIssuedFor) {
  for (int i = 0; i < 3; ++i) OpenWorkerCase();
  v1::SearchCasesRequest q;
  q.set_page_size(1);
  q.set_matter(v1::MATTER_WAGE_ARREARS);
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse r, broker_->SearchCases(kJustice, q));
  ASSERT_FALSE(r.next_page_token().empty());
  q.set_page_token(r.next_page_token());
  EXPECT_THAT(broker_->SearchCases(kJustice, q), IsOk());
  q.set_matter(v1::MATTER_WORK_INJURY);
  absl::Status other = broker_->SearchCases(kJustice, q).status();
  EXPECT_THAT(other, HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(other).field, "page_token");
  q.set_matter(v1::MATTER_WAGE_ARREARS);
  q.set_page_token("bm90IGEgdG9rZW4");
  EXPECT_THAT(broker_->SearchCases(kJustice, q), HasReason("INVALID_FIELD"));
}

TEST_F(SearchCasesTest, BadCriteriaAreRefusedNamingTheFieldAndNothingIsRecorded) {
  OpenWorkerCase();
  struct Bad {
    std::function<void(v1::SearchCasesRequest&)> fill;
    const char* field;
  };
  for (const Bad& b : {
           Bad{[](auto& q) { q.set_worker_id_number(kBadCheckDigit); }, "worker_id_number"},
           Bad{[](auto& q) { q.set_worker_id_number("62050219900307"); }, "worker_id_number"},
           Bad{[](auto& q) { q.set_node("Labor Bureau"); }, "node"},
           Bad{[](auto& q) { q.set_page_size(-1); }, "page_size"},
           Bad{[](auto& q) { q.set_matter(static_cast<v1::Matter>(999)); }, "matter"},
           Bad{[](auto& q) {
                 *q.mutable_opened_from() =
                     google::protobuf::util::TimeUtil::SecondsToTimestamp(2000);
                 *q.mutable_opened_to() =
                     google::protobuf::util::TimeUtil::SecondsToTimestamp(1000);
               },
               "opened_to"},
           Bad{[](auto& q) { q.mutable_opened_from()->set_seconds(-62135596801); },
               "opened_from"},
           Bad{[](auto& q) { q.mutable_opened_to()->set_nanos(1000000000); }, "opened_to"},
       }) {
    v1::SearchCasesRequest q;
    q.set_purpose(kPurpose);
    b.fill(q);
    absl::Status s = broker_->SearchCases(kInvestigator, q).status();
    EXPECT_THAT(s, HasReason("INVALID_FIELD")) << b.field;
    EXPECT_EQ(ViewError(s).field, b.field);
  }
  EXPECT_THAT(Stream(absl::StrCat("audit-search:", kInvestigator)), IsEmpty());
}

// ------------------------------------------------------------------ cost

// What a rebuild at start costs: 1,000 cases of six events each (opened
// with three parties, two of them with ID numbers; referred, with its
// deadline; accepted, with the deadline met; completed) on a real store,
// read through the in-process port. Prints the figures; asserts only a
// generous bound so a slow machine does not fail it.
TEST(SearchIndexCost, RebuildPerThousandCases) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat("search_cost_", getpid());
  std::filesystem::remove_all(dir);
  storage::EventStoreOptions o;
  o.path = dir.string();
  o.sync = false;  // the writes are not what is measured
  auto store = storage::EventStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  caselog::CaseLog core;
  core.Attach(std::move(*store));
  LocalCaseLog log(&core);

  auto id_number = [](int i) {
    std::string s = absl::StrFormat("6205021990%02d%02d%03d", 1 + i % 12, 1 + i % 28, i % 1000);
    static constexpr int kW[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int k = 0; k < 17; ++k) sum += (s[k] - '0') * kW[k];
    return s + "10X98765432"[sum % 11];
  };
  constexpr int kCases = 1000;
  for (int i = 0; i < kCases; ++i) {
    const std::string case_id = absl::StrFormat("qinzhou.justice:2026-%06d", i + 1);
    const std::string r = case_id + "/r1";
    v1::AppendRequest a;
    a.set_case_id(case_id);
    auto add = [&](const char* kind) {
      v1::Event* e = a.add_events();
      e->set_event_id(absl::StrCat("cost.", i, ".", kind));
      e->set_source(kJustice);
      e->add_involved_nodes(kLabor);
      return e;
    };
    v1::CaseOpened* opened = add("open")->mutable_case_opened();
    opened->set_owning_node(kJustice);
    opened->set_matter(v1::MATTER_WAGE_ARREARS);
    opened->set_title("workers owed wages");
    opened->set_project(absl::StrCat("Project ", i % 50));
    for (int k = 0; k < 2; ++k) {
      v1::Party* w = opened->add_parties();
      w->set_role(v1::PARTY_ROLE_WORKER);
      w->set_name(absl::StrCat("Worker ", i, "-", k));
      w->set_contact("13912345678");
      w->set_id_number(id_number(i * 2 + k));
    }
    v1::Party* e = opened->add_parties();
    e->set_role(v1::PARTY_ROLE_EMPLOYER);
    e->set_name(absl::StrCat("Employer ", i % 100));
    v1::ReferralRequested* req = add("send")->mutable_referral_requested();
    req->set_referral_id(r);
    req->set_to_node(kLabor);
    req->set_purpose("order the contractor to pay");
    add("set")->mutable_deadline_set()->set_deadline_id(r + "/accept");
    add("accept")->mutable_referral_accepted()->set_referral_id(r);
    add("met")->mutable_deadline_cleared()->set_deadline_id(r + "/accept");
    add("done")->mutable_referral_completed()->set_referral_id(r);
    ASSERT_THAT(log.Append(a), IsOk());
  }

  SearchIndex index(&log, std::string(32, 'k'));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_THAT(index.Refresh(), IsOk());
  const double rebuild_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_EQ(index.size(), static_cast<size_t>(kCases));

  v1::SearchCasesRequest q;
  q.set_worker_id_number(id_number(1234));
  auto t0 = std::chrono::steady_clock::now();
  SearchIndex::Page by_id = index.Search(q, "", std::nullopt, 20);
  const double id_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(by_id.case_ids.size(), 1u);
  v1::SearchCasesRequest names;
  names.set_worker_name("worker 9");
  t0 = std::chrono::steady_clock::now();
  SearchIndex::Page by_name = index.Search(names, kJustice, std::nullopt, 20);
  const double name_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(by_name.case_ids.size(), 20u);

  const std::string figures = absl::StrFormat(
      "rebuild %d cases (%d events): %.1f ms, ~%d KB; search by ID %.0f us, by name "
      "prefix (scan) %.0f us",
      kCases, kCases * 6, rebuild_ms, static_cast<int>(index.ApproximateBytes() / 1024),
      id_us, name_us);
  std::cout << "[ cost     ] " << figures << "\n";
  ::testing::Test::RecordProperty("figures", figures);
  EXPECT_LT(rebuild_ms, 30000.0);

  core.Detach().reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace referral::broker
