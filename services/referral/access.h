// AccessList: the identities with powers beyond their own cases, read from
// the broker's access configuration (config/access.toml, `--access`):
//
//   # Investigators may trace any case (procuratorate, supervision
//   # commission); every trace is recorded in the case's audit stream.
//   investigators = ["qinzhou.procuratorate", "qinzhou.supervision"]
//   # Auditors read that record: the investigators of investigators.
//   auditors = ["qinzhou.discipline"]
//
// Names are identities (certificate common names, tools/pki.sh makes them),
// not necessarily directory nodes: an investigating body need not take
// referrals. No identity may be both an investigator and an auditor: nobody
// audits its own traces. What each power allows is in the policy table
// (policy.h); what an investigator sees, in the privacy table (privacy.h).
//
// Thread safety: immutable after construction; safe to share.

#ifndef REFERRAL_SERVICES_REFERRAL_ACCESS_H_
#define REFERRAL_SERVICES_REFERRAL_ACCESS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace referral::broker {

class AccessList {
 public:
  // Nobody is an investigator or an auditor.
  AccessList() = default;

  // INVALID_ARGUMENT (CONFIG_INVALID) "<source>:<line>:<col>: what" for a
  // file that is not TOML, an unknown key, a name that is not a node name,
  // or an identity named as both.
  static absl::StatusOr<AccessList> FromToml(absl::string_view text,
                                             absl::string_view source);
  static absl::StatusOr<AccessList> FromFile(const std::string& path);
  // For tests: the same checks as FromToml.
  static absl::StatusOr<AccessList> Of(std::vector<std::string> investigators,
                                       std::vector<std::string> auditors);

  bool IsInvestigator(absl::string_view identity) const {
    return investigators_.find(identity) != investigators_.end();
  }
  bool IsAuditor(absl::string_view identity) const {
    return auditors_.find(identity) != auditors_.end();
  }
  const std::set<std::string, std::less<>>& investigators() const {
    return investigators_;
  }
  const std::set<std::string, std::less<>>& auditors() const { return auditors_; }

 private:
  std::set<std::string, std::less<>> investigators_;
  std::set<std::string, std::less<>> auditors_;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_ACCESS_H_
