// Directory: the agency nodes, their jurisdictions and levels, and the
// service menu that routes a worker's matter to the node that should take it.
// The directory service's core; it knows nothing of gRPC.
//
// It is loaded once from one TOML file (see qinzhou.toml for the format and
// the default, Qinzhou District) and never changes afterwards. A malformed
// file is refused with CONFIG_INVALID and a message "FILE:LINE:COLUMN: what
// is wrong", so the operator can fix it before anything starts.
//
// Routing: among the nodes that list the matter in `matters` and whose
// jurisdiction covers the requested area, the one with the most specific
// jurisdiction wins; the loader refuses two such nodes for one matter in one
// jurisdiction, so the answer is always unique. Nodes that list the matter in
// `also_matters`, or first places of wider areas, come back as alternatives.
//
// Thread safety: const methods may be called concurrently.

#ifndef REFERRAL_SERVICES_DIRECTORY_DIRECTORY_H_
#define REFERRAL_SERVICES_DIRECTORY_DIRECTORY_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "referral/v1/directory_service.pb.h"

namespace referral::directory {

class Directory {
 public:
  // Reads and validates a configuration file.
  static absl::StatusOr<Directory> LoadFile(const std::string& path);
  // Validates configuration text; `source` names it in error messages.
  static absl::StatusOr<Directory> LoadString(absl::string_view toml,
                                              absl::string_view source);

  // Errors: INVALID_FIELD for a malformed name; NODE_NOT_FOUND.
  absl::StatusOr<v1::GetNodeResponse> GetNode(
      const v1::GetNodeRequest& request) const;

  // Errors: INVALID_FIELD for a malformed jurisdiction.
  absl::StatusOr<v1::ListNodesResponse> ListNodes(
      const v1::ListNodesRequest& request) const;

  // Errors: INVALID_FIELD for a missing matter or malformed jurisdiction;
  // NO_ROUTE when no node's menu covers the matter there.
  absl::StatusOr<v1::RouteResponse> Route(const v1::RouteRequest& request) const;

  size_t size() const { return nodes_.size(); }

 private:
  std::map<std::string, v1::Node, std::less<>> nodes_;
};

// True when `area` is `jurisdiction` or lies inside it, segment by segment
// ("a/b" covers "a/b" and "a/b/c", not "a/bc").
bool Covers(absl::string_view jurisdiction, absl::string_view area);

}  // namespace referral::directory

#endif  // REFERRAL_SERVICES_DIRECTORY_DIRECTORY_H_
