// DirectoryGrpcService adapts Directory to referral.v1.DirectoryService.
//
// Thread safety: as grpc::Service requires; the directory is immutable.

#ifndef REFERRAL_SERVICES_DIRECTORY_DIRECTORY_GRPC_SERVICE_H_
#define REFERRAL_SERVICES_DIRECTORY_DIRECTORY_GRPC_SERVICE_H_

#include "referral/v1/directory_service.grpc.pb.h"
#include "services/directory/directory.h"

namespace referral::directory {

class DirectoryGrpcService final : public v1::DirectoryService::Service {
 public:
  // `directory` is not owned and must outlive the service.
  explicit DirectoryGrpcService(const Directory* directory)
      : directory_(directory) {}

  grpc::Status GetNode(grpc::ServerContext* context,
                       const v1::GetNodeRequest* request,
                       v1::GetNodeResponse* response) override;
  grpc::Status ListNodes(grpc::ServerContext* context,
                         const v1::ListNodesRequest* request,
                         v1::ListNodesResponse* response) override;
  grpc::Status Route(grpc::ServerContext* context,
                     const v1::RouteRequest* request,
                     v1::RouteResponse* response) override;

 private:
  const Directory* directory_;
};

}  // namespace referral::directory

#endif  // REFERRAL_SERVICES_DIRECTORY_DIRECTORY_GRPC_SERVICE_H_
