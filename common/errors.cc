#include "common/errors.h"

#include <array>

#include "absl/strings/cord.h"
#include "google/rpc/error_details.pb.h"

namespace referral {
namespace {

using C = absl::StatusCode;
using R = ErrorReason;

constexpr std::array<ErrorSpec, 26> kSpecs = {{
    {R::kInvalidField, C::kInvalidArgument, "INVALID_FIELD"},
    {R::kEventTooLarge, C::kInvalidArgument, "EVENT_TOO_LARGE"},
    {R::kUnknownEventKind, C::kInvalidArgument, "UNKNOWN_EVENT_KIND"},
    {R::kCaseNotFound, C::kNotFound, "CASE_NOT_FOUND"},
    {R::kCheckpointNotFound, C::kNotFound, "CHECKPOINT_NOT_FOUND"},
    {R::kNodeNotFound, C::kNotFound, "NODE_NOT_FOUND"},
    {R::kNoRoute, C::kNotFound, "NO_ROUTE"},
    {R::kConfigInvalid, C::kInvalidArgument, "CONFIG_INVALID"},
    {R::kReferralNotFound, C::kNotFound, "REFERRAL_NOT_FOUND"},
    {R::kReferralStateConflict, C::kFailedPrecondition, "REFERRAL_STATE_CONFLICT"},
    {R::kNotAParty, C::kPermissionDenied, "NOT_A_PARTY"},
    {R::kNotAllowedForRole, C::kPermissionDenied, "NOT_ALLOWED_FOR_ROLE"},
    {R::kUnauthenticated, C::kUnauthenticated, "UNAUTHENTICATED"},
    {R::kConcurrentModification, C::kAborted, "CONCURRENT_MODIFICATION"},
    {R::kEventIdReused, C::kAlreadyExists, "EVENT_ID_REUSED"},
    {R::kRequestIdReused, C::kAlreadyExists, "REQUEST_ID_REUSED"},
    {R::kUnavailable, C::kUnavailable, "UNAVAILABLE"},
    {R::kCaseLogCorrupt, C::kDataLoss, "CASE_LOG_CORRUPT"},
    {R::kStorageFailure, C::kInternal, "STORAGE_FAILURE"},
    {R::kMeetingNotFound, C::kNotFound, "MEETING_NOT_FOUND"},
    {R::kMeetingStateConflict, C::kFailedPrecondition, "MEETING_STATE_CONFLICT"},
    {R::kNodeNotServed, C::kPermissionDenied, "NODE_NOT_SERVED"},
    {R::kApplicationNotFound, C::kNotFound, "APPLICATION_NOT_FOUND"},
    {R::kLawyerNotFound, C::kNotFound, "LAWYER_NOT_FOUND"},
    {R::kLegalAidStateConflict, C::kFailedPrecondition, "LEGAL_AID_STATE_CONFLICT"},
    {R::kNoEligibleLawyer, C::kFailedPrecondition, "NO_ELIGIBLE_LAWYER"},
}};

}  // namespace

absl::Span<const ErrorSpec> AllErrorSpecs() { return kSpecs; }

const ErrorSpec& SpecOf(ErrorReason reason) {
  // The table is in declaration order; errors_test holds it so.
  return kSpecs[static_cast<size_t>(reason)];
}

absl::Status MakeError(ErrorReason reason, std::string message,
                       std::string zh_message, ErrorExtras extras) {
  const ErrorSpec& spec = SpecOf(reason);
  absl::Status status(spec.code, message);

  google::rpc::ErrorInfo info;
  info.set_reason(std::string(spec.name));
  info.set_domain(std::string(kErrorDomain));
  for (auto& [k, v] : extras.metadata) (*info.mutable_metadata())[k] = v;
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));

  if (!zh_message.empty()) {
    google::rpc::LocalizedMessage localized;
    localized.set_locale("zh-CN");
    localized.set_message(std::move(zh_message));
    status.SetPayload(kLocalizedMessageUrl,
                      absl::Cord(localized.SerializeAsString()));
  }
  if (!extras.field.empty()) {
    google::rpc::BadRequest bad;
    auto* v = bad.add_field_violations();
    v->set_field(extras.field);
    v->set_description(std::string(status.message()));
    status.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  }
  return status;
}

ErrorView ViewError(const absl::Status& status) {
  ErrorView view;
  if (auto p = status.GetPayload(kErrorInfoUrl)) {
    google::rpc::ErrorInfo info;
    if (info.ParseFromString(std::string(*p))) {
      view.reason = info.reason();
      view.metadata.insert(info.metadata().begin(), info.metadata().end());
    }
  }
  if (auto p = status.GetPayload(kLocalizedMessageUrl)) {
    google::rpc::LocalizedMessage m;
    if (m.ParseFromString(std::string(*p))) view.zh_message = m.message();
  }
  if (auto p = status.GetPayload(kBadRequestUrl)) {
    google::rpc::BadRequest bad;
    if (bad.ParseFromString(std::string(*p)) && bad.field_violations_size() > 0)
      view.field = bad.field_violations(0).field();
  }
  return view;
}

}  // namespace referral
