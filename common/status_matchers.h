// GoogleTest matchers for absl::Status and absl::StatusOr, which Abseil
// 20220623 lacks. For tests only.
//
//   EXPECT_THAT(store->Append(...), IsOk());
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kAborted));
//   EXPECT_THAT(status, HasReason("CONCURRENT_MODIFICATION"));

#ifndef REFERRAL_COMMON_STATUS_MATCHERS_H_
#define REFERRAL_COMMON_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/errors.h"
#include "gmock/gmock.h"

namespace referral::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code,
          std::string("has code ") + absl::StatusCodeToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

// The status carries an ErrorInfo with this reason.
MATCHER_P(HasReason, reason, std::string("has ErrorInfo.reason ") + reason) {
  const absl::Status& s = GetStatus(arg);
  std::string actual = ViewError(s).reason;
  *result_listener << "status is " << s << " with reason '" << actual << "'";
  return actual == reason;
}

}  // namespace referral::testing

// ASSERT_OK_AND_ASSIGN(auto x, StatusOrExpr): fails the test when not OK.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                              \
  REFERRAL_ASSERT_OK_AND_ASSIGN_IMPL_(                                \
      REFERRAL_CONCAT_T_(referral_test_statusor_, __LINE__), lhs, rexpr)
#define REFERRAL_CONCAT_T_INNER_(a, b) a##b
#define REFERRAL_CONCAT_T_(a, b) REFERRAL_CONCAT_T_INNER_(a, b)
#define REFERRAL_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                        \
  ASSERT_TRUE(statusor.ok()) << statusor.status();                \
  lhs = std::move(statusor).value()

#endif  // REFERRAL_COMMON_STATUS_MATCHERS_H_
