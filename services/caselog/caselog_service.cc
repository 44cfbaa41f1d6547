#include "services/caselog/caselog_service.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace referral::caselog {
namespace {

using google::protobuf::util::TimeUtil;

absl::StatusOr<size_t> PageSize(int requested) {
  if (requested < 0) {
    return MakeError(ErrorReason::kInvalidField,
                     absl::StrCat("page_size is ", requested,
                                  ": use 0 for the default or 1-", kMaxPageSize),
                     "每页数量不能为负数", {.field = "page_size"});
  }
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

storage::EventFilter FilterOf(const v1::EventFilter& f) {
  return storage::EventFilter{f.event_type(), f.node()};
}

void CopyCheckpoint(const storage::Checkpoint& cp, v1::Checkpoint* out) {
  out->set_name(cp.name);
  out->set_position(cp.position);
  *out->mutable_update_time() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(cp.update_time));
}

}  // namespace

void CaseLog::Attach(std::shared_ptr<storage::EventStore> store) {
  absl::MutexLock l(&mu_);
  store_ = std::move(store);
}

std::shared_ptr<storage::EventStore> CaseLog::Detach() {
  absl::MutexLock l(&mu_);
  return std::move(store_);
}

absl::StatusOr<std::shared_ptr<storage::EventStore>> CaseLog::store() const {
  absl::MutexLock l(&mu_);
  if (store_ == nullptr) {
    return MakeError(ErrorReason::kUnavailable,
                     "the case log is opening or shutting down: retry shortly "
                     "with the same event ids",
                     "案件日志服务正在启动或关闭，请稍后用相同的事件编号重试");
  }
  return store_;
}

absl::StatusOr<v1::AppendResponse> CaseLog::Append(v1::AppendRequest request) {
  ASSIGN_OR_RETURN(auto store, store());
  storage::ExpectedVersion expected = storage::ExpectedVersion::Any();
  switch (request.expected()) {
    case v1::EXPECTED_VERSION_UNSPECIFIED:
    case v1::EXPECTED_VERSION_ANY:
      break;
    case v1::EXPECTED_VERSION_NO_STREAM:
      expected = storage::ExpectedVersion::NoStream();
      break;
    case v1::EXPECTED_VERSION_EXACT:
      expected = storage::ExpectedVersion::Exactly(request.expected_version());
      break;
    default:
      return MakeError(ErrorReason::kInvalidField,
                       absl::StrCat("expected is ", request.expected(),
                                    ", not an ExpectedVersion value"),
                       "版本校验方式无效", {.field = "expected"});
  }
  std::vector<storage::Event> events(
      std::make_move_iterator(request.mutable_events()->begin()),
      std::make_move_iterator(request.mutable_events()->end()));
  ASSIGN_OR_RETURN(storage::AppendResult r,
                   store->Append(request.case_id(), expected, std::move(events)));
  v1::AppendResponse response;
  response.set_first_sequence(r.first_sequence);
  response.set_last_sequence(r.last_sequence);
  response.set_first_position(r.first_position);
  response.set_last_position(r.last_position);
  response.set_deduplicated(r.deduplicated);
  response.set_head_hash(r.head_hash);
  return response;
}

absl::StatusOr<v1::ReadCaseResponse> CaseLog::ReadCase(
    const v1::ReadCaseRequest& request) {
  ASSIGN_OR_RETURN(auto store, store());
  ASSIGN_OR_RETURN(size_t limit, PageSize(request.page_size()));
  auto direction = request.direction() == v1::READ_DIRECTION_BACKWARD
                       ? storage::Direction::kBackward
                       : storage::Direction::kForward;
  ASSIGN_OR_RETURN(storage::ReadCaseResult r,
                   store->ReadCase(request.case_id(), request.from_sequence(),
                                   direction, limit));
  v1::ReadCaseResponse response;
  for (auto& e : r.events) response.add_events()->Swap(&e);
  response.set_next_sequence(r.next_sequence);
  response.set_case_version(r.case_version);
  return response;
}

absl::StatusOr<v1::ReadAllResponse> CaseLog::ReadAll(
    const v1::ReadAllRequest& request) {
  ASSIGN_OR_RETURN(auto store, store());
  ASSIGN_OR_RETURN(size_t limit, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(storage::ReadAllResult r,
                   store->ReadAll(request.from_position(),
                                  FilterOf(request.filter()), limit));
  v1::ReadAllResponse response;
  for (auto& e : r.events) response.add_events()->Swap(&e);
  response.set_next_position(r.next_position);
  response.set_last_position(r.last_position);
  return response;
}

absl::StatusOr<v1::VerifyCaseResponse> CaseLog::VerifyCase(
    const v1::VerifyCaseRequest& request) {
  ASSIGN_OR_RETURN(auto store, store());
  ASSIGN_OR_RETURN(storage::VerifyResult r, store->Verify(request.case_id()));
  v1::VerifyCaseResponse response;
  response.set_intact(r.intact);
  response.set_events_checked(r.events_checked);
  response.set_head_hash(r.head_hash);
  response.set_first_bad_sequence(r.first_bad_sequence);
  response.set_problem(r.problem);
  if (signer_ != nullptr && r.intact && r.events_checked > 0) {
    // A verdict without its signature would pass for an unsigned deployment.
    ASSIGN_OR_RETURN(*response.mutable_signed_head(),
                     signer_->Sign(request.case_id(), r.events_checked, r.head_hash,
                                   absl::Now()));
  }
  return response;
}

absl::StatusOr<v1::GetCheckpointResponse> CaseLog::GetCheckpoint(
    const v1::GetCheckpointRequest& request) {
  ASSIGN_OR_RETURN(auto store, store());
  ASSIGN_OR_RETURN(storage::Checkpoint cp, store->GetCheckpoint(request.name()));
  v1::GetCheckpointResponse response;
  CopyCheckpoint(cp, response.mutable_checkpoint());
  return response;
}

absl::StatusOr<v1::SetCheckpointResponse> CaseLog::SetCheckpoint(
    const v1::SetCheckpointRequest& request) {
  ASSIGN_OR_RETURN(auto store, store());
  ASSIGN_OR_RETURN(storage::Checkpoint cp,
                   store->SetCheckpoint(request.name(), request.position()));
  v1::SetCheckpointResponse response;
  CopyCheckpoint(cp, response.mutable_checkpoint());
  return response;
}

absl::StatusOr<std::pair<uint64_t, storage::EventFilter>> CaseLog::ParseSubscribe(
    const v1::SubscribeRequest& request) const {
  ASSIGN_OR_RETURN(auto store, store());
  // Subscribe() validates the filter; the cursor it returns is not needed.
  RETURN_IF_ERROR(
      store->Subscribe(request.from_position(), FilterOf(request.filter()))
          .status());
  return std::make_pair(request.from_position(), FilterOf(request.filter()));
}

}  // namespace referral::caselog
