#include "clients/refctl/trace_picture.h"

#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/refctl/trace_svg.h"
#include "grpcpp/create_channel.h"
#include "referral/v1/directory_service.grpc.pb.h"
#include "services/runtime/grpc_status.h"

namespace referral::refctl {
namespace {

// Names only decorate the picture: do not hold it up for long.
constexpr absl::Duration kDirectoryWait = absl::Seconds(3);

absl::Status AddDirectoryNodes(const Globals& g, TraceSvgOptions* options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = ServiceCredentials(g);
  if (!creds.ok()) return creds.status();
  auto stub = v1::DirectoryService::NewStub(grpc::CreateChannel(g.directory, *creds));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + std::min(Timeout(g), kDirectoryWait)));
  v1::ListNodesResponse response;
  absl::Status s = FromGrpcStatus(stub->ListNodes(&context, v1::ListNodesRequest(), &response));
  if (!s.ok()) return s;
  for (const v1::Node& n : response.nodes()) {
    options->nodes[n.name()] = NodeInfo{n.kind(), n.display_name_zh()};
  }
  return absl::OkStatus();
}

}  // namespace

std::string CaseSvg(const Globals& g, const std::string& case_id,
                    const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  TraceSvgOptions options;
  options.case_id = case_id;
  if (absl::Status s = AddDirectoryNodes(g, &options); !s.ok() && g.verbose) {
    std::cerr << "directory " << g.directory << ": " << s.message()
              << "; lanes follow the node names\n";
  }
  return TraceSvg(std::vector<v1::Event>(events.begin(), events.end()), options);
}

absl::Status WriteCaseSvg(const Globals& g, const std::string& case_id,
                          const google::protobuf::RepeatedPtrField<v1::Event>& events,
                          const std::string& path) {
  const std::string svg = CaseSvg(g, case_id, events);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << svg;
  out.close();
  if (!out) {
    return absl::InvalidArgumentError(
        absl::StrCat("--svg ", path,
                     ": cannot write the file; check that its directory exists "
                     "and is writable"));
  }
  if (g.verbose) std::cerr << "wrote " << path << "\n";
  return absl::OkStatus();
}

}  // namespace referral::refctl
