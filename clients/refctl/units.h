// What refctl reads from and writes for people: money in yuan, times in
// Asia/Shanghai, "time since the previous step", attachments by digest.
// Pure functions (except FileSha256), unit-tested in units_test.cc.

#ifndef REFERRAL_CLIENTS_REFCTL_UNITS_H_
#define REFERRAL_CLIENTS_REFCTL_UNITS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace referral::refctl {

// Yuan as typed ("460000", "460,000", "1234.5", "0.01", optionally ending in
// "元") to fen. Refuses negatives, more than two decimals, stray characters
// and amounts that do not fit an int64 of fen.
absl::StatusOr<int64_t> ParseYuanToFen(absl::string_view yuan);

// Fen as yuan with thousands separators: 46000000 -> "460,000.00".
std::string FormatFen(int64_t fen);

// The time zone people read and type times in (Asia/Shanghai; UTC+8 when the
// zone database is missing).
const absl::TimeZone& Shanghai();

// A time as typed:
//   2026-12-01T17:00+08:00, 2026-12-01T17:00:30Z (RFC 3339, seconds
//   optional, 'T' or a space);
//   2026-12-01 17:00 (no offset: Asia/Shanghai);
//   2026-12-01 (the end of that day in Asia/Shanghai, 23:59:59);
//   +3d, +48h, +90m, +1d12h (from `now`).
absl::StatusOr<absl::Time> ParseTimeArg(absl::string_view text, absl::Time now);

// "2026-12-01 17:00:00" in Asia/Shanghai.
std::string FormatShanghai(absl::Time t);

// The gap between two steps, short: "+45s", "+3m12s", "+2h05m", "+1d04h";
// "0s" for none; negative gaps (clock skew) as "-3s".
std::string FormatGap(absl::Duration d);

// "NAME=FILE" of --attach, split at the first '='.
absl::StatusOr<std::pair<std::string, std::string>> ParseAttachSpec(
    absl::string_view spec);

// "ROLE=NAME" of --respondent: the same split.
absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(
    absl::string_view spec, absl::string_view what);

// SHA-256 (32 bytes) of a file's content, read in chunks.
absl::StatusOr<std::string> FileSha256(const std::string& path);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_UNITS_H_
