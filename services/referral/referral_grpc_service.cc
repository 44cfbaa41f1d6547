#include "services/referral/referral_grpc_service.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "grpcpp/client_context.h"
#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"

namespace referral::broker {

ReferralGrpcService::ReferralGrpcService(Broker* broker,
                                         std::shared_ptr<grpc::Channel> caselog)
    : broker_(broker), caselog_(v1::CaseLogService::NewStub(std::move(caselog))) {}

namespace {

// Runs `call(caller)` for an authenticated caller and puts its answer into
// the response through `fill`.
template <typename Call, typename Fill>
grpc::Status Handle(grpc::ServerContext* context, const Call& call, const Fill& fill) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto result = call(caller->node);
  if (!result.ok()) return ToGrpcStatus(result.status());
  fill(*result);
  return grpc::Status::OK;
}

}  // namespace

#define REFERRAL_STEP(Method, BrokerMethod)                                     \
  grpc::Status ReferralGrpcService::Method(grpc::ServerContext* context,        \
                                           const v1::Method##Request* request,  \
                                           v1::Method##Response* response) {    \
    return Handle(                                                              \
        context,                                                                \
        [&](const std::string& node) { return broker_->BrokerMethod(node, *request); }, \
        [&](v1::Referral& r) { response->mutable_referral()->Swap(&r); });      \
  }

REFERRAL_STEP(SendReferral, SendReferral)
REFERRAL_STEP(ReceiveReferral, Receive)
REFERRAL_STEP(AcceptReferral, Accept)
REFERRAL_STEP(RejectReferral, Reject)
REFERRAL_STEP(ReturnReferral, Return)
REFERRAL_STEP(ResubmitReferral, Resubmit)
REFERRAL_STEP(StartReferral, Start)
REFERRAL_STEP(HoldReferral, Hold)
REFERRAL_STEP(ResumeReferral, Resume)
REFERRAL_STEP(CompleteReferral, Complete)
REFERRAL_STEP(FailReferral, Fail)
REFERRAL_STEP(CancelReferral, Cancel)
#undef REFERRAL_STEP

grpc::Status ReferralGrpcService::RedirectReferral(
    grpc::ServerContext* context, const v1::RedirectReferralRequest* request,
    v1::RedirectReferralResponse* response) {
  return Handle(
      context, [&](const std::string& node) { return broker_->Redirect(node, *request); },
      [&](StepResult& s) {
        response->mutable_referral()->Swap(&s.referral);
        if (s.child) response->mutable_child()->Swap(&*s.child);
      });
}

grpc::Status ReferralGrpcService::OpenCase(grpc::ServerContext* context,
                                           const v1::OpenCaseRequest* request,
                                           v1::OpenCaseResponse* response) {
  return Handle(
      context, [&](const std::string& node) { return broker_->OpenCase(node, *request); },
      [&](v1::Case& c) { response->mutable_case_()->Swap(&c); });
}

grpc::Status ReferralGrpcService::GetCase(grpc::ServerContext* context,
                                          const v1::GetCaseRequest* request,
                                          v1::GetCaseResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) { return broker_->GetCase(node, *request); },
      [&](v1::Case& c) { response->mutable_case_()->Swap(&c); });
}

grpc::Status ReferralGrpcService::ListCases(grpc::ServerContext* context,
                                            const v1::ListCasesRequest* request,
                                            v1::ListCasesResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) { return broker_->ListCases(node, *request); },
      [&](v1::ListCasesResponse& r) { response->Swap(&r); });
}

grpc::Status ReferralGrpcService::TraceCase(grpc::ServerContext* context,
                                            const v1::TraceCaseRequest* request,
                                            v1::TraceCaseResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) { return broker_->TraceCase(node, *request); },
      [&](std::vector<v1::Event>& events) {
        for (auto& e : events) response->add_events()->Swap(&e);
      });
}

grpc::Status ReferralGrpcService::SearchCases(grpc::ServerContext* context,
                                              const v1::SearchCasesRequest* request,
                                              v1::SearchCasesResponse* response) {
  return Handle(
      context, [&](const std::string& node) { return broker_->SearchCases(node, *request); },
      [&](v1::SearchCasesResponse& r) { response->Swap(&r); });
}

grpc::Status ReferralGrpcService::ListAuditEvents(grpc::ServerContext* context,
                                                  const v1::ListAuditEventsRequest* request,
                                                  v1::ListAuditEventsResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) { return broker_->ListAuditEvents(node, *request); },
      [&](v1::ListAuditEventsResponse& r) { response->Swap(&r); });
}

grpc::Status ReferralGrpcService::VerifyCaseHistory(
    grpc::ServerContext* context, const v1::VerifyCaseHistoryRequest* request,
    v1::VerifyCaseHistoryResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) { return broker_->VerifyCaseHistory(node, *request); },
      [&](v1::VerifyCaseResponse& r) { response->mutable_verdict()->Swap(&r); });
}

grpc::Status ReferralGrpcService::ExportCaseEvidence(
    grpc::ServerContext* context, const v1::ExportCaseEvidenceRequest* request,
    v1::ExportCaseEvidenceResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) { return broker_->ExportCaseEvidence(node, *request); },
      [&](v1::EvidenceBundle& b) { response->mutable_bundle()->Swap(&b); });
}

grpc::Status ReferralGrpcService::GetReferral(grpc::ServerContext* context,
                                              const v1::GetReferralRequest* request,
                                              v1::GetReferralResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) {
        return broker_->GetReferral(node, request->referral_id());
      },
      [&](v1::Referral& r) { response->mutable_referral()->Swap(&r); });
}

grpc::Status ReferralGrpcService::ListReferrals(grpc::ServerContext* context,
                                                const v1::ListReferralsRequest* request,
                                                v1::ListReferralsResponse* response) {
  return Handle(
      context, [&](const std::string& node) { return broker_->ListReferrals(node, *request); },
      [&](std::vector<v1::Referral>& list) {
        for (auto& r : list) response->add_referrals()->Swap(&r);
      });
}

grpc::Status ReferralGrpcService::AckInbox(grpc::ServerContext* context,
                                           const v1::AckInboxRequest* request,
                                           v1::AckInboxResponse* response) {
  return Handle(
      context,
      [&](const std::string& node) { return broker_->AckInbox(node, request->position()); },
      [&](uint64_t cursor) { response->set_cursor(cursor); });
}

grpc::Status ReferralGrpcService::GetBacklog(grpc::ServerContext* context,
                                             const v1::GetBacklogRequest* request,
                                             v1::GetBacklogResponse* response) {
  return Handle(
      context, [&](const std::string& node) { return broker_->Backlog(node, request->node()); },
      [&](v1::GetBacklogResponse& b) { response->Swap(&b); });
}

grpc::Status ReferralGrpcService::StreamInbox(
    grpc::ServerContext* context, const v1::StreamInboxRequest* request,
    grpc::ServerWriter<v1::StreamInboxResponse>* writer) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  uint64_t from = request->from_position();
  if (from == 0) {
    absl::StatusOr<uint64_t> cursor = broker_->InboxCursor(caller->node);
    if (!cursor.ok()) return ToGrpcStatus(cursor.status());
    from = *cursor + 1;
  }
  grpc::ClientContext upstream;
  v1::SubscribeRequest subscribe;
  subscribe.set_from_position(from);
  *subscribe.mutable_filter() = Broker::InboxFilter(caller->node);
  auto reader = caselog_->Subscribe(&upstream, subscribe);

  // The sync API has no cancellation callback: watch for the inbox client
  // going away and cancel the upstream stream, which unblocks Read().
  absl::Notification done;
  std::thread watcher([&] {
    while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
      if (context->IsCancelled()) {
        upstream.TryCancel();
        return;
      }
    }
  });
  grpc::Status result = grpc::Status::OK;
  v1::SubscribeResponse message;
  while (reader->Read(&message)) {
    v1::StreamInboxResponse out;
    if (message.has_caught_up()) {
      *out.mutable_caught_up() = message.caught_up();
    } else {
      absl::StatusOr<std::optional<v1::InboxItem>> item =
          broker_->InboxItemOf(message.event());
      if (!item.ok()) {
        result = ToGrpcStatus(item.status());
        upstream.TryCancel();
        break;
      }
      if (!item->has_value()) continue;
      out.mutable_item()->Swap(&**item);
    }
    if (!writer->Write(out)) {
      upstream.TryCancel();
      break;
    }
  }
  grpc::Status upstream_status = reader->Finish();
  done.Notify();
  watcher.join();
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  if (!result.ok()) return result;
  if (!upstream_status.ok()) {
    // The case log went away; the client reconnects and resumes from its
    // durable cursor.
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the case log stream ended: reconnect to resume from "
                        "your inbox cursor (" + upstream_status.error_message() + ")");
  }
  return grpc::Status::OK;
}

}  // namespace referral::broker
