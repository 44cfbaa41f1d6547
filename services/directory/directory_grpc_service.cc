#include "services/directory/directory_grpc_service.h"

#include "services/runtime/grpc_status.h"

namespace referral::directory {

grpc::Status DirectoryGrpcService::GetNode(grpc::ServerContext*,
                                           const v1::GetNodeRequest* request,
                                           v1::GetNodeResponse* response) {
  return Reply(directory_->GetNode(*request), response);
}

grpc::Status DirectoryGrpcService::ListNodes(grpc::ServerContext*,
                                             const v1::ListNodesRequest* request,
                                             v1::ListNodesResponse* response) {
  return Reply(directory_->ListNodes(*request), response);
}

grpc::Status DirectoryGrpcService::Route(grpc::ServerContext*,
                                         const v1::RouteRequest* request,
                                         v1::RouteResponse* response) {
  return Reply(directory_->Route(*request), response);
}

}  // namespace referral::directory
