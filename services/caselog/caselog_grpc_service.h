// CaseLogGrpcService adapts CaseLog to referral.v1.CaseLogService: protos in
// and out, absl::Status to grpc::Status. Unary methods run on the server's
// bounded synchronous thread pool (many blocking writers feed the store's
// group commit); Subscribe uses the callback API, woken by the store's commit
// notifier, so a subscriber holds no thread while it waits.
//
// Who may call: the case log is the broker's database, not an agency's API.
// An agency writing raw events could forge a case's history, and reading the
// log directly would bypass the referral service's parties rule, masking and
// audit. So on mTLS only the identities in `admitted` (the services, and an
// operator identity for refctl's `log` commands) get past the first line of
// every method; anyone else gets PERMISSION_DENIED (NOT_ALLOWED_FOR_ROLE)
// pointing at the referral service. The gRPC health service stays open to
// any certificate of the deployment. On a plaintext server (tests only)
// identities are whatever a caller claims, so `admitted` is left empty there
// and nobody is refused.
//
// Thread safety: as grpc::Service requires.

#ifndef REFERRAL_SERVICES_CASELOG_CASELOG_GRPC_SERVICE_H_
#define REFERRAL_SERVICES_CASELOG_CASELOG_GRPC_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "referral/v1/caselog_service.grpc.pb.h"
#include "services/caselog/caselog_service.h"

namespace referral::caselog {

class CaseLogGrpcService final
    : public v1::CaseLogService::WithCallbackMethod_Subscribe<
          v1::CaseLogService::Service> {
 public:
  // `core` is not owned and must outlive the service. `admitted`: the
  // identities (certificate names) allowed to call; empty = anyone.
  explicit CaseLogGrpcService(CaseLog* core, std::vector<std::string> admitted = {})
      : core_(core), admitted_(std::move(admitted)) {}

  grpc::Status Append(grpc::ServerContext* context,
                      const v1::AppendRequest* request,
                      v1::AppendResponse* response) override;
  grpc::Status ReadCase(grpc::ServerContext* context,
                        const v1::ReadCaseRequest* request,
                        v1::ReadCaseResponse* response) override;
  grpc::Status ReadAll(grpc::ServerContext* context,
                       const v1::ReadAllRequest* request,
                       v1::ReadAllResponse* response) override;
  grpc::Status VerifyCase(grpc::ServerContext* context,
                          const v1::VerifyCaseRequest* request,
                          v1::VerifyCaseResponse* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status SetCheckpoint(grpc::ServerContext* context,
                             const v1::SetCheckpointRequest* request,
                             v1::SetCheckpointResponse* response) override;
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;

 private:
  // OK, or why the caller may not use the case log.
  absl::Status Admit(const grpc::ServerContextBase& context) const;

  CaseLog* core_;
  std::vector<std::string> admitted_;
};

}  // namespace referral::caselog

#endif  // REFERRAL_SERVICES_CASELOG_CASELOG_GRPC_SERVICE_H_
