// Test doubles around a real case log port: ForwardingLog passes every call
// to the port it wraps, so a test derives from it and overrides only the one
// call it observes or breaks (a lost answer, a crash before a write, a race
// between two calls). NoAuditLog is the one such fault several suites share.
// For tests only.

#ifndef REFERRAL_SERVICES_REFERRAL_FORWARDING_LOG_H_
#define REFERRAL_SERVICES_REFERRAL_FORWARDING_LOG_H_

#include <vector>

#include "absl/strings/match.h"
#include "services/referral/ports.h"

namespace referral::broker {

class ForwardingLog : public CaseLogPort {
 public:
  // `inner` is not owned and must outlive this port.
  explicit ForwardingLog(CaseLogPort* inner) : inner_(inner) {}

  absl::StatusOr<std::vector<v1::Event>> ReadCase(absl::string_view id) override {
    return inner_->ReadCase(id);
  }
  absl::StatusOr<CaseTail> ReadCaseFrom(absl::string_view id,
                                        uint64_t after_sequence) override {
    return inner_->ReadCaseFrom(id, after_sequence);
  }
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& r) override {
    return inner_->Append(r);
  }
  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& r) override {
    return inner_->ReadAll(r);
  }
  absl::StatusOr<uint64_t> GetCheckpoint(absl::string_view name) override {
    return inner_->GetCheckpoint(name);
  }
  absl::Status SetCheckpoint(absl::string_view name, uint64_t position) override {
    return inner_->SetCheckpoint(name, position);
  }
  absl::StatusOr<v1::VerifyCaseResponse> VerifyCase(absl::string_view id) override {
    return inner_->VerifyCase(id);
  }

 protected:
  CaseLogPort* inner() const { return inner_; }

 private:
  CaseLogPort* inner_;
};

// The case log with its audit streams ("audit:<case>", "audit-search:<id>")
// unwritable: every other call goes through.
class NoAuditLog final : public ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& r) override {
    if (absl::StartsWith(r.case_id(), "audit")) {
      return absl::UnavailableError("case log unavailable");
    }
    return ForwardingLog::Append(r);
  }
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_FORWARDING_LOG_H_
