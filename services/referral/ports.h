// What the broker needs from the rest of the system, as interfaces, so the
// core has no gRPC in it: the case log (caselog service) and the directory
// (directory service). grpc_ports.h implements them over gRPC; local_ports.h
// over the in-process cores (tests, single-process tools).

#ifndef REFERRAL_SERVICES_REFERRAL_PORTS_H_
#define REFERRAL_SERVICES_REFERRAL_PORTS_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "referral/v1/caselog_service.pb.h"
#include "referral/v1/directory.pb.h"

namespace referral::broker {

// The end of a case read from a sequence on: the events after it, in order,
// and the case's version (last sequence) as the case log reported it.
struct CaseTail {
  std::vector<v1::Event> events;
  uint64_t case_version = 0;
};

class CaseLogPort {
 public:
  virtual ~CaseLogPort() = default;

  // Every event of a case, in order. CASE_NOT_FOUND when it has none.
  virtual absl::StatusOr<std::vector<v1::Event>> ReadCase(
      absl::string_view case_id) = 0;
  // The events of a case with a sequence above `after_sequence` (all of them
  // for 0), in order; an empty list when there are none yet. CASE_NOT_FOUND
  // when the case has no events at all. This default reads the whole case
  // and drops the prefix; a port over the case log asks it for the tail
  // only (ReadCaseRequest.from_sequence), so a reader that remembers where
  // it stopped pays for what is new.
  virtual absl::StatusOr<CaseTail> ReadCaseFrom(absl::string_view case_id,
                                                uint64_t after_sequence) {
    absl::StatusOr<std::vector<v1::Event>> all = ReadCase(case_id);
    if (!all.ok()) return all.status();
    CaseTail tail;
    if (!all->empty()) tail.case_version = all->back().sequence();
    for (v1::Event& e : *all) {
      if (e.sequence() > after_sequence) tail.events.push_back(std::move(e));
    }
    return tail;
  }
  virtual absl::StatusOr<v1::AppendResponse> Append(
      const v1::AppendRequest& request) = 0;
  virtual absl::StatusOr<v1::ReadAllResponse> ReadAll(
      const v1::ReadAllRequest& request) = 0;
  // A checkpoint's position; 0 when it was never set.
  virtual absl::StatusOr<uint64_t> GetCheckpoint(absl::string_view name) = 0;
  virtual absl::Status SetCheckpoint(absl::string_view name,
                                     uint64_t position) = 0;
  // The case log's verdict on a case's hash chain, with its signed head
  // when it has a signing key. Ports that only stand in for reads and
  // appends in a test leave it UNIMPLEMENTED.
  virtual absl::StatusOr<v1::VerifyCaseResponse> VerifyCase(absl::string_view case_id) {
    return absl::UnimplementedError(
        absl::StrCat("this case log port cannot verify case ", case_id));
  }
};

class DirectoryPort {
 public:
  virtual ~DirectoryPort() = default;
  // NODE_NOT_FOUND when the directory has no such node.
  virtual absl::StatusOr<v1::Node> GetNode(absl::string_view name) = 0;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_PORTS_H_
