// ReferralGrpcService adapts the Broker to referral.v1.ReferralService: it
// learns the caller's node from the connection (identity.h), hands the
// request to the broker, and maps the answer or the error onto the wire.
// StreamInbox follows the caller's slice of the case log through the caselog
// service and turns its events into inbox items; when the inbox client goes
// away the upstream subscription is cancelled too.
//
// Thread safety: as grpc::Service requires.

#ifndef REFERRAL_SERVICES_REFERRAL_REFERRAL_GRPC_SERVICE_H_
#define REFERRAL_SERVICES_REFERRAL_REFERRAL_GRPC_SERVICE_H_

#include <memory>

#include "referral/v1/caselog_service.grpc.pb.h"
#include "referral/v1/referral_service.grpc.pb.h"
#include "services/referral/broker.h"

namespace referral::broker {

class ReferralGrpcService final : public v1::ReferralService::Service {
 public:
  // Not owned; must outlive the service. `caselog` carries the inbox streams.
  ReferralGrpcService(Broker* broker, std::shared_ptr<grpc::Channel> caselog);

#define REFERRAL_DECLARE(Method)                                       \
  grpc::Status Method(grpc::ServerContext* context,                    \
                      const v1::Method##Request* request,              \
                      v1::Method##Response* response) override;
  REFERRAL_DECLARE(OpenCase)
  REFERRAL_DECLARE(GetCase)
  REFERRAL_DECLARE(ListCases)
  REFERRAL_DECLARE(TraceCase)
  REFERRAL_DECLARE(SearchCases)
  REFERRAL_DECLARE(ListAuditEvents)
  REFERRAL_DECLARE(VerifyCaseHistory)
  REFERRAL_DECLARE(ExportCaseEvidence)
  REFERRAL_DECLARE(SendReferral)
  REFERRAL_DECLARE(ReceiveReferral)
  REFERRAL_DECLARE(AcceptReferral)
  REFERRAL_DECLARE(RejectReferral)
  REFERRAL_DECLARE(ReturnReferral)
  REFERRAL_DECLARE(ResubmitReferral)
  REFERRAL_DECLARE(RedirectReferral)
  REFERRAL_DECLARE(StartReferral)
  REFERRAL_DECLARE(HoldReferral)
  REFERRAL_DECLARE(ResumeReferral)
  REFERRAL_DECLARE(CompleteReferral)
  REFERRAL_DECLARE(FailReferral)
  REFERRAL_DECLARE(CancelReferral)
  REFERRAL_DECLARE(GetReferral)
  REFERRAL_DECLARE(ListReferrals)
  REFERRAL_DECLARE(AckInbox)
  REFERRAL_DECLARE(GetBacklog)
#undef REFERRAL_DECLARE

  grpc::Status StreamInbox(
      grpc::ServerContext* context, const v1::StreamInboxRequest* request,
      grpc::ServerWriter<v1::StreamInboxResponse>* writer) override;

 private:
  Broker* broker_;
  std::unique_ptr<v1::CaseLogService::Stub> caselog_;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_REFERRAL_GRPC_SERVICE_H_
