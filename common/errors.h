// The one table of domain errors: every situation the broker reports, with
// its gRPC code and its stable English reason (google.rpc.ErrorInfo.reason).
//
// A domain error is an absl::Status built by MakeError(). It carries, as
// status payloads, exactly the google.rpc detail messages that go on the wire:
// ErrorInfo (reason, domain "referral.v1", metadata), LocalizedMessage (zh-CN,
// the sentence a person reads) and, for a bad field, BadRequest. The gRPC edge
// copies them into google.rpc.Status; nothing else decides a code.
//
// Messages name resources (case ids, event ids, versions), never personal
// data.

#ifndef REFERRAL_COMMON_ERRORS_H_
#define REFERRAL_COMMON_ERRORS_H_

#include <map>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace referral {

enum class ErrorReason {
  kInvalidField,
  kEventTooLarge,
  kUnknownEventKind,
  kCaseNotFound,
  kCheckpointNotFound,
  kNodeNotFound,
  kNoRoute,
  kConfigInvalid,
  kReferralNotFound,
  kReferralStateConflict,
  kNotAParty,
  kNotAllowedForRole,
  kUnauthenticated,
  kConcurrentModification,
  kEventIdReused,
  kRequestIdReused,
  kUnavailable,
  kCaseLogCorrupt,
  kStorageFailure,
  kMeetingNotFound,
  kMeetingStateConflict,
  // The HTTP gateway was not started to act as the node a request names.
  kNodeNotServed,
  // Legal aid: an application or a roster lawyer that does not exist, a step
  // its application's state does not allow, and an assignment no lawyer on
  // the roster may take (skill, capacity, a failed latest evaluation).
  kApplicationNotFound,
  kLawyerNotFound,
  kLegalAidStateConflict,
  kNoEligibleLawyer,
};

struct ErrorSpec {
  ErrorReason reason;
  absl::StatusCode code;
  // Stable UPPER_SNAKE_CASE name: the wire's ErrorInfo.reason.
  absl::string_view name;
};

// The domain of every ErrorInfo this project emits.
inline constexpr absl::string_view kErrorDomain = "referral.v1";

// Payload type URLs used on absl::Status (the google.rpc detail types).
inline constexpr absl::string_view kErrorInfoUrl =
    "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kLocalizedMessageUrl =
    "type.googleapis.com/google.rpc.LocalizedMessage";
inline constexpr absl::string_view kBadRequestUrl =
    "type.googleapis.com/google.rpc.BadRequest";

// Every row of the table, in declaration order.
absl::Span<const ErrorSpec> AllErrorSpecs();

// The row for `reason`.
const ErrorSpec& SpecOf(ErrorReason reason);

// Optional parts of an error beyond its reason and messages.
struct ErrorExtras {
  // ErrorInfo.metadata, e.g. {"current_version", "5"}.
  std::vector<std::pair<std::string, std::string>> metadata;
  // For INVALID_FIELD-like errors: the request field path, e.g.
  // "events[2].event_id"; becomes a BadRequest field violation.
  std::string field;
};

// Builds the status for `reason`: the code comes from the table. `message` is
// English, for developers and logs; `zh_message` is what a person reads.
absl::Status MakeError(ErrorReason reason, std::string message,
                       std::string zh_message, ErrorExtras extras = {});

// What MakeError put on a status, read back (tests, clients, logs).
struct ErrorView {
  std::string reason;  // ErrorInfo.reason; empty when the status has none
  std::string zh_message;
  std::map<std::string, std::string> metadata;
  std::string field;
};
ErrorView ViewError(const absl::Status& status);

}  // namespace referral

#endif  // REFERRAL_COMMON_ERRORS_H_
