// ReferralClient: the C++ client of referral.v1.ReferralService (the broker)
// for agency systems and tools.
//
//   // mTLS: the node is the one named by the certificate.
//   auto client = ReferralClient::Connect(
//       "127.0.0.1:50103", "qinzhou.justice",
//       TlsFiles{"var/pki/ca.pem", "var/pki/qinzhou.justice.pem",
//                "var/pki/qinzhou.justice.key"});
//   // Plaintext (tests): the node travels as x-referral-node metadata.
//   auto test_client = ReferralClient::Connect(address, "qinzhou.justice",
//                                              std::nullopt);
//
//   v1::SendReferralRequest send;
//   send.set_request_id(NewRequestId());      // choose once, keep for retries
//   ...
//   absl::StatusOr<v1::SendReferralResponse> r = (*client)->SendReferral(send);
//
// Retries. Every unary call has its own deadline (`timeout`) and is retried
// with the SAME request, with exponential backoff, while it fails UNAVAILABLE
// or DEADLINE_EXCEEDED (up to `max_attempts` attempts). That is safe: reads
// change nothing, and every command carries a request_id that the broker
// recognises, so a retried command has its effect once and returns the first
// answer. A caller that gives up (or crashes) may retry later with the same
// request_id, too; the same id with another body is refused with
// ALREADY_EXISTS / REQUEST_ID_REUSED.
//
// The inbox. FollowInbox() streams StreamInbox: first the backlog after the
// node's durable cursor (catch-up), then a CaughtUp marker, then live items.
// The server delivers at least once; the client hands the application each
// event once:
//   - after a dropped connection (server restart, network) it reconnects
//     with backoff, resuming from the server's durable cursor
//     (from_position 0) — or, when the caller started from an explicit
//     position, after the last item delivered. A live follower
//     (max_reconnects 0) then waits for the broker to be reachable again
//     (wait-for-ready) rather than failing fast;
//   - it drops repeats by event_id, remembering the last `dedup_window`
//     ids (100k by default) for the client's lifetime, so a later
//     FollowInbox() on the same client does not repeat them either; and,
//     within one FollowInbox(), it also drops anything at or before the
//     last position delivered (the stream is in global position order), so
//     even a backlog longer than the window is not repeated.
// The application calls Ack(item.event().global_position()) once it has
// handled an item (durably, on its side); the server then never sends that
// item or anything before it again. Unacknowledged items come back on the
// next connection — and a new process (with an empty window) sees them again:
// that is the at-least-once contract, handle items idempotently by event_id.
//
// Errors come back as absl::Status with the server's ErrorInfo reason, its
// metadata and the zh-CN message readable through ViewError()
// (common/errors.h), e.g. PERMISSION_DENIED / NOT_A_PARTY.
//
// Thread safety: unary calls may be made from many threads at once.
// FollowInbox() runs on the calling thread; one at a time per client.
// StopFollowing() may be called from any thread.

#ifndef REFERRAL_CLIENTS_CPP_REFERRAL_CLIENT_H_
#define REFERRAL_CLIENTS_CPP_REFERRAL_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "referral/v1/referral_service.grpc.pb.h"
#include "services/runtime/identity.h"

namespace referral::client {

struct ReferralClientOptions {
  // Deadline of each attempt of a unary call.
  absl::Duration timeout = absl::Seconds(10);
  // Attempts for a unary call that fails UNAVAILABLE or DEADLINE_EXCEEDED.
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);

  // FollowInbox: how many event ids it remembers to drop repeats.
  size_t dedup_window = 100000;
  // FollowInbox: give up after this many connections in a row that failed
  // UNAVAILABLE / DEADLINE_EXCEEDED before delivering anything; 0 = never
  // (keep reconnecting, for a long-running consumer).
  int max_reconnects = 0;
  // FollowInbox: deadline of each connection; infinite for a live follower.
  absl::Duration stream_timeout = absl::InfiniteDuration();
  // FollowInbox: told why before each reconnect (OK when the server ended
  // the stream), e.g. to log it. Called on the FollowInbox() thread.
  std::function<void(const absl::Status&)> on_reconnect;
};

// A fresh request id: "<prefix>-" and 32 random hex digits, inside the
// broker's alphabet [A-Za-z0-9._:-].
std::string NewRequestId(absl::string_view prefix = "req");

// True when `id` is a valid request id: 1-128 of [A-Za-z0-9._:-].
bool IsValidRequestId(absl::string_view id);

// RecentIds remembers the last `capacity` distinct ids; the oldest is
// forgotten first. Not thread-safe.
class RecentIds {
 public:
  explicit RecentIds(size_t capacity);
  // True when `id` was not among the remembered ids (it is now); false for a
  // repeat.
  bool Insert(absl::string_view id);
  bool Contains(absl::string_view id) const;
  size_t size() const { return order_.size(); }

 private:
  size_t capacity_;
  absl::flat_hash_set<std::string> set_;
  std::deque<std::string> order_;
};

class ReferralClient {
 public:
  // A channel to `address` acting as `node`: mTLS with `tls` (the server
  // takes the node from the certificate, which should name `node`), or
  // plaintext with nullopt (the node is sent as x-referral-node metadata;
  // for tests). Fails when the TLS files cannot be read.
  static absl::StatusOr<std::unique_ptr<ReferralClient>> Connect(
      const std::string& address, const std::string& node,
      const std::optional<TlsFiles>& tls, ReferralClientOptions options = {});

  // Over an existing channel. `act_as`: the node to name in metadata on each
  // call (plaintext); empty under mTLS.
  ReferralClient(std::shared_ptr<grpc::Channel> channel, std::string act_as,
                 ReferralClientOptions options = {});
  ~ReferralClient();

  // Cases.
  absl::StatusOr<v1::OpenCaseResponse> OpenCase(const v1::OpenCaseRequest& r);
  absl::StatusOr<v1::GetCaseResponse> GetCase(const v1::GetCaseRequest& r);
  absl::StatusOr<v1::ListCasesResponse> ListCases(const v1::ListCasesRequest& r);
  absl::StatusOr<v1::TraceCaseResponse> TraceCase(const v1::TraceCaseRequest& r);
  absl::StatusOr<v1::SearchCasesResponse> SearchCases(const v1::SearchCasesRequest& r);
  // Auditors only.
  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(
      const v1::ListAuditEventsRequest& r);

  // The referral lifecycle (each carries a request_id).
  absl::StatusOr<v1::SendReferralResponse> SendReferral(
      const v1::SendReferralRequest& r);
  absl::StatusOr<v1::ReceiveReferralResponse> ReceiveReferral(
      const v1::ReceiveReferralRequest& r);
  absl::StatusOr<v1::AcceptReferralResponse> AcceptReferral(
      const v1::AcceptReferralRequest& r);
  absl::StatusOr<v1::RejectReferralResponse> RejectReferral(
      const v1::RejectReferralRequest& r);
  absl::StatusOr<v1::ReturnReferralResponse> ReturnReferral(
      const v1::ReturnReferralRequest& r);
  absl::StatusOr<v1::ResubmitReferralResponse> ResubmitReferral(
      const v1::ResubmitReferralRequest& r);
  absl::StatusOr<v1::RedirectReferralResponse> RedirectReferral(
      const v1::RedirectReferralRequest& r);
  absl::StatusOr<v1::StartReferralResponse> StartReferral(
      const v1::StartReferralRequest& r);
  absl::StatusOr<v1::HoldReferralResponse> HoldReferral(
      const v1::HoldReferralRequest& r);
  absl::StatusOr<v1::ResumeReferralResponse> ResumeReferral(
      const v1::ResumeReferralRequest& r);
  absl::StatusOr<v1::CompleteReferralResponse> CompleteReferral(
      const v1::CompleteReferralRequest& r);
  absl::StatusOr<v1::FailReferralResponse> FailReferral(
      const v1::FailReferralRequest& r);
  absl::StatusOr<v1::CancelReferralResponse> CancelReferral(
      const v1::CancelReferralRequest& r);

  // Reads.
  absl::StatusOr<v1::GetReferralResponse> GetReferral(
      const v1::GetReferralRequest& r);
  absl::StatusOr<v1::ListReferralsResponse> ListReferrals(
      const v1::ListReferralsRequest& r);
  absl::StatusOr<v1::GetBacklogResponse> GetBacklog(
      const v1::GetBacklogRequest& r);

  // The inbox cursor: everything up to `position` is handled.
  absl::StatusOr<v1::AckInboxResponse> AckInbox(const v1::AckInboxRequest& r);
  absl::StatusOr<v1::AckInboxResponse> Ack(uint64_t position);

  // Streams the caller's inbox from `from_position` (0 = after the durable
  // cursor): `on_item` once per event (return false to stop), and
  // `on_caught_up` with the position the backlog reached, once per
  // connection (return false to stop; leave it empty to keep following).
  // Reconnects after a dropped connection (UNAVAILABLE, DEADLINE_EXCEEDED, a
  // CANCELLED it did not cause, or the server ending the stream; see the
  // file comment). Returns OK
  // when a callback or StopFollowing() stops it, or the first error that is
  // not worth retrying (PERMISSION_DENIED, UNAUTHENTICATED, ...), or the
  // last UNAVAILABLE after `max_reconnects` failed connections.
  absl::Status FollowInbox(
      uint64_t from_position,
      const std::function<bool(const v1::InboxItem&)>& on_item,
      const std::function<bool(uint64_t)>& on_caught_up = {});

  // Makes a running FollowInbox() return OK soon (from any thread). A
  // FollowInbox() started after this runs normally.
  void StopFollowing();

  // The node named in metadata (plaintext), or "" under mTLS.
  const std::string& act_as() const { return act_as_; }
  grpc::Channel* channel() { return channel_.get(); }

 private:
  template <typename Call>
  auto WithRetries(const Call& call) -> decltype(call(nullptr));
  void Prepare(grpc::ClientContext* context, absl::Duration timeout) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::string act_as_;
  ReferralClientOptions options_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;

  absl::Mutex mu_;
  // The connection FollowInbox() is reading, for StopFollowing().
  grpc::ClientContext* following_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Event ids FollowInbox() has delivered.
  RecentIds seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace referral::client

#endif  // REFERRAL_CLIENTS_CPP_REFERRAL_CLIENT_H_
