// LegalAidGrpcService adapts LegalAid to referral.v1.LegalAidService: it
// learns the caller's node from the connection (services/runtime/identity.h),
// hands the request to the core, and puts the answer or the error on the
// wire (services/runtime/grpc_status.h). It decides nothing.
//
// Thread safety: as grpc::Service requires.

#ifndef REFERRAL_SERVICES_LEGALAID_LEGAL_AID_GRPC_SERVICE_H_
#define REFERRAL_SERVICES_LEGALAID_LEGAL_AID_GRPC_SERVICE_H_

#include "referral/v1/legalaid_service.grpc.pb.h"
#include "services/legalaid/legal_aid.h"

namespace referral::legalaid {

class LegalAidGrpcService final : public v1::LegalAidService::Service {
 public:
  // Not owned; must outlive the service.
  explicit LegalAidGrpcService(LegalAid* legal_aid) : legal_aid_(legal_aid) {}

#define REFERRAL_DECLARE(Method)                                       \
  grpc::Status Method(grpc::ServerContext* context,                    \
                      const v1::Method##Request* request,              \
                      v1::Method##Response* response) override;
  REFERRAL_DECLARE(ApplyForLegalAid)
  REFERRAL_DECLARE(ReviewApplication)
  REFERRAL_DECLARE(AssignLawyer)
  REFERRAL_DECLARE(FlagMajorCase)
  REFERRAL_DECLARE(CloseApplication)
  REFERRAL_DECLARE(GetApplication)
  REFERRAL_DECLARE(ListApplications)
  REFERRAL_DECLARE(EnrolLawyer)
  REFERRAL_DECLARE(EvaluateLawyer)
  REFERRAL_DECLARE(ListLawyers)
#undef REFERRAL_DECLARE

 private:
  LegalAid* legal_aid_;
};

}  // namespace referral::legalaid

#endif  // REFERRAL_SERVICES_LEGALAID_LEGAL_AID_GRPC_SERVICE_H_
