// The on-disk key and record encodings (storage/keys.h): byte order is
// numeric order, every encoding round-trips, and no case's or index's key
// range reaches into another's.

#include "storage/keys.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::storage::keys {
namespace {

const std::vector<uint64_t>& Numbers() {
  static const auto* n = new std::vector<uint64_t>{
      0,           1,           2,          127,        128,
      255,         256,         257,        65535,      65536,
      1u << 24,    (1ull << 32) - 1,        1ull << 32, (1ull << 56) - 1,
      1ull << 56,  1ull << 63,  UINT64_MAX - 1,         UINT64_MAX};
  return *n;
}

std::string Be(uint64_t v) {
  std::string s;
  PutBigEndian64(&s, v);
  return s;
}

// True when `key` sorts in [CasePrefix(case_id), CaseUpperBound(case_id)),
// the range the store scans for a case.
bool InCaseRange(const std::string& key, const std::string& case_id) {
  return key >= CasePrefix(case_id) && key < CaseUpperBound(case_id);
}

TEST(Keys, BigEndianIsEightBytesMostSignificantFirst) {
  EXPECT_EQ(Be(0), std::string(8, '\0'));
  EXPECT_EQ(Be(1), std::string("\0\0\0\0\0\0\0\x01", 8));
  EXPECT_EQ(Be(0x0102030405060708ull), "\x01\x02\x03\x04\x05\x06\x07\x08");
  std::string appended = "prefix";
  PutBigEndian64(&appended, 258);
  EXPECT_EQ(appended, std::string("prefix\0\0\0\0\0\0\x01\x02", 14));
}

TEST(Keys, BigEndianRoundTrips) {
  for (uint64_t v : Numbers()) {
    EXPECT_EQ(GetBigEndian64(Be(v)), v) << v;
  }
  // Reads only the first eight bytes.
  EXPECT_EQ(GetBigEndian64(Be(42) + "trailing"), 42u);
}

TEST(Keys, ByteOrderOfEncodedIntegersIsNumericOrder) {
  for (uint64_t a : Numbers()) {
    for (uint64_t b : Numbers()) {
      EXPECT_EQ(a < b, Be(a) < Be(b)) << a << " vs " << b;
      EXPECT_EQ(a < b, PositionKey(a) < PositionKey(b)) << a << " vs " << b;
      EXPECT_EQ(a < b, EventKey("case-a", a) < EventKey("case-a", b))
          << a << " vs " << b;
      EXPECT_EQ(a < b, IndexKey(TypeIndexPrefix("referral.v1.CaseOpened"), a) <
                           IndexKey(TypeIndexPrefix("referral.v1.CaseOpened"), b))
          << a << " vs " << b;
    }
  }
}

TEST(Keys, EventKeyRoundTrips) {
  for (const std::string& case_id :
       {std::string("c1"), std::string("qinzhou.justice:2026-000123"),
        std::string(128, 'z')}) {
    for (uint64_t seq : Numbers()) {
      std::string key = EventKey(case_id, seq);
      absl::string_view parsed_case;
      uint64_t parsed_seq = 0;
      ASSERT_TRUE(ParseEventKey(key, &parsed_case, &parsed_seq));
      EXPECT_EQ(parsed_case, case_id);
      EXPECT_EQ(parsed_seq, seq);
      EXPECT_EQ(key, CasePrefix(case_id) + Be(seq));
    }
  }
}

TEST(Keys, MalformedEventKeysDoNotParse) {
  absl::string_view c;
  uint64_t s = 0;
  EXPECT_FALSE(ParseEventKey("", &c, &s));
  EXPECT_FALSE(ParseEventKey(Be(1), &c, &s)) << "no case id and no separator";
  EXPECT_FALSE(ParseEventKey(std::string("\0", 1) + Be(1), &c, &s))
      << "an empty case id";
  EXPECT_FALSE(ParseEventKey("c1x" + Be(1), &c, &s)) << "no separator";
  EXPECT_FALSE(ParseEventKey(EventKey("c1", 1).substr(0, 9), &c, &s))
      << "truncated";
}

TEST(Keys, EveryEventOfACaseLiesInItsRange) {
  for (uint64_t seq : Numbers()) {
    EXPECT_TRUE(InCaseRange(EventKey("c1", seq), "c1")) << seq;
  }
}

TEST(Keys, ACaseIdThatIsAPrefixOfAnotherDoesNotLeakIntoItsRange) {
  // "c1" is a prefix of "c10", "c1.x", "c1-", "c1:", "c1_"; every character a
  // case id may hold sorts above the separator.
  for (const char* other : {"c10", "c1.x", "c1-", "c1:", "c1_", "c1a"}) {
    for (uint64_t seq : Numbers()) {
      EXPECT_FALSE(InCaseRange(EventKey(other, seq), "c1")) << other << " " << seq;
      EXPECT_FALSE(InCaseRange(EventKey("c1", seq), other)) << other << " " << seq;
    }
  }
  // Nor does a case whose id is a prefix of this one leak the other way.
  for (uint64_t seq : Numbers()) {
    EXPECT_FALSE(InCaseRange(EventKey("c", seq), "c1"));
    EXPECT_FALSE(InCaseRange(EventKey("c1", seq), "c"));
  }
}

TEST(Keys, IndexRangesOfANodeThatIsAPrefixOfAnotherAreApart) {
  // The store scans [IndexKey(prefix, from), IndexKey(prefix, last + 1)).
  const std::string justice = NodeIndexPrefix("qinzhou.justice");
  const std::string town = NodeIndexPrefix("qinzhou.justice.maiji-town");
  for (uint64_t pos : Numbers()) {
    if (pos == UINT64_MAX) continue;
    const std::string k = IndexKey(town, pos);
    EXPECT_FALSE(k >= IndexKey(justice, 0) && k < IndexKey(justice, UINT64_MAX))
        << pos;
    const std::string j = IndexKey(justice, pos);
    EXPECT_FALSE(j >= IndexKey(town, 0) && j < IndexKey(town, UINT64_MAX)) << pos;
  }
  // The three index families never share a prefix.
  EXPECT_NE(TypeIndexPrefix("x")[0], NodeIndexPrefix("x")[0]);
  EXPECT_NE(NodeIndexPrefix("x")[0], NodeTypeIndexPrefix("x", "y")[0]);
  EXPECT_NE(NodeTypeIndexPrefix("a", "b.c"), NodeTypeIndexPrefix("a.b", "c"));
}

TEST(Keys, IndexKeyIsPrefixThenBigEndianPosition) {
  EXPECT_EQ(IndexKey(TypeIndexPrefix("referral.v1.CaseOpened"), 7),
            std::string("Treferral.v1.CaseOpened\0", 24) + Be(7));
  EXPECT_EQ(IndexKey(NodeIndexPrefix("qinzhou.court"), 7),
            std::string("Nqinzhou.court\0", 15) + Be(7));
  EXPECT_EQ(IndexKey(NodeTypeIndexPrefix("qinzhou.court", "referral.v1.CaseOpened"), 7),
            std::string("Xqinzhou.court\0referral.v1.CaseOpened\0", 38) + Be(7));
  EXPECT_EQ(IndexKey("", 7), PositionKey(7));
}

TEST(Keys, EventRecordRoundTrips) {
  const std::string hash(32, '\xab');
  for (const std::string& body : {std::string(), std::string("body"),
                                 std::string("\0\x01\xff", 3)}) {
    std::string record = EncodeEventRecord(hash, body);
    absl::string_view h, b;
    ASSERT_TRUE(DecodeEventRecord(record, &h, &b));
    EXPECT_EQ(h, hash);
    EXPECT_EQ(b, body);
  }
  absl::string_view h, b;
  EXPECT_FALSE(DecodeEventRecord(std::string(31, 'x'), &h, &b))
      << "shorter than a hash";
}

TEST(Keys, IdRecordRoundTrips) {
  IdRecord in;
  in.digest = std::string(32, '\x01');
  in.hash = std::string(32, '\xfe');
  in.sequence = 0x0102030405060708ull;
  in.position = UINT64_MAX;
  in.case_id = "qinzhou.justice:2026-000123";
  IdRecord out;
  ASSERT_TRUE(DecodeIdRecord(EncodeIdRecord(in), &out));
  EXPECT_EQ(out.digest, in.digest);
  EXPECT_EQ(out.hash, in.hash);
  EXPECT_EQ(out.sequence, in.sequence);
  EXPECT_EQ(out.position, in.position);
  EXPECT_EQ(out.case_id, in.case_id);
  EXPECT_FALSE(DecodeIdRecord(EncodeIdRecord(in).substr(0, 79), &out));
}

TEST(Keys, HeadRecordRoundTrips) {
  for (uint64_t version : Numbers()) {
    HeadRecord in{version, std::string(32, static_cast<char>(version & 0xff))};
    HeadRecord out;
    ASSERT_TRUE(DecodeHeadRecord(EncodeHeadRecord(in), &out));
    EXPECT_EQ(out.version, version);
    EXPECT_EQ(out.hash, in.hash);
  }
  HeadRecord out;
  EXPECT_FALSE(DecodeHeadRecord(std::string(39, 'x'), &out));
  EXPECT_FALSE(DecodeHeadRecord(std::string(41, 'x'), &out));
}

TEST(Keys, CheckpointRoundTripsIncludingTimesBefore1970) {
  for (int64_t micros : {int64_t{0}, int64_t{1767225600000000}, int64_t{-1},
                         INT64_MIN, INT64_MAX}) {
    for (uint64_t position : {uint64_t{0}, uint64_t{1}, UINT64_MAX}) {
      uint64_t p = 0;
      int64_t m = 0;
      ASSERT_TRUE(DecodeCheckpoint(EncodeCheckpoint(position, micros), &p, &m));
      EXPECT_EQ(p, position);
      EXPECT_EQ(m, micros);
    }
  }
  uint64_t p = 0;
  int64_t m = 0;
  EXPECT_FALSE(DecodeCheckpoint(std::string(15, 'x'), &p, &m));
}

}  // namespace
}  // namespace referral::storage::keys
