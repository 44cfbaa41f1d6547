// google.protobuf.Timestamp <-> absl::Time, the one conversion every service
// uses. Through seconds and nanos separately: protobuf's TimestampTo-
// Nanoseconds overflows int64 after the year 2262 and silently wraps (an
// instalment "due in 2612" became due in 2027), and the proto allows years
// up to 9999.

#ifndef REFERRAL_COMMON_TIMESTAMPS_H_
#define REFERRAL_COMMON_TIMESTAMPS_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace referral {

inline absl::Time TimeOf(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

inline google::protobuf::Timestamp ProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);  // floor
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

// Within google.protobuf.Timestamp's own range (0001-01-01 to 9999-12-31,
// nanos in [0, 1e9)): what a request's time must be before anything else.
inline bool IsValidTimestamp(const google::protobuf::Timestamp& ts) {
  return ts.seconds() >= -62135596800 && ts.seconds() <= 253402300799 &&
         ts.nanos() >= 0 && ts.nanos() < 1000000000;
}

}  // namespace referral

#endif  // REFERRAL_COMMON_TIMESTAMPS_H_
