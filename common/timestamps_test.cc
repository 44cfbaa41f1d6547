#include "common/timestamps.h"

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace referral {
namespace {

TEST(Timestamps, RoundTripsToTheNanosecond) {
  const absl::Time t = absl::FromUnixSeconds(1796000000) + absl::Nanoseconds(123456789);
  EXPECT_EQ(TimeOf(ProtoTime(t)), t);
  const absl::Time before_epoch = absl::FromUnixSeconds(-5) + absl::Nanoseconds(7);
  EXPECT_EQ(TimeOf(ProtoTime(before_epoch)), before_epoch);
  EXPECT_GE(ProtoTime(before_epoch).nanos(), 0);
}

TEST(Timestamps, FarFutureTimesDoNotWrapAround) {
  google::protobuf::Timestamp ts;
  ASSERT_TRUE(google::protobuf::util::TimeUtil::FromString("2612-06-01T00:00:00Z", &ts));
  const absl::Time t = TimeOf(ts);
  EXPECT_GT(t, absl::FromCivil(absl::CivilSecond(2600, 1, 1, 0, 0, 0), absl::UTCTimeZone()));
  EXPECT_EQ(ProtoTime(t).seconds(), ts.seconds());
}

}  // namespace
}  // namespace referral
