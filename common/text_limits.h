// The cap on free text in a request: a title, a note, a reason, the terms of
// an agreement, a place. Such text is written for people and copied into
// the case log for good; one command must not be able to fill it, so every
// service refuses longer text with the same rule and the same words.

#ifndef REFERRAL_COMMON_TEXT_LIMITS_H_
#define REFERRAL_COMMON_TEXT_LIMITS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"

namespace referral {

// In bytes of UTF-8: about 660 Chinese characters.
inline constexpr size_t kMaxTextBytes = 2000;

// OK when `text` is at most kMaxTextBytes long; otherwise INVALID_FIELD
// naming `field` (a request field path, e.g. "agreement.terms").
inline absl::Status CheckText(absl::string_view field, absl::string_view text) {
  if (text.size() <= kMaxTextBytes) return absl::OkStatus();
  return MakeError(
      ErrorReason::kInvalidField,
      absl::StrCat(field, " is ", text.size(), " bytes long; shorten it to at most ",
                   kMaxTextBytes, " bytes (about 660 Chinese characters)"),
      absl::StrCat("文字过长，请缩短至 ", kMaxTextBytes, " 字节（约 660 个汉字）以内"),
      {.field = std::string(field)});
}

}  // namespace referral

#endif  // REFERRAL_COMMON_TEXT_LIMITS_H_
