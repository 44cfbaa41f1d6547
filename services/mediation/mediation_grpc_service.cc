#include "services/mediation/mediation_grpc_service.h"

#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"

namespace referral::mediation {

// Each method: the caller from the connection, the core's answer or error.
#define REFERRAL_METHOD(Method)                                                  \
  grpc::Status MediationGrpcService::Method(grpc::ServerContext* context,        \
                                            const v1::Method##Request* request,  \
                                            v1::Method##Response* response) {    \
    absl::StatusOr<Caller> caller = CallerOf(*context);                          \
    if (!caller.ok()) return ToGrpcStatus(caller.status());                      \
    return Reply(mediation_->Method(caller->node, *request), response);          \
  }

REFERRAL_METHOD(ConveneMeeting)
REFERRAL_METHOD(InviteParticipants)
REFERRAL_METHOD(AnswerInvitation)
REFERRAL_METHOD(RescheduleMeeting)
REFERRAL_METHOD(CancelMeeting)
REFERRAL_METHOD(RecordMeetingHeld)
REFERRAL_METHOD(RecordLiability)
REFERRAL_METHOD(RecordAgreement)
REFERRAL_METHOD(RecordMediationFailed)
REFERRAL_METHOD(RecordPayment)
REFERRAL_METHOD(GetMeeting)
REFERRAL_METHOD(ListMeetings)
#undef REFERRAL_METHOD

}  // namespace referral::mediation
