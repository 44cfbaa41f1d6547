// The broker's ports over in-process cores: the caselog core over a real
// event store, and a loaded Directory. For tests and single-process tools;
// the service uses grpc_ports.h.

#ifndef REFERRAL_SERVICES_REFERRAL_LOCAL_PORTS_H_
#define REFERRAL_SERVICES_REFERRAL_LOCAL_PORTS_H_

#include <algorithm>

#include "services/caselog/caselog_service.h"
#include "services/directory/directory.h"
#include "services/referral/ports.h"

namespace referral::broker {

// Reads a case after `after_sequence` from any CaseLog-shaped source, page
// by page from ReadCaseRequest.from_sequence.
template <typename ReadPage>
absl::StatusOr<CaseTail> ReadCaseTail(absl::string_view case_id, uint64_t after_sequence,
                                      const ReadPage& read_page) {
  CaseTail tail;
  v1::ReadCaseRequest req;
  req.set_case_id(std::string(case_id));
  req.set_from_sequence(after_sequence + 1);
  req.set_page_size(1000);
  for (;;) {
    absl::StatusOr<v1::ReadCaseResponse> page = read_page(req);
    if (!page.ok()) return page.status();
    tail.case_version = std::max(tail.case_version, page->case_version());
    for (auto& e : *page->mutable_events()) tail.events.push_back(std::move(e));
    if (page->next_sequence() == 0) break;
    req.set_from_sequence(page->next_sequence());
  }
  // Pages read while others append may end past the first page's version.
  if (!tail.events.empty()) {
    tail.case_version = std::max(tail.case_version, tail.events.back().sequence());
  }
  return tail;
}

// Reads a whole case from any CaseLog-shaped source, page by page.
template <typename ReadPage>
absl::StatusOr<std::vector<v1::Event>> ReadWholeCase(absl::string_view case_id,
                                                     const ReadPage& read_page) {
  absl::StatusOr<CaseTail> all = ReadCaseTail(case_id, 0, read_page);
  if (!all.ok()) return all.status();
  return std::move(all->events);
}

// The port over anything that answers CaseLogService requests with
// absl::StatusOr: the caselog core in process (caselog::CaseLog) or the
// caselog service over gRPC (client::CaseLogClient) — same calls, one adapter.
template <typename Source>
class CaseLogPortOver final : public CaseLogPort {
 public:
  explicit CaseLogPortOver(Source* source) : source_(source) {}
  absl::StatusOr<std::vector<v1::Event>> ReadCase(absl::string_view case_id) override {
    return ReadWholeCase(case_id, [this](const v1::ReadCaseRequest& r) {
      return source_->ReadCase(r);
    });
  }
  absl::StatusOr<CaseTail> ReadCaseFrom(absl::string_view case_id,
                                        uint64_t after_sequence) override {
    return ReadCaseTail(case_id, after_sequence, [this](const v1::ReadCaseRequest& r) {
      return source_->ReadCase(r);
    });
  }
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& r) override {
    return source_->Append(r);
  }
  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& r) override {
    return source_->ReadAll(r);
  }
  absl::StatusOr<uint64_t> GetCheckpoint(absl::string_view name) override {
    v1::GetCheckpointRequest r;
    r.set_name(std::string(name));
    auto cp = source_->GetCheckpoint(r);
    if (cp.status().code() == absl::StatusCode::kNotFound) return 0;
    if (!cp.ok()) return cp.status();
    return cp->checkpoint().position();
  }
  absl::Status SetCheckpoint(absl::string_view name, uint64_t position) override {
    v1::SetCheckpointRequest r;
    r.set_name(std::string(name));
    r.set_position(position);
    return source_->SetCheckpoint(r).status();
  }
  absl::StatusOr<v1::VerifyCaseResponse> VerifyCase(absl::string_view case_id) override {
    v1::VerifyCaseRequest r;
    r.set_case_id(std::string(case_id));
    return source_->VerifyCase(r);
  }

 private:
  Source* source_;
};

using LocalCaseLog = CaseLogPortOver<caselog::CaseLog>;

class LocalDirectory final : public DirectoryPort {
 public:
  explicit LocalDirectory(const directory::Directory* d) : d_(d) {}
  absl::StatusOr<v1::Node> GetNode(absl::string_view name) override {
    v1::GetNodeRequest r;
    r.set_name(std::string(name));
    auto n = d_->GetNode(r);
    if (!n.ok()) return n.status();
    return n->node();
  }

 private:
  const directory::Directory* d_;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_LOCAL_PORTS_H_
