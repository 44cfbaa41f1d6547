#include "clients/cpp/caselog_client.h"

#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/runtime/grpc_status.h"

namespace referral::client {
namespace {

bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

std::unique_ptr<CaseLogClient> CaseLogClient::Connect(
    const std::string& address, ClientOptions options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return std::make_unique<CaseLogClient>(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                args),
      std::move(options));
}

CaseLogClient::CaseLogClient(std::shared_ptr<grpc::Channel> channel,
                             ClientOptions options)
    : channel_(std::move(channel)),
      options_(std::move(options)),
      stub_(v1::CaseLogService::NewStub(channel_)) {}

void CaseLogClient::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  for (const auto& [k, v] : options_.metadata) context->AddMetadata(k, v);
}

template <typename Call>
auto CaseLogClient::WithRetries(const Call& call) -> decltype(call(nullptr)) {
  absl::Duration backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    Prepare(&context);
    auto result = call(&context);
    if (result.ok() || !Retryable(result.status()) ||
        attempt >= options_.max_attempts) {
      return result;
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

#define REFERRAL_UNARY(Method)                                            \
  absl::StatusOr<v1::Method##Response> CaseLogClient::Method(             \
      const v1::Method##Request& request) {                               \
    return WithRetries([&](grpc::ClientContext* context)                  \
                           -> absl::StatusOr<v1::Method##Response> {      \
      v1::Method##Response response;                                      \
      grpc::Status s = stub_->Method(context, request, &response);        \
      if (!s.ok()) return FromGrpcStatus(s);                              \
      return response;                                                    \
    });                                                                   \
  }

REFERRAL_UNARY(Append)
REFERRAL_UNARY(ReadCase)
REFERRAL_UNARY(ReadAll)
REFERRAL_UNARY(VerifyCase)
REFERRAL_UNARY(GetCheckpoint)
REFERRAL_UNARY(SetCheckpoint)
#undef REFERRAL_UNARY

absl::Status CaseLogClient::Follow(
    uint64_t from_position, const v1::EventFilter& filter,
    const std::function<bool(const v1::Event&)>& on_event,
    const std::function<void(uint64_t)>& on_caught_up) {
  uint64_t next = std::max<uint64_t>(from_position, 1);
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    grpc::ClientContext context;
    for (const auto& [k, v] : options_.metadata) context.AddMetadata(k, v);
    v1::SubscribeRequest request;
    request.set_from_position(next);
    *request.mutable_filter() = filter;
    auto reader = stub_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      backoff = options_.initial_backoff;
      if (message.has_caught_up()) {
        if (on_caught_up) on_caught_up(message.caught_up().position());
        continue;
      }
      const v1::Event& e = message.event();
      if (e.global_position() < next) continue;  // already delivered
      next = e.global_position() + 1;
      if (!on_event(e)) {
        context.TryCancel();
        reader->Finish().IgnoreError();
        return absl::OkStatus();
      }
    }
    absl::Status s = FromGrpcStatus(reader->Finish());
    if (!s.ok() && !Retryable(s)) return s;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

absl::StatusOr<bool> CaseLogClient::Healthy(const std::string& service) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(&context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = health->Check(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace referral::client
