#include "clients/cpp/referral_client.h"

#include <algorithm>
#include <random>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "services/runtime/grpc_status.h"

namespace referral::client {
namespace {

// Every ReferralService call is safe to repeat: commands carry request ids,
// Ack only moves the cursor forward, the rest read. This client never
// cancels a unary call itself, so a CANCELLED one was cancelled by a server
// going away (a restart), and is repeated like UNAVAILABLE.
bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kCancelled;
}

// Backoff with +-20% jitter so that many clients do not retry in step.
absl::Duration Jittered(absl::Duration d) {
  thread_local absl::BitGen gen;
  return d * absl::Uniform(gen, 0.8, 1.2);
}

}  // namespace

std::string NewRequestId(absl::string_view prefix) {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return absl::StrFormat("%s-%016x%016x", prefix, gen(), gen());
}

bool IsValidRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
           c == '-';
  });
}

RecentIds::RecentIds(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

bool RecentIds::Insert(absl::string_view id) {
  if (set_.contains(id)) return false;
  if (order_.size() >= capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
  order_.emplace_back(id);
  set_.insert(order_.back());
  return true;
}

bool RecentIds::Contains(absl::string_view id) const { return set_.contains(id); }

absl::StatusOr<std::unique_ptr<ReferralClient>> ReferralClient::Connect(
    const std::string& address, const std::string& node,
    const std::optional<TlsFiles>& tls, ReferralClientOptions options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      ChannelCredentialsFor(tls);
  if (!creds.ok()) return creds.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  // Notice a silently dead connection under a quiet inbox stream; not more
  // often than gRPC servers accept by default (one ping per 5 minutes).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 6 * 60 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  // Reconnect within seconds of the broker coming back, not gRPC's default
  // of up to two minutes: a follower is waiting for its inbox.
  // (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: that is also the deadline of
  // each connection attempt, TLS handshake included.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 3000);
  return std::make_unique<ReferralClient>(
      grpc::CreateCustomChannel(address, *creds, args),
      tls.has_value() ? std::string() : node, std::move(options));
}

ReferralClient::ReferralClient(std::shared_ptr<grpc::Channel> channel,
                               std::string act_as, ReferralClientOptions options)
    : channel_(std::move(channel)),
      act_as_(std::move(act_as)),
      options_(std::move(options)),
      stub_(v1::ReferralService::NewStub(channel_)),
      seen_(options_.dedup_window) {}

ReferralClient::~ReferralClient() = default;

void ReferralClient::Prepare(grpc::ClientContext* context,
                             absl::Duration timeout) const {
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  if (!act_as_.empty()) ActAs(context, act_as_);
}

template <typename Call>
auto ReferralClient::WithRetries(const Call& call) -> decltype(call(nullptr)) {
  absl::Duration backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    Prepare(&context, options_.timeout);
    auto result = call(&context);
    if (result.ok() || !Retryable(result.status()) ||
        attempt >= options_.max_attempts) {
      return result;
    }
    channel_->GetState(/*try_to_connect=*/true);  // reconnect meanwhile
    absl::SleepFor(Jittered(backoff));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

#define REFERRAL_UNARY(Method)                                           \
  absl::StatusOr<v1::Method##Response> ReferralClient::Method(           \
      const v1::Method##Request& request) {                              \
    return WithRetries([&](grpc::ClientContext* context)                 \
                           -> absl::StatusOr<v1::Method##Response> {     \
      v1::Method##Response response;                                     \
      grpc::Status s = stub_->Method(context, request, &response);       \
      if (!s.ok()) return FromGrpcStatus(s);                             \
      return response;                                                   \
    });                                                                  \
  }

REFERRAL_UNARY(OpenCase)
REFERRAL_UNARY(GetCase)
REFERRAL_UNARY(ListCases)
REFERRAL_UNARY(TraceCase)
REFERRAL_UNARY(SearchCases)
REFERRAL_UNARY(ListAuditEvents)
REFERRAL_UNARY(SendReferral)
REFERRAL_UNARY(ReceiveReferral)
REFERRAL_UNARY(AcceptReferral)
REFERRAL_UNARY(RejectReferral)
REFERRAL_UNARY(ReturnReferral)
REFERRAL_UNARY(ResubmitReferral)
REFERRAL_UNARY(RedirectReferral)
REFERRAL_UNARY(StartReferral)
REFERRAL_UNARY(HoldReferral)
REFERRAL_UNARY(ResumeReferral)
REFERRAL_UNARY(CompleteReferral)
REFERRAL_UNARY(FailReferral)
REFERRAL_UNARY(CancelReferral)
REFERRAL_UNARY(GetReferral)
REFERRAL_UNARY(ListReferrals)
REFERRAL_UNARY(GetBacklog)
REFERRAL_UNARY(AckInbox)
#undef REFERRAL_UNARY

absl::StatusOr<v1::AckInboxResponse> ReferralClient::Ack(uint64_t position) {
  v1::AckInboxRequest request;
  request.set_position(position);
  return AckInbox(request);
}

void ReferralClient::StopFollowing() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
  if (following_ != nullptr) following_->TryCancel();
}

absl::Status ReferralClient::FollowInbox(
    uint64_t from_position,
    const std::function<bool(const v1::InboxItem&)>& on_item,
    const std::function<bool(uint64_t)>& on_caught_up) {
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
  }
  uint64_t next = from_position;  // 0: the server's durable cursor
  uint64_t last_delivered = 0;    // highest position handed to on_item
  absl::Duration backoff = options_.initial_backoff;
  int failed_connections = 0;
  bool dropped = false;  // the last connection ended in an error
  for (;;) {
    grpc::ClientContext context;
    Prepare(&context, options_.stream_timeout);
    // After a drop, a live follower waits for the broker to come back: a
    // fail-fast call would keep failing while the channel sits in
    // TRANSIENT_FAILURE, even once the broker is up again.
    if (options_.max_reconnects == 0 && dropped) context.set_wait_for_ready(true);
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return absl::OkStatus();
      following_ = &context;
    }
    auto clear_following = [&] {
      absl::MutexLock lock(&mu_);
      following_ = nullptr;
      return stop_;
    };

    v1::StreamInboxRequest request;
    request.set_from_position(next);
    std::unique_ptr<grpc::ClientReader<v1::StreamInboxResponse>> reader =
        stub_->StreamInbox(&context, request);
    v1::StreamInboxResponse message;
    bool stopped = false;
    while (!stopped && reader->Read(&message)) {
      backoff = options_.initial_backoff;
      failed_connections = 0;
      if (message.has_caught_up()) {
        if (on_caught_up && !on_caught_up(message.caught_up().position())) {
          stopped = true;
        }
        continue;
      }
      const v1::InboxItem& item = message.item();
      const uint64_t position = item.event().global_position();
      // In order within a connection: anything at or before what was
      // delivered is a redelivery from the durable cursor.
      if (position != 0 && position <= last_delivered) continue;
      bool fresh;
      {
        absl::MutexLock lock(&mu_);
        fresh = item.event().event_id().empty() ||
                seen_.Insert(item.event().event_id());
      }
      if (!fresh) continue;
      last_delivered = std::max(last_delivered, position);
      if (!on_item(item)) stopped = true;
    }
    if (stopped) {
      context.TryCancel();
      reader->Finish().IgnoreError();
      clear_following();
      return absl::OkStatus();
    }
    absl::Status s = FromGrpcStatus(reader->Finish());
    if (clear_following()) return absl::OkStatus();  // StopFollowing()
    // OK: the server ended the stream (shutting down); reconnect. So too
    // for CANCELLED, which we did not ask for: a server cancels its streams
    // as it stops.
    if (!s.ok() && !Retryable(s)) return s;
    if (!s.ok() && options_.max_reconnects > 0 &&
        ++failed_connections >= options_.max_reconnects) {
      return s;
    }
    dropped = !s.ok();
    if (options_.on_reconnect) options_.on_reconnect(s);
    if (from_position != 0) {
      next = std::max(from_position, last_delivered + 1);
    }
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), Jittered(backoff))) {
        return absl::OkStatus();
      }
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace referral::client
