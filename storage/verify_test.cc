// Verify (storage/event_store.h): a case's SHA-256 chain is recomputed from
// its first event, and any altered, removed, inserted or reordered event is
// named by its sequence. Each tamper test closes the store, edits the RocksDB
// database underneath it directly (as an attacker with disk access would),
// and reopens it. The harness's own round trip is the negative control.

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_store.h"
#include "storage/hash_chain.h"
#include "storage/keys.h"
#include "storage/testing/store_fixture.h"

namespace referral::storage {
namespace {

using ::referral::storage::testing::Batch;
using ::referral::storage::testing::HasReason;
using ::referral::storage::testing::Note;
using ::referral::storage::testing::Opened;
using ::referral::storage::testing::RawDb;
using ::referral::storage::testing::StatusIs;
using ::referral::storage::testing::StoreFixture;
using ::referral::storage::testing::kNoteType;

constexpr absl::string_view kCase = "qinzhou.justice:2026-000123";
constexpr absl::string_view kOtherCase = "qinzhou.justice:2026-000124";
constexpr uint64_t kEvents = 5;

// A stored event record taken apart.
struct Stored {
  std::string hash;
  std::string body;
  Event event;
};

Stored Decode(const std::string& record) {
  Stored s;
  absl::string_view hash, body;
  EXPECT_TRUE(keys::DecodeEventRecord(record, &hash, &body));
  s.hash = std::string(hash);
  s.body = std::string(body);
  EXPECT_TRUE(s.event.ParseFromString(s.body));
  return s;
}

// The record an attacker who knows the format writes for `e`: a body that
// chains to `prev` and the hash that matches it.
std::string ForgeRecord(Event e, const std::string& prev) {
  e.clear_hash();
  e.set_prev_hash(prev);
  const std::string body = SerializeDeterministic(e);
  return keys::EncodeEventRecord(ChainHash(prev, body), body);
}

class Verify : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    // kCase: sequences 1..5 over three appends, interleaved with kOtherCase.
    AppendOk(kCase, Batch({Opened("e1"), Note("e2", "note number 2")}));
    AppendOk(kOtherCase, Batch({Opened("o1")}));
    AppendOk(kCase, Batch({Note("e3", "note number 3")}));
    AppendOk(kOtherCase, Batch({Note("o2", "other note")}));
    last_ = AppendOk(kCase, Batch({Note("e4", "note number 4"),
                                   Note("e5", "note number 5")}));
    ASSERT_EQ(last_.last_sequence, kEvents);
  }

  // Closes the store, lets `edit` change the database directly, reopens.
  void Tamper(const std::function<void(RawDb&)>& edit) {
    Close();
    {
      RawDb db(options_.path);
      ASSERT_TRUE(db.status().ok()) << db.status().ToString();
      edit(db);
    }
    Reopen();
  }

  static std::string Key(uint64_t sequence) {
    return keys::EventKey(kCase, sequence);
  }

  // Verify finds kCase broken first at `sequence`, and kOtherCase intact.
  void ExpectBrokenAt(uint64_t sequence) {
    ASSERT_OK_AND_ASSIGN(VerifyResult r, store_->Verify(kCase));
    EXPECT_FALSE(r.intact);
    EXPECT_EQ(r.first_bad_sequence, sequence) << r.problem;
    EXPECT_FALSE(r.problem.empty());
    ASSERT_OK_AND_ASSIGN(VerifyResult other, store_->Verify(kOtherCase));
    EXPECT_TRUE(other.intact) << other.problem;
  }

  void ExpectIntact() {
    ASSERT_OK_AND_ASSIGN(VerifyResult r, store_->Verify(kCase));
    EXPECT_TRUE(r.intact) << "first bad " << r.first_bad_sequence << ": "
                          << r.problem;
    EXPECT_EQ(r.events_checked, kEvents);
    EXPECT_EQ(r.head_hash, last_.head_hash);
  }

  AppendResult last_;
};

TEST_F(Verify, AnUntouchedCaseIsIntact) {
  ASSERT_OK_AND_ASSIGN(VerifyResult r, store_->Verify(kCase));
  EXPECT_TRUE(r.intact) << r.problem;
  EXPECT_EQ(r.events_checked, kEvents);
  EXPECT_EQ(r.head_hash, last_.head_hash);
  EXPECT_EQ(r.head_hash.size(), kHashSize);
  EXPECT_EQ(r.first_bad_sequence, 0u);
  ASSERT_OK_AND_ASSIGN(VerifyResult other, store_->Verify(kOtherCase));
  EXPECT_TRUE(other.intact);
  EXPECT_EQ(other.events_checked, 2u);
}

TEST_F(Verify, AnUnknownCaseIsNotFound) {
  auto r = store_->Verify("qinzhou.justice:2026-999999");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r, HasReason("CASE_NOT_FOUND"));
  EXPECT_THAT(store_->Verify("Not A Case"), HasReason("INVALID_FIELD"));
}

TEST_F(Verify, TheHarnessRoundTripAloneBreaksNothing) {
  // Negative control: read every record and write it back unchanged through
  // the same raw access the tamper tests use.
  Tamper([](RawDb& db) {
    for (uint64_t s = 1; s <= kEvents; ++s) {
      db.Put(db.events(), Key(s), db.Get(db.events(), Key(s)));
    }
    db.Put(db.streams(), std::string(kCase),
           db.Get(db.streams(), std::string(kCase)));
  });
  ExpectIntact();
}

TEST_F(Verify, AnAlteredBodyByteIsNamedByItsSequence) {
  for (uint64_t k : {uint64_t{2}, uint64_t{3}, kEvents}) {
    SCOPED_TRACE(absl::StrCat("altered sequence ", k));
    std::string original;
    Tamper([&](RawDb& db) {
      original = db.Get(db.events(), Key(k));
      std::string altered = original;
      const size_t at = altered.find(absl::StrCat("number ", k));
      ASSERT_NE(at, std::string::npos);
      ASSERT_GE(at, kHashSize) << "the text lies in the body, not the hash";
      altered[at] = 'N';  // "number k" -> "Number k": still parses
      db.Put(db.events(), Key(k), altered);
    });
    ExpectBrokenAt(k);
    Tamper([&](RawDb& db) { db.Put(db.events(), Key(k), original); });
    ExpectIntact();
  }
}

TEST_F(Verify, AnAlteredFirstEventIsNamedAsSequenceOne) {
  Tamper([](RawDb& db) {
    Stored s = Decode(db.Get(db.events(), Key(1)));
    s.event.mutable_case_opened()->set_title("a different title");
    db.Put(db.events(), Key(1),
           keys::EncodeEventRecord(s.hash, SerializeDeterministic(s.event)));
  });
  ExpectBrokenAt(1);
}

TEST_F(Verify, ARemovedMiddleEventIsNamedByItsSequence) {
  Tamper([](RawDb& db) { db.Delete(db.events(), Key(3)); });
  ExpectBrokenAt(3);
}

TEST_F(Verify, ARemovedLastEventIsNamedByItsSequence) {
  Tamper([](RawDb& db) { db.Delete(db.events(), Key(kEvents)); });
  ExpectBrokenAt(kEvents);
}

TEST_F(Verify, TwoSwappedEventsAreNamedByTheFirstOfThem) {
  Tamper([](RawDb& db) {
    const std::string two = db.Get(db.events(), Key(2));
    const std::string four = db.Get(db.events(), Key(4));
    db.Put(db.events(), Key(2), four);
    db.Put(db.events(), Key(4), two);
  });
  ExpectBrokenAt(2);
}

TEST_F(Verify, TwoAdjacentSwappedEventsAreNamedByTheFirstOfThem) {
  Tamper([](RawDb& db) {
    const std::string three = db.Get(db.events(), Key(3));
    const std::string four = db.Get(db.events(), Key(4));
    db.Put(db.events(), Key(3), four);
    db.Put(db.events(), Key(4), three);
  });
  ExpectBrokenAt(3);
}

TEST_F(Verify, AnEventInsertedInTheMiddleIsNamedByItsSequence) {
  constexpr uint64_t k = 3;
  Tamper([](RawDb& db) {
    // Move k..5 up to k+1..6, then forge a well-formed event at k that
    // chains correctly to k-1.
    for (uint64_t s = kEvents; s >= k; --s) {
      db.Put(db.events(), Key(s + 1), db.Get(db.events(), Key(s)));
    }
    Stored before = Decode(db.Get(db.events(), Key(k - 1)));
    Event forged = Note("forged-1", "a note that never was");
    forged.set_subject(std::string(kCase));
    forged.set_type(std::string(kNoteType));
    forged.set_sequence(k);
    forged.set_global_position(before.event.global_position() + 1);
    *forged.mutable_recorded_time() = before.event.recorded_time();
    *forged.mutable_time() = before.event.time();
    db.Put(db.events(), Key(k), ForgeRecord(forged, before.hash));
  });
  ExpectBrokenAt(k);
}

TEST_F(Verify, AnEventAppendedBehindTheStoresBackIsNamedByItsSequence) {
  Tamper([](RawDb& db) {
    Stored last = Decode(db.Get(db.events(), Key(kEvents)));
    Event forged = Note("forged-2", "appended by hand");
    forged.set_subject(std::string(kCase));
    forged.set_type(std::string(kNoteType));
    forged.set_sequence(kEvents + 1);
    db.Put(db.events(), Key(kEvents + 1), ForgeRecord(forged, last.hash));
  });
  ExpectBrokenAt(kEvents + 1);
}

// The attacker rewrites event k and recomputes its stored hash, then re-chains
// every later event and the case head, so that the chain alone is
// self-consistent. Only the event_ids index still remembers the true hashes.
void RewriteChainFrom(RawDb& db, uint64_t k,
                      const std::function<void(Event&)>& alter) {
  std::string prev = k == 1 ? GenesisHash()
                            : Decode(db.Get(db.events(), keys::EventKey(kCase, k - 1))).hash;
  for (uint64_t s = k; s <= kEvents; ++s) {
    Stored stored = Decode(db.Get(db.events(), keys::EventKey(kCase, s)));
    if (s == k) alter(stored.event);
    const std::string record = ForgeRecord(stored.event, prev);
    db.Put(db.events(), keys::EventKey(kCase, s), record);
    absl::string_view hash, body;
    ASSERT_TRUE(keys::DecodeEventRecord(record, &hash, &body));
    prev = std::string(hash);
  }
  keys::HeadRecord head;
  ASSERT_TRUE(keys::DecodeHeadRecord(db.Get(db.streams(), std::string(kCase)),
                                     &head));
  head.hash = prev;
  db.Put(db.streams(), std::string(kCase), keys::EncodeHeadRecord(head));
}

TEST_F(Verify, RechainingWithoutAlteringAnythingStaysIntact) {
  // Negative control for the next test: the attacker's re-chaining is
  // faithful, so whatever Verify catches there is the alteration itself.
  Tamper([](RawDb& db) { RewriteChainFrom(db, 3, [](Event&) {}); });
  ExpectIntact();
}

TEST_F(Verify, AnAlteredEventWithItsHashRecomputedIsCaughtByTheIdWitness) {
  Tamper([](RawDb& db) {
    RewriteChainFrom(db, 3, [](Event& e) {
      e.mutable_case_note_recorded()->set_note("note number 3, rewritten");
    });
  });
  ExpectBrokenAt(3);
}

TEST_F(Verify, AnEventWhoseOwnHashAloneWasRecomputedIsNamedByItsSequence) {
  Tamper([](RawDb& db) {
    Stored two = Decode(db.Get(db.events(), Key(2)));
    Stored three = Decode(db.Get(db.events(), Key(3)));
    three.event.mutable_case_note_recorded()->set_note("rewritten");
    db.Put(db.events(), Key(3), ForgeRecord(three.event, two.hash));
  });
  ExpectBrokenAt(3);
}

TEST_F(Verify, AnUnparseableRecordIsNamedByItsSequence) {
  Tamper([](RawDb& db) {
    db.Put(db.events(), Key(4), std::string(kHashSize, 'h') + "\xff\xff\xff");
  });
  ExpectBrokenAt(4);
}

// GAP, NOT RUN (see the report): DESIGN.md promises that "any altered,
// removed or reordered event fails Verify", but an attacker who deletes the
// last event and also rewinds the case head (streams family) to the previous
// event leaves a chain that Verify calls intact, although the event_ids index
// and the global feed still name the removed event. event_store.h does not
// spell this case out, so the test is disabled rather than failing; enable
// it if Verify learns to consult those witnesses for the tail.
TEST_F(Verify, DISABLED_ARemovedTailWithTheHeadRewoundIsNamedByItsSequence) {
  Tamper([](RawDb& db) {
    Stored before = Decode(db.Get(db.events(), Key(kEvents - 1)));
    db.Delete(db.events(), Key(kEvents));
    db.Put(db.streams(), std::string(kCase),
           keys::EncodeHeadRecord({kEvents - 1, before.hash}));
  });
  ExpectBrokenAt(kEvents);
}

}  // namespace
}  // namespace referral::storage
