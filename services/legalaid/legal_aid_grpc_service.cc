#include "services/legalaid/legal_aid_grpc_service.h"

#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"

namespace referral::legalaid {

// Each method: the caller from the connection, the core's answer or error.
#define REFERRAL_METHOD(Method)                                                 \
  grpc::Status LegalAidGrpcService::Method(grpc::ServerContext* context,        \
                                           const v1::Method##Request* request,  \
                                           v1::Method##Response* response) {    \
    absl::StatusOr<Caller> caller = CallerOf(*context);                         \
    if (!caller.ok()) return ToGrpcStatus(caller.status());                     \
    return Reply(legal_aid_->Method(caller->node, *request), response);         \
  }

REFERRAL_METHOD(ApplyForLegalAid)
REFERRAL_METHOD(ReviewApplication)
REFERRAL_METHOD(AssignLawyer)
REFERRAL_METHOD(FlagMajorCase)
REFERRAL_METHOD(CloseApplication)
REFERRAL_METHOD(GetApplication)
REFERRAL_METHOD(ListApplications)
REFERRAL_METHOD(EnrolLawyer)
REFERRAL_METHOD(EvaluateLawyer)
REFERRAL_METHOD(ListLawyers)
#undef REFERRAL_METHOD

}  // namespace referral::legalaid
