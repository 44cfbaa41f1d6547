// CaseLog: the case log service's core. It answers CaseLogService requests
// from the event store: page-size rules, expected-version mapping and the
// "opening" state. It knows nothing of gRPC; caselog_grpc_service.h adapts it.
//
// Until Attach() hands it an open store, and after Detach(), every call is
// UNAVAILABLE, so a server can listen (and report NOT_SERVING) while RocksDB
// recovers.
//
// With a HeadSigner, VerifyCase signs every head it finds intact
// (signed_head.h): the statement an evidence bundle carries so that a cut
// tail shows offline.
//
// Thread safety: all methods may be called concurrently.

#ifndef REFERRAL_SERVICES_CASELOG_CASELOG_SERVICE_H_
#define REFERRAL_SERVICES_CASELOG_CASELOG_SERVICE_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "referral/v1/caselog_service.pb.h"
#include "storage/event_store.h"
#include "storage/signed_head.h"

namespace referral::caselog {

// Page sizes: 0 means kDefaultPageSize; more than kMaxPageSize is clamped.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

class CaseLog {
 public:
  // `signer` may be null: VerifyCase then answers without a signed head.
  explicit CaseLog(std::shared_ptr<const storage::HeadSigner> signer = nullptr)
      : signer_(std::move(signer)) {}

  void Attach(std::shared_ptr<storage::EventStore> store);
  // Returns the store; calls in flight keep their own reference.
  std::shared_ptr<storage::EventStore> Detach();

  // The attached store, or UNAVAILABLE.
  absl::StatusOr<std::shared_ptr<storage::EventStore>> store() const;

  absl::StatusOr<v1::AppendResponse> Append(v1::AppendRequest request);
  absl::StatusOr<v1::ReadCaseResponse> ReadCase(
      const v1::ReadCaseRequest& request);
  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& request);
  absl::StatusOr<v1::VerifyCaseResponse> VerifyCase(
      const v1::VerifyCaseRequest& request);
  absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(
      const v1::GetCheckpointRequest& request);
  absl::StatusOr<v1::SetCheckpointResponse> SetCheckpoint(
      const v1::SetCheckpointRequest& request);

  // Validates a Subscribe request; returns its start position and filter.
  absl::StatusOr<std::pair<uint64_t, storage::EventFilter>> ParseSubscribe(
      const v1::SubscribeRequest& request) const;

 private:
  const std::shared_ptr<const storage::HeadSigner> signer_;
  mutable absl::Mutex mu_;
  std::shared_ptr<storage::EventStore> store_ ABSL_GUARDED_BY(mu_);
};

}  // namespace referral::caselog

#endif  // REFERRAL_SERVICES_CASELOG_CASELOG_SERVICE_H_
