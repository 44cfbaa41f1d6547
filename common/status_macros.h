// RETURN_IF_ERROR and ASSIGN_OR_RETURN, which Abseil 20220623 lacks.

#ifndef REFERRAL_COMMON_STATUS_MACROS_H_
#define REFERRAL_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define RETURN_IF_ERROR(expr)                                \
  do {                                                       \
    ::absl::Status referral_status_ = (expr);                \
    if (!referral_status_.ok()) return referral_status_;     \
  } while (0)

#define REFERRAL_CONCAT_INNER_(a, b) a##b
#define REFERRAL_CONCAT_(a, b) REFERRAL_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK,
// otherwise moves its value into `lhs` (a declaration or an lvalue).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  REFERRAL_ASSIGN_OR_RETURN_IMPL_(   \
      REFERRAL_CONCAT_(referral_statusor_, __LINE__), lhs, rexpr)

#define REFERRAL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();    \
  lhs = std::move(statusor).value()

#endif  // REFERRAL_COMMON_STATUS_MACROS_H_
