// The broker's case cache: a command or a read pays for what is new in a
// case, never decides or answers on a case as it was, keeps its bound, and
// leaves the two guarantees of CaseCommands (once only, no lost update) as
// they were. Over a real event store on disk.

#include "services/referral/case_cache.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/referral/broker_fixture.h"
#include "services/referral/forwarding_log.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Records how cases are read: whole, or after which sequence.
class ReadRecordingLog final : public ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  absl::StatusOr<std::vector<v1::Event>> ReadCase(absl::string_view id) override {
    absl::MutexLock l(&mu_);
    ++whole_reads_;
    return ForwardingLog::ReadCase(id);
  }
  absl::StatusOr<CaseTail> ReadCaseFrom(absl::string_view id, uint64_t after) override {
    absl::StatusOr<CaseTail> tail = ForwardingLog::ReadCaseFrom(id, after);
    absl::MutexLock l(&mu_);
    tails_.push_back(after);
    if (tail.ok()) events_ += tail->events.size();
    return tail;
  }
  void Reset() {
    absl::MutexLock l(&mu_);
    whole_reads_ = 0;
    tails_.clear();
    events_ = 0;
  }
  int whole_reads() {
    absl::MutexLock l(&mu_);
    return whole_reads_;
  }
  std::vector<uint64_t> tails() {
    absl::MutexLock l(&mu_);
    return tails_;
  }
  size_t events() {
    absl::MutexLock l(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  int whole_reads_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> tails_ ABSL_GUARDED_BY(mu_);
  size_t events_ ABSL_GUARDED_BY(mu_) = 0;
};

// The negative control: once frozen, a tail read finds nothing new, which
// is what a cache that trusted what it holds would see.
class FrozenTailLog final : public ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  absl::StatusOr<CaseTail> ReadCaseFrom(absl::string_view id, uint64_t after) override {
    if (frozen) return CaseTail{.events = {}, .case_version = after};
    return ForwardingLog::ReadCaseFrom(id, after);
  }
  std::atomic<bool> frozen{false};
};

// A case log restored from an older copy: every case ends at `last`.
class OlderCopyLog final : public ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  absl::StatusOr<CaseTail> ReadCaseFrom(absl::string_view id, uint64_t after) override {
    ASSIGN_OR_RETURN(CaseTail tail, ForwardingLog::ReadCaseFrom(id, after));
    std::erase_if(tail.events, [&](const v1::Event& e) { return e.sequence() > last; });
    tail.case_version = std::min(tail.case_version, last);
    return tail;
  }
  uint64_t last = UINT64_MAX;
};

// Only the port's default ReadCaseFrom (a whole read, the prefix dropped).
class DefaultTailLog final : public ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  absl::StatusOr<CaseTail> ReadCaseFrom(absl::string_view id, uint64_t after) override {
    return CaseLogPort::ReadCaseFrom(id, after);
  }
};

class CaseCacheTest : public BrokerTest {
 protected:
  // Replaces the fixture's broker with one over `log`, so the fixture's
  // helpers (OpenCase, Send, Take) go through it.
  void UseBroker(CaseLogPort* log, size_t cache_bytes = CaseCache::kDefaultMaxBytes) {
    broker_ = std::make_unique<Broker>(log, local_directory_.get(),
                                       BrokerOptions{.case_cache_bytes = cache_bytes});
  }

  uint64_t Version(const std::string& case_id) {
    return log_.ReadCase(case_id).value().back().sequence();
  }

  // Appends `body` to the case as another service would: straight to the
  // case log, past this broker.
  void AppendAsAnotherWriter(const std::string& case_id, v1::Event e) {
    v1::AppendRequest r;
    r.set_case_id(case_id);
    r.set_expected(v1::EXPECTED_VERSION_ANY);
    e.set_event_id(absl::StrCat("other.", ++others_));
    e.set_source(kJustice);
    e.add_involved_nodes(kLabor);
    *r.add_events() = std::move(e);
    ASSERT_THAT(log_.Append(r).status(), IsOk());
  }

  v1::Event Cancelled(const std::string& referral_id) {
    v1::Event e;
    e.mutable_referral_cancelled()->set_referral_id(referral_id);
    e.mutable_referral_cancelled()->set_reason("withdrawn by the worker");
    return e;
  }

  int others_ = 0;
};

// ------------------------------------------------------------------ reads of the log

TEST_F(CaseCacheTest, ThePortReadsACaseFromASequenceOnOverEveryPage) {
  std::string case_id = OpenCase();
  // 1,100 more events: the tail spans two of the case log's 1,000-event pages.
  for (int batch = 0; batch < 11; ++batch) {
    v1::AppendRequest r;
    r.set_case_id(case_id);
    r.set_expected(v1::EXPECTED_VERSION_ANY);
    for (int i = 0; i < 100; ++i) {
      v1::Event* e = r.add_events();
      e->set_event_id(absl::StrCat("note.", batch, ".", i));
      e->set_source(kJustice);
      e->mutable_case_note_recorded()->set_note("called the contractor");
    }
    ASSERT_THAT(log_.Append(r).status(), IsOk());
  }
  DefaultTailLog by_default(&log_);
  for (CaseLogPort* port : std::vector<CaseLogPort*>{&log_, &by_default}) {
    ASSERT_OK_AND_ASSIGN(CaseTail all, port->ReadCaseFrom(case_id, 0));
    EXPECT_THAT(all.events, SizeIs(1101));
    EXPECT_EQ(all.case_version, 1101u);
    ASSERT_OK_AND_ASSIGN(CaseTail tail, port->ReadCaseFrom(case_id, 99));
    ASSERT_THAT(tail.events, SizeIs(1002));
    EXPECT_EQ(tail.events.front().sequence(), 100u);
    EXPECT_EQ(tail.events.back().sequence(), 1101u);
    ASSERT_OK_AND_ASSIGN(CaseTail none, port->ReadCaseFrom(case_id, 1101));
    EXPECT_THAT(none.events, IsEmpty());
    EXPECT_EQ(none.case_version, 1101u);
    EXPECT_THAT(port->ReadCaseFrom("qinzhou.justice:2026-999999", 0),
                HasReason("CASE_NOT_FOUND"));
  }
}

// ------------------------------------------------------------------ what a command reads

TEST_F(CaseCacheTest, ACommandReadsOnlyWhatWasAppendedSinceTheBrokerLastLooked) {
  ReadRecordingLog recording(&log_);
  UseBroker(&recording);
  std::string case_id = OpenCase();
  Send(case_id);
  const uint64_t version = Version(case_id);
  recording.Reset();

  std::string id = Send(case_id);
  // No whole read: before deciding it asks for what follows the version it
  // holds (nothing), after appending for its own two events (the referral
  // and its deadline).
  EXPECT_EQ(recording.whole_reads(), 0);
  EXPECT_THAT(recording.tails(), ElementsAre(version, version));
  EXPECT_EQ(recording.events(), 2u);

  // A read costs one tail read too, and shows the case as it is.
  recording.Reset();
  ASSERT_OK_AND_ASSIGN(v1::Referral r, broker_->GetReferral(kLabor, id));
  EXPECT_EQ(r.case_version(), version + 1);
  EXPECT_EQ(recording.whole_reads(), 0);
  EXPECT_THAT(recording.tails(), ElementsAre(version + 2));
  EXPECT_EQ(recording.events(), 0u);
}

// ------------------------------------------------------------------ other writers

TEST_F(CaseCacheTest, ACaseChangedByAnotherWriterIsSeenByTheNextReadAndCommand) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_OK_AND_ASSIGN(v1::Referral before, broker_->GetReferral(kLabor, id));
  ASSERT_EQ(before.state(), v1::REFERRAL_STATE_REQUESTED);  // now held as REQUESTED

  AppendAsAnotherWriter(case_id, Cancelled(id));
  const uint64_t version = Version(case_id);

  ASSERT_OK_AND_ASSIGN(v1::Case c, broker_->GetCase(kJustice, case_id));
  EXPECT_EQ(c.version(), version);
  ASSERT_OK_AND_ASSIGN(v1::Referral after, broker_->GetReferral(kLabor, id));
  EXPECT_EQ(after.state(), v1::REFERRAL_STATE_CANCELLED);
  // The addressee cannot accept what the sender withdrew, and nothing is
  // written.
  EXPECT_THAT(Take(Action::kAccept, kLabor, id), HasReason("REFERRAL_STATE_CONFLICT"));
  EXPECT_EQ(Version(case_id), version);
  // A note by another service moves the version the next command decides on.
  v1::Event note;
  note.mutable_case_note_recorded()->set_note("the contractor called back");
  AppendAsAnotherWriter(case_id, note);
  std::string next = Send(case_id, kArbitration);
  ASSERT_OK_AND_ASSIGN(v1::Referral sent, broker_->GetReferral(kJustice, next));
  EXPECT_EQ(sent.case_version(), version + 2);
}

// The same steps with the tail reads frozen after the case is held: the
// broker would answer and decide on the stale state. The checks above catch
// exactly that; the expected version still keeps the stale decision out.
TEST_F(CaseCacheTest, NegativeControlACacheThatTrustedItselfWouldBeCaughtByTheseChecks) {
  FrozenTailLog frozen(&log_);
  UseBroker(&frozen);
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_OK_AND_ASSIGN(v1::Referral before, broker_->GetReferral(kLabor, id));
  ASSERT_EQ(before.state(), v1::REFERRAL_STATE_REQUESTED);

  frozen.frozen = true;
  AppendAsAnotherWriter(case_id, Cancelled(id));
  const uint64_t version = Version(case_id);

  ASSERT_OK_AND_ASSIGN(v1::Referral after, broker_->GetReferral(kLabor, id));
  EXPECT_EQ(after.state(), v1::REFERRAL_STATE_REQUESTED);  // stale: caught above
  absl::StatusOr<v1::Referral> accepted = Take(Action::kAccept, kLabor, id);
  EXPECT_THAT(accepted, ::testing::Not(HasReason("REFERRAL_STATE_CONFLICT")));
  EXPECT_THAT(accepted, HasReason("CONCURRENT_MODIFICATION"));  // the append's guard
  EXPECT_EQ(Version(case_id), version);
}

TEST_F(CaseCacheTest, ALogRestoredFromAnOlderCopyIsFoldedAgainFromTheStart) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  const uint64_t version = Version(case_id);
  OlderCopyLog older(&log_);
  CaseCache cache(&older, CaseCache::kDefaultMaxBytes);
  auto state_of = [&] {
    v1::ReferralState state = v1::REFERRAL_STATE_UNSPECIFIED;
    uint64_t seen = 0;
    EXPECT_THAT(cache.Visit(case_id,
                            [&](const CaseState& s) {
                              seen = s.version;
                              state = s.projection.FindReferral(id)->state();
                              return absl::OkStatus();
                            }),
                IsOk());
    return std::pair(seen, state);
  };
  EXPECT_EQ(state_of(), std::pair(version, v1::REFERRAL_STATE_ACCEPTED));
  // The copy ends before the acceptance (and its deadline's clearing).
  older.last = version - 2;
  EXPECT_EQ(state_of(), std::pair(version - 2, v1::REFERRAL_STATE_REQUESTED));
}

// ------------------------------------------------------------------ once only

TEST_F(CaseCacheTest, ARetryReturnsItsFirstAnswerAfterTheCaseMovedOnAndAfterEviction) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_OK_AND_ASSIGN(v1::Referral accepted,
                       Take(Action::kAccept, kLabor, id, "accept-1"));
  ASSERT_THAT(Take(Action::kStart, kLabor, id), IsOk());
  const uint64_t version = Version(case_id);

  // Held, and the case is past the command: answered as the command left it.
  ASSERT_TRUE(broker_->case_cache().Holds(case_id));
  ASSERT_OK_AND_ASSIGN(v1::Referral retried,
                       Take(Action::kAccept, kLabor, id, "accept-1"));
  EXPECT_EQ(retried.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(retried.case_version(), accepted.case_version());

  // A broker whose bound holds about one such case: opening another evicts it.
  const size_t one_case = broker_->case_cache().stats().bytes;
  UseBroker(&log_, one_case + 64);
  ASSERT_THAT(broker_->GetCase(kJustice, case_id), IsOk());
  ASSERT_TRUE(broker_->case_cache().Holds(case_id));
  std::string other = OpenCase();
  ASSERT_FALSE(broker_->case_cache().Holds(case_id));
  ASSERT_TRUE(broker_->case_cache().Holds(other));

  ASSERT_OK_AND_ASSIGN(retried, Take(Action::kAccept, kLabor, id, "accept-1"));
  EXPECT_EQ(retried.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(retried.case_version(), accepted.case_version());
  EXPECT_EQ(Version(case_id), version);
  // And the same request id with another body is still refused.
  EXPECT_THAT(Take(Action::kHold, kLabor, id, "accept-1"), HasReason("REQUEST_ID_REUSED"));
  EXPECT_EQ(Version(case_id), version);
}

// ------------------------------------------------------------------ the bound

TEST_F(CaseCacheTest, EvictsTheLeastRecentlyUsedCasesToStayWithinItsBound) {
  const std::string a = OpenCase(), b = OpenCase(), c = OpenCase();
  auto visit = [](CaseCache& cache, const std::string& id) {
    bool opened = false;
    EXPECT_THAT(cache.Visit(id,
                            [&](const CaseState& s) {
                              opened = s.projection.opened();
                              return absl::OkStatus();
                            }),
                IsOk());
    return opened;
  };
  CaseCache probe(&log_, CaseCache::kDefaultMaxBytes);
  ASSERT_TRUE(visit(probe, a));
  const size_t one = probe.stats().bytes;
  ASSERT_GT(one, CaseCache::kEntryOverhead);

  // Room for two of these (same shape, a few bytes apart).
  CaseCache cache(&log_, 2 * one + one / 2);
  ASSERT_TRUE(visit(cache, a));
  ASSERT_TRUE(visit(cache, b));
  ASSERT_TRUE(visit(cache, a));  // a is now the more recently used
  ASSERT_TRUE(visit(cache, c));
  EXPECT_TRUE(cache.Holds(a));
  EXPECT_FALSE(cache.Holds(b));
  EXPECT_TRUE(cache.Holds(c));
  CaseCache::Stats s = cache.stats();
  EXPECT_EQ(s.cases, 2u);
  EXPECT_LE(s.bytes, s.max_bytes);
  EXPECT_EQ(s.evictions, 1u);

  // A case bigger than the whole bound is folded for the call and not
  // kept, and pushes out nothing; nor is a case the log does not have kept.
  const std::string big = OpenCase();
  for (int i = 0; i < 8; ++i) Send(big);
  ASSERT_TRUE(visit(probe, big));
  ASSERT_GT(probe.stats().bytes - one, s.max_bytes);
  EXPECT_TRUE(visit(cache, big));
  EXPECT_FALSE(cache.Holds(big));
  EXPECT_FALSE(visit(cache, "qinzhou.justice:2026-999999"));
  EXPECT_FALSE(cache.Holds("qinzhou.justice:2026-999999"));
  EXPECT_TRUE(cache.Holds(a));
  EXPECT_TRUE(cache.Holds(c));
  EXPECT_EQ(cache.stats().cases, 2u);
  EXPECT_LE(cache.stats().bytes, s.max_bytes);
  CaseCache tiny(&log_, one / 2);
  EXPECT_TRUE(visit(tiny, a));
  EXPECT_FALSE(tiny.Holds(a));
  EXPECT_EQ(tiny.stats().bytes, 0u);
}

TEST_F(CaseCacheTest, WithNoRoomEveryCommandReadsItsCaseWholeAndStillWorks) {
  ReadRecordingLog recording(&log_);
  UseBroker(&recording, 0);
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kReceive, kLabor, id), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Referral r, Take(Action::kAccept, kLabor, id));
  EXPECT_EQ(r.state(), v1::REFERRAL_STATE_ACCEPTED);
  for (uint64_t after : recording.tails()) EXPECT_EQ(after, 0u);
  EXPECT_EQ(broker_->case_cache().stats().cases, 0u);
}

// ------------------------------------------------------------------ no lost update

// Sends until the broker answers other than ABORTED, with the same request
// (what a client does with CONCURRENT_MODIFICATION).
absl::StatusOr<v1::Referral> SendUntilDecided(Broker& broker, const v1::SendReferralRequest& r) {
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<v1::Referral> out = broker.SendReferral(kJustice, r);
    if (out.status().code() != absl::StatusCode::kAborted) return out;
  }
  return absl::AbortedError("still contended after 100 tries");
}

TEST_F(CaseCacheTest, EightThreadsOnOneCaseLoseNoUpdate) {
  constexpr int kThreads = 8, kEach = 4;
  std::string case_id = OpenCase();
  std::vector<std::thread> threads;
  absl::Mutex mu;
  std::vector<std::string> answered;
  std::vector<absl::Status> failures;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        v1::SendReferralRequest r = SendRequest(case_id);
        r.set_request_id(absl::StrCat("thread-", t, "-", k));
        absl::StatusOr<v1::Referral> sent = SendUntilDecided(*broker_, r);
        absl::MutexLock l(&mu);
        if (sent.ok()) {
          answered.push_back(sent->referral_id());
        } else {
          failures.push_back(sent.status());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_THAT(failures, IsEmpty());

  // Every command's answer is its own referral, and the log holds exactly
  // those: r1..r32, each with its acceptance deadline, gapless.
  std::set<std::string> distinct(answered.begin(), answered.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<v1::Event> events = log_.ReadCase(case_id).value();
  std::set<std::string> requested;
  int deadlines = 0;
  for (const auto& e : events) {
    if (e.has_referral_requested()) requested.insert(e.referral_requested().referral_id());
    deadlines += e.has_deadline_set();
  }
  EXPECT_EQ(requested, distinct);
  EXPECT_EQ(deadlines, kThreads * kEach);
  EXPECT_EQ(events.size(), 1u + 2u * kThreads * kEach);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence(), i + 1);
  for (int n = 1; n <= kThreads * kEach; ++n) {
    EXPECT_TRUE(requested.contains(absl::StrCat(case_id, "/r", n))) << n;
  }

  // Eight addressees' clerks accept the same referral at once: one step.
  const std::string id = absl::StrCat(case_id, "/r1");
  std::atomic<int> ok{0}, conflict{0};
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      v1::AcceptReferralRequest r;
      r.set_request_id(absl::StrCat("accept-", t));
      r.set_referral_id(id);
      for (int i = 0; i < 100; ++i) {
        absl::StatusOr<v1::Referral> a = broker_->Accept(kLabor, r);
        if (a.status().code() == absl::StatusCode::kAborted) continue;
        if (a.ok()) ++ok;
        if (ViewError(a.status()).reason == "REFERRAL_STATE_CONFLICT") ++conflict;
        return;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), kThreads - 1);
  int accepts = 0;
  events = log_.ReadCase(case_id).value();
  for (const auto& e : events) accepts += e.has_referral_accepted();
  EXPECT_EQ(accepts, 1);
}

}  // namespace
}  // namespace referral::broker
