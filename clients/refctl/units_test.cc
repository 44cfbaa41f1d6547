#include "clients/refctl/units.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/digest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::refctl {
namespace {

TEST(ParseYuanToFen, WholeAndDecimalYuan) {
  EXPECT_EQ(*ParseYuanToFen("460000"), 46000000);
  EXPECT_EQ(*ParseYuanToFen("460,000"), 46000000);
  EXPECT_EQ(*ParseYuanToFen("1,234,567.89"), 123456789);
  EXPECT_EQ(*ParseYuanToFen("1234.5"), 123450);
  EXPECT_EQ(*ParseYuanToFen("0.01"), 1);
  EXPECT_EQ(*ParseYuanToFen("0"), 0);
  EXPECT_EQ(*ParseYuanToFen(" 88 "), 8800);
  EXPECT_EQ(*ParseYuanToFen("460000元"), 46000000);
  EXPECT_EQ(*ParseYuanToFen("007"), 700);
}

TEST(ParseYuanToFen, RefusesWhatIsNotMoney) {
  for (const char* bad :
       {"", "-5", "1.234", "1.", ".5", "12a", "1,23", "1234,567", ",123", "1,,234",
        "1e6", "¥100", "0x10", "1 000", "五百"}) {
    EXPECT_FALSE(ParseYuanToFen(bad).ok()) << bad;
  }
  EXPECT_THAT(std::string(ParseYuanToFen("-5").status().message()),
              ::testing::HasSubstr("negative"));
}

TEST(ParseYuanToFen, RefusesAmountsThatOverflow) {
  // INT64_MAX fen = 92233720368547758.07 yuan.
  EXPECT_EQ(*ParseYuanToFen("92233720368547758.07"), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(ParseYuanToFen("92233720368547758.08").ok());
  EXPECT_FALSE(ParseYuanToFen("92233720368547759").ok());
  EXPECT_FALSE(ParseYuanToFen("99999999999999999999999").ok());
}

TEST(FormatFen, GroupsThousands) {
  EXPECT_EQ(FormatFen(46000000), "460,000.00");
  EXPECT_EQ(FormatFen(1), "0.01");
  EXPECT_EQ(FormatFen(0), "0.00");
  EXPECT_EQ(FormatFen(123456789), "1,234,567.89");
  EXPECT_EQ(FormatFen(99999), "999.99");
  EXPECT_EQ(FormatFen(-150), "-1.50");
  EXPECT_EQ(FormatFen(std::numeric_limits<int64_t>::max()),
            "92,233,720,368,547,758.07");
  EXPECT_EQ(FormatFen(std::numeric_limits<int64_t>::min()),
            "-92,233,720,368,547,758.08");
}

TEST(FormatFen, RoundTripsWithParse) {
  for (int64_t fen : {0LL, 1LL, 99LL, 100LL, 123456LL, 46000000LL, 100000000000LL}) {
    EXPECT_EQ(*ParseYuanToFen(FormatFen(fen)), fen) << fen;
  }
}

absl::Time Shanghai(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::FixedTimeZone(8 * 3600));
}

TEST(ParseTimeArg, Rfc3339WithOffset) {
  const absl::Time now = absl::Now();
  EXPECT_EQ(*ParseTimeArg("2026-12-01T17:00+08:00", now), Shanghai(2026, 12, 1, 17, 0));
  EXPECT_EQ(*ParseTimeArg("2026-12-01T09:00Z", now), Shanghai(2026, 12, 1, 17, 0));
  EXPECT_EQ(*ParseTimeArg("2026-12-01T17:00:30+08:00", now),
            Shanghai(2026, 12, 1, 17, 0, 30));
  EXPECT_EQ(*ParseTimeArg("2026-12-01T10:00:00.5+01:00", now),
            Shanghai(2026, 12, 1, 17, 0) + absl::Milliseconds(500));
  EXPECT_EQ(*ParseTimeArg("2026-12-01 17:00+08:00", now), Shanghai(2026, 12, 1, 17, 0));
}

TEST(ParseTimeArg, NoOffsetMeansShanghai) {
  const absl::Time now = absl::Now();
  EXPECT_EQ(*ParseTimeArg("2026-12-01 17:00", now), Shanghai(2026, 12, 1, 17, 0));
  EXPECT_EQ(*ParseTimeArg("2026-12-01T17:00:05", now), Shanghai(2026, 12, 1, 17, 0, 5));
  // A date alone: by the end of that day.
  EXPECT_EQ(*ParseTimeArg("2026-12-01", now), Shanghai(2026, 12, 1, 23, 59, 59));
}

TEST(ParseTimeArg, RelativeToNow) {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  EXPECT_EQ(*ParseTimeArg("+3d", now), now + absl::Hours(72));
  EXPECT_EQ(*ParseTimeArg("+48h", now), now + absl::Hours(48));
  EXPECT_EQ(*ParseTimeArg("+90m", now), now + absl::Minutes(90));
  EXPECT_EQ(*ParseTimeArg("+1d12h", now), now + absl::Hours(36));
}

TEST(ParseTimeArg, RefusesNonsense) {
  const absl::Time now = absl::Now();
  for (const char* bad : {"", "tomorrow", "2026-13-01", "2026-12-01T25:00", "+", "+3x",
                          "+-3h", "12/01/2026", "2026-12-01T17:00+8"}) {
    EXPECT_FALSE(ParseTimeArg(bad, now).ok()) << bad;
  }
}

TEST(FormatShanghai, IsUtcPlusEight) {
  EXPECT_EQ(FormatShanghai(absl::FromUnixSeconds(0)), "1970-01-01 08:00:00");
}

TEST(FormatGap, ShortestReadableUnit) {
  EXPECT_EQ(FormatGap(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatGap(absl::Milliseconds(250)), "+250ms");
  EXPECT_EQ(FormatGap(absl::Seconds(45)), "+45s");
  EXPECT_EQ(FormatGap(absl::Seconds(192)), "+3m12s");
  EXPECT_EQ(FormatGap(absl::Minutes(125)), "+2h05m");
  EXPECT_EQ(FormatGap(absl::Hours(28)), "+1d04h");
  EXPECT_EQ(FormatGap(-absl::Seconds(3)), "-3s");
}

TEST(ParseKeyValue, SplitsAtTheFirstEquals) {
  auto kv = ParseKeyValue("developer=某房地产开发有限公司", "--respondent");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->first, "developer");
  EXPECT_EQ(kv->second, "某房地产开发有限公司");
  auto a = ParseAttachSpec("考勤记录=/tmp/a=b.pdf");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "考勤记录");
  EXPECT_EQ(a->second, "/tmp/a=b.pdf");
  for (const char* bad : {"", "=x", "x=", "nothing"}) {
    EXPECT_FALSE(ParseAttachSpec(bad).ok()) << bad;
  }
  EXPECT_THAT(std::string(ParseAttachSpec("x").status().message()),
              ::testing::HasSubstr("NAME=FILE"));
  EXPECT_THAT(std::string(ParseKeyValue("x", "--respondent").status().message()),
              ::testing::HasSubstr("ROLE=NAME"));
}

TEST(FileSha256, DigestsTheContent) {
  std::filesystem::path p = std::filesystem::temp_directory_path() /
                            ("refctl_sha_" + std::to_string(::getpid()));
  {
    std::ofstream out(p, std::ios::binary);
    out << "abc";
  }
  auto d = FileSha256(p.string());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(HexOf(*d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Larger than one read chunk.
  std::string big(200000, 'x');
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << big;
  }
  EXPECT_EQ(*FileSha256(p.string()), Sha256(big));
  std::filesystem::remove(p);
  EXPECT_EQ(FileSha256(p.string()).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace referral::refctl
