// Identifier rules and event-type naming shared by the store and services.

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "storage/event_store.h"

namespace referral::storage {
namespace {

constexpr size_t kMaxIdLength = 128;

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

absl::Status Invalid(absl::string_view field, absl::string_view value,
                     absl::string_view rule, absl::string_view zh_rule) {
  // Echo at most a short prefix: ids are not personal data, but a pasted
  // paragraph does not belong in a log line.
  std::string shown(value.substr(0, 40));
  if (value.empty()) {
    return MakeError(ErrorReason::kInvalidField,
                     absl::StrCat(field, " is required: ", rule),
                     absl::StrCat(field, " 不能为空：", zh_rule),
                     {.field = std::string(field)});
  }
  return MakeError(
      ErrorReason::kInvalidField,
      absl::StrCat(field, " \"", shown, value.size() > 40 ? "…" : "",
                   "\" is not valid: ", rule),
      absl::StrCat(field, " 格式不正确：", zh_rule), {.field = std::string(field)});
}

}  // namespace

absl::Status ValidateCaseId(absl::string_view v, absl::string_view field) {
  bool ok = !v.empty() && v.size() <= kMaxIdLength && IsLowerAlnum(v[0]);
  for (char c : v)
    ok = ok && (IsLowerAlnum(c) || c == '.' || c == '_' || c == ':' || c == '-');
  if (ok) return absl::OkStatus();
  return Invalid(field, v,
                 "use 1-128 characters of a-z, 0-9, '.', '_', ':' or '-', "
                 "starting with a letter or digit (e.g. "
                 "\"qinzhou.justice:2026-000123\")",
                 "应为 1-128 位小写字母、数字或 . _ : -，以字母或数字开头");
}

absl::Status ValidateToken(absl::string_view v, absl::string_view field) {
  bool ok = !v.empty() && v.size() <= kMaxIdLength;
  for (char c : v)
    ok = ok && (IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' ||
                c == '_' || c == ':' || c == '-');
  if (ok) return absl::OkStatus();
  return Invalid(field, v,
                 "use 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'",
                 "应为 1-128 位字母、数字或 . _ : -");
}

absl::Status ValidateNodeName(absl::string_view v, absl::string_view field) {
  bool ok = !v.empty() && v.size() <= kMaxIdLength && IsLowerAlnum(v[0]);
  for (char c : v) ok = ok && (IsLowerAlnum(c) || c == '.' || c == '_' || c == '-');
  if (ok) return absl::OkStatus();
  return Invalid(field, v,
                 "use 1-128 characters of a-z, 0-9, '.', '_' or '-', starting "
                 "with a letter or digit (e.g. \"qinzhou.justice\")",
                 "应为 1-128 位小写字母、数字或 . _ -，以字母或数字开头");
}

std::string EventTypeOf(const Event& event) {
  const auto* descriptor = Event::descriptor();
  const auto* oneof = descriptor->FindOneofByName("body");
  const auto* field =
      Event::GetReflection()->GetOneofFieldDescriptor(event, oneof);
  if (field == nullptr) return "";
  return field->message_type()->full_name();
}

}  // namespace referral::storage
