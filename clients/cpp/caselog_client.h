// CaseLogClient: the C++ client of referral.v1.CaseLogService for agency
// systems and tools.
//
//   auto client = CaseLogClient::Connect("127.0.0.1:50101");
//   auto r = client->Append(request);           // retried while UNAVAILABLE
//   client->Follow(1, {}, on_event, on_caught_up);  // resumes after drops
//
// Appends are safe to retry because the log recognises event ids, so the
// client retries UNAVAILABLE and DEADLINE_EXCEEDED with the same request.
// Errors come back as absl::Status with the server's ErrorInfo reason and
// zh-CN message readable through ViewError() (common/errors.h).
//
// Thread safety: one client may be used from many threads at once.

#ifndef REFERRAL_CLIENTS_CPP_CASELOG_CLIENT_H_
#define REFERRAL_CLIENTS_CPP_CASELOG_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "referral/v1/caselog_service.grpc.pb.h"

namespace referral::client {

struct ClientOptions {
  // Deadline of each attempt of a unary call.
  absl::Duration timeout = absl::Seconds(10);
  // Attempts for a call that fails UNAVAILABLE or DEADLINE_EXCEEDED.
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(50);
  // Metadata sent with every call (e.g. the node name in plaintext tests).
  std::vector<std::pair<std::string, std::string>> metadata;
};

class CaseLogClient {
 public:
  static std::unique_ptr<CaseLogClient> Connect(const std::string& address,
                                                ClientOptions options = {});
  CaseLogClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& request);
  absl::StatusOr<v1::ReadCaseResponse> ReadCase(
      const v1::ReadCaseRequest& request);
  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& request);
  absl::StatusOr<v1::VerifyCaseResponse> VerifyCase(
      const v1::VerifyCaseRequest& request);
  absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(
      const v1::GetCheckpointRequest& request);
  absl::StatusOr<v1::SetCheckpointResponse> SetCheckpoint(
      const v1::SetCheckpointRequest& request);

  // Streams the global feed from `from_position`: `on_event` for each event
  // (return false to stop), `on_caught_up` once per connection when the
  // backlog is delivered. After a dropped connection it reconnects and
  // resumes after the last delivered position, so `on_event` sees each
  // position once. Returns OK when `on_event` stops it, or the first error
  // that is not worth retrying.
  absl::Status Follow(uint64_t from_position, const v1::EventFilter& filter,
                      const std::function<bool(const v1::Event&)>& on_event,
                      const std::function<void(uint64_t)>& on_caught_up = {});

  // grpc.health.v1 Check of `service` ("" = the whole server): true when
  // SERVING.
  absl::StatusOr<bool> Healthy(const std::string& service = "");

  grpc::Channel* channel() { return channel_.get(); }

 private:
  template <typename Call>
  auto WithRetries(const Call& call) -> decltype(call(nullptr));
  void Prepare(grpc::ClientContext* context) const;

  std::shared_ptr<grpc::Channel> channel_;
  ClientOptions options_;
  std::unique_ptr<v1::CaseLogService::Stub> stub_;
};

}  // namespace referral::client

#endif  // REFERRAL_CLIENTS_CPP_CASELOG_CLIENT_H_
