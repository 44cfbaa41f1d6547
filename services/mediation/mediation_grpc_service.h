// MediationGrpcService adapts Mediation to referral.v1.MediationService: it
// learns the caller's node from the connection (services/runtime/identity.h),
// hands the request to the core, and puts the answer or the error on the
// wire (services/runtime/grpc_status.h). It decides nothing.
//
// Thread safety: as grpc::Service requires.

#ifndef REFERRAL_SERVICES_MEDIATION_MEDIATION_GRPC_SERVICE_H_
#define REFERRAL_SERVICES_MEDIATION_MEDIATION_GRPC_SERVICE_H_

#include "referral/v1/mediation_service.grpc.pb.h"
#include "services/mediation/mediation.h"

namespace referral::mediation {

class MediationGrpcService final : public v1::MediationService::Service {
 public:
  // Not owned; must outlive the service.
  explicit MediationGrpcService(Mediation* mediation) : mediation_(mediation) {}

#define REFERRAL_DECLARE(Method)                                       \
  grpc::Status Method(grpc::ServerContext* context,                    \
                      const v1::Method##Request* request,              \
                      v1::Method##Response* response) override;
  REFERRAL_DECLARE(ConveneMeeting)
  REFERRAL_DECLARE(InviteParticipants)
  REFERRAL_DECLARE(AnswerInvitation)
  REFERRAL_DECLARE(RescheduleMeeting)
  REFERRAL_DECLARE(CancelMeeting)
  REFERRAL_DECLARE(RecordMeetingHeld)
  REFERRAL_DECLARE(RecordLiability)
  REFERRAL_DECLARE(RecordAgreement)
  REFERRAL_DECLARE(RecordMediationFailed)
  REFERRAL_DECLARE(RecordPayment)
  REFERRAL_DECLARE(GetMeeting)
  REFERRAL_DECLARE(ListMeetings)
#undef REFERRAL_DECLARE

 private:
  Mediation* mediation_;
};

}  // namespace referral::mediation

#endif  // REFERRAL_SERVICES_MEDIATION_MEDIATION_GRPC_SERVICE_H_
