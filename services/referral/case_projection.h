// CaseProjection folds a case's events, in order, into the case's current
// state: the Case message with its referrals, the set of nodes party to it,
// and its version. It is the only place that turns events into state; the
// broker decides on it and the readers show it.
//
// Thread safety: none; one projection per call.

#ifndef REFERRAL_SERVICES_REFERRAL_CASE_PROJECTION_H_
#define REFERRAL_SERVICES_REFERRAL_CASE_PROJECTION_H_

#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/referral.pb.h"

namespace referral::broker {

class CaseProjection {
 public:
  // Applies the next event of the case. Events of kinds it does not model
  // only advance the version.
  void Apply(const v1::Event& event);

  // Folds `events[0..count)`.
  static CaseProjection Fold(const std::vector<v1::Event>& events,
                             size_t count);
  static CaseProjection Fold(const std::vector<v1::Event>& events) {
    return Fold(events, events.size());
  }

  const v1::Case& state() const { return case_; }
  uint64_t version() const { return case_.version(); }
  bool opened() const { return case_.has_opened(); }

  const v1::Referral* FindReferral(absl::string_view referral_id) const;

  // The owner, every node a referral of the case was sent from or to, and
  // every node another command involved (an invited node, an escalation's
  // supervisor).
  bool IsParty(absl::string_view node) const;
  const std::set<std::string, std::less<>>& parties() const { return parties_; }

  // The id the next referral of this case gets: "<case_id>/r<n>".
  std::string NextReferralId() const;

 private:
  v1::Referral* Mutable(absl::string_view referral_id);

  v1::Case case_;
  absl::flat_hash_map<std::string, int> index_;
  std::set<std::string, std::less<>> parties_;
};

// The case a referral id belongs to ("c/r2" -> "c"); empty when malformed.
std::string CaseOfReferral(absl::string_view referral_id);

// The referral an event is about, or "" for events that are not referral
// steps.
std::string ReferralIdOf(const v1::Event& event);

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_CASE_PROJECTION_H_
