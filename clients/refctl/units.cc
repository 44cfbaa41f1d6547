#include "clients/refctl/units.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace referral::refctl {
namespace {

absl::Status Bad(absl::string_view what, absl::string_view text,
                 absl::string_view hint) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " \"", text, "\": ", hint));
}

}  // namespace

absl::StatusOr<int64_t> ParseYuanToFen(absl::string_view text) {
  constexpr absl::string_view kHint =
      "give yuan like 460000, 460,000 or 1234.56 (at most two decimals)";
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (absl::ConsumeSuffix(&s, "元")) s = absl::StripAsciiWhitespace(s);
  if (s.empty()) return Bad("amount", text, kHint);
  if (s[0] == '-') return Bad("amount", text, "an amount cannot be negative");
  absl::string_view whole = s, decimals;
  if (size_t dot = s.find('.'); dot != absl::string_view::npos) {
    whole = s.substr(0, dot);
    decimals = s.substr(dot + 1);
    if (decimals.empty() || decimals.size() > 2) return Bad("amount", text, kHint);
  }
  if (whole.empty()) return Bad("amount", text, kHint);
  // Thousands separators, if any, every three digits from the right.
  std::string digits;
  if (absl::StrContains(whole, ',')) {
    size_t group = 0;
    for (size_t i = whole.size(); i-- > 0;) {
      if (whole[i] == ',') {
        if (group != 3 || i == 0) return Bad("amount", text, kHint);
        group = 0;
      } else {
        ++group;
      }
    }
    if (group > 3) return Bad("amount", text, kHint);
  }
  for (char c : whole) {
    if (c == ',') continue;
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Bad("amount", text, kHint);
    }
    digits.push_back(c);
  }
  for (char c : decimals) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Bad("amount", text, kHint);
    }
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t fen = 0;
  for (char c : digits) {
    if (fen > (kMax - (c - '0')) / 10) return Bad("amount", text, "too large");
    fen = fen * 10 + (c - '0');
  }
  if (fen > kMax / 100) return Bad("amount", text, "too large");
  fen *= 100;
  int64_t cents = 0;
  if (!decimals.empty()) {
    cents = (decimals[0] - '0') * 10;
    if (decimals.size() == 2) cents += decimals[1] - '0';
  }
  if (fen > kMax - cents) return Bad("amount", text, "too large");
  return fen + cents;
}

std::string FormatFen(int64_t fen) {
  const bool negative = fen < 0;
  // Via unsigned, so that INT64_MIN does not overflow.
  uint64_t magnitude = negative ? ~static_cast<uint64_t>(fen) + 1
                                : static_cast<uint64_t>(fen);
  std::string whole = absl::StrCat(magnitude / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(whole[i]);
  }
  return absl::StrFormat("%s%s.%02d", negative ? "-" : "", grouped,
                         static_cast<int>(magnitude % 100));
}

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone tz = [] {
    absl::TimeZone z;
    if (!absl::LoadTimeZone("Asia/Shanghai", &z)) z = absl::FixedTimeZone(8 * 3600);
    return z;
  }();
  return tz;
}

namespace {

// "+3d", "+1d12h", "+48h", "+90m": days are 24 hours.
bool ParseRelative(absl::string_view s, absl::Duration* out) {
  if (!absl::ConsumePrefix(&s, "+") || s.empty()) return false;
  absl::Duration total;
  if (size_t d = s.find('d'); d != absl::string_view::npos) {
    int64_t days;
    if (!absl::SimpleAtoi(s.substr(0, d), &days) || days < 0) return false;
    total += absl::Hours(24 * days);
    s.remove_prefix(d + 1);
  }
  if (!s.empty()) {
    absl::Duration rest;
    if (!absl::ParseDuration(s, &rest) || rest < absl::ZeroDuration()) return false;
    total += rest;
  }
  *out = total;
  return true;
}

}  // namespace

absl::StatusOr<absl::Time> ParseTimeArg(absl::string_view text, absl::Time now) {
  std::string s(absl::StripAsciiWhitespace(text));
  if (absl::StartsWith(s, "+")) {
    absl::Duration d;
    if (!ParseRelative(s, &d)) {
      return Bad("time", text, "relative times look like +3d, +48h, +90m or +1d12h");
    }
    return now + d;
  }
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  absl::Time t;
  std::string err;
  // With an offset (RFC 3339; 'Z' is UTC).
  for (const char* f : {"%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M%Ez"}) {
    if (absl::ParseTime(f, s, &t, &err)) return t;
  }
  // Without one: Asia/Shanghai.
  for (const char* f : {"%Y-%m-%dT%H:%M:%E*S", "%Y-%m-%dT%H:%M"}) {
    if (absl::ParseTime(f, s, Shanghai(), &t, &err)) return t;
  }
  if (absl::ParseTime("%Y-%m-%d", s, Shanghai(), &t, &err)) {
    return t + absl::Hours(24) - absl::Seconds(1);
  }
  return Bad("time", text,
             "use 2026-12-01T17:00+08:00, 2026-12-01 17:00 (Asia/Shanghai), "
             "2026-12-01 (end of that day) or +3d");
}

std::string FormatShanghai(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, Shanghai());
}

std::string FormatGap(absl::Duration d) {
  std::string sign = "+";
  if (d < absl::ZeroDuration()) {
    sign = "-";
    d = -d;
  }
  int64_t s = absl::ToInt64Seconds(d);
  if (s == 0) {
    int64_t ms = absl::ToInt64Milliseconds(d);
    return ms == 0 ? "0s" : absl::StrCat(sign, ms, "ms");
  }
  const int64_t days = s / 86400, hours = s % 86400 / 3600,
                minutes = s % 3600 / 60, seconds = s % 60;
  if (days > 0) return absl::StrFormat("%s%dd%02dh", sign, days, hours);
  if (hours > 0) return absl::StrFormat("%s%dh%02dm", sign, hours, minutes);
  if (minutes > 0) return absl::StrFormat("%s%dm%02ds", sign, minutes, seconds);
  return absl::StrFormat("%s%ds", sign, seconds);
}

absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(
    absl::string_view spec, absl::string_view what) {
  size_t eq = spec.find('=');
  if (eq == absl::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", spec, "\" must look like ",
                     what == "--attach" ? "NAME=FILE" : "ROLE=NAME"));
  }
  return std::make_pair(std::string(spec.substr(0, eq)),
                        std::string(spec.substr(eq + 1)));
}

absl::StatusOr<std::pair<std::string, std::string>> ParseAttachSpec(
    absl::string_view spec) {
  return ParseKeyValue(spec, "--attach");
}

absl::StatusOr<std::string> FileSha256(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                          &EVP_MD_CTX_free);
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("SHA-256 is not available");
  }
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f.get())) > 0) {
    EVP_DigestUpdate(ctx.get(), buffer, n);
  }
  if (std::ferror(f.get())) {
    return absl::DataLossError(absl::StrCat("error reading ", path));
  }
  std::string digest(32, '\0');
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(digest.data()), &len);
  digest.resize(len);
  return digest;
}

}  // namespace referral::refctl
