// RosterProjection folds a justice node's roster stream,
// "roster:<justice_node>", into its lawyers: LawyerEnrolled adds or updates
// an entry (its evaluation and open assignments stay), LawyerEvaluated sets
// the latest evaluation (recorded_by = the event's source) and whether it
// bars new assignments, and
// LawyerCaseTaken / LawyerCaseReleased count open assignments against the
// capacity. It is the only place that turns roster events into a lawyer's
// state.
//
// The roster stream is also where an assignment is decided: a take is
// appended with the roster's version as the expected version, so two
// assignments never both get a lawyer's last slot, and an application has
// at most one open take (its holder).
//
// Thread safety: none; one projection per call.

#ifndef REFERRAL_SERVICES_LEGALAID_ROSTER_PROJECTION_H_
#define REFERRAL_SERVICES_LEGALAID_ROSTER_PROJECTION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/legalaid.pb.h"

namespace referral::legalaid {

class RosterProjection {
 public:
  void Apply(const v1::Event& event);
  static RosterProjection Fold(const std::vector<v1::Event>& events);

  // nullptr when the lawyer is not on the roster.
  const v1::Lawyer* Find(absl::string_view lawyer_id) const;
  // By lawyer id.
  const std::map<std::string, v1::Lawyer, std::less<>>& lawyers() const {
    return lawyers_;
  }
  // The lawyer holding an open take for the application; "" for none.
  std::string HolderOf(absl::string_view application_id) const;
  // The stream's last sequence; 0 for a roster never written.
  uint64_t version() const { return version_; }

 private:
  std::map<std::string, v1::Lawyer, std::less<>> lawyers_;
  std::map<std::string, std::string, std::less<>> holders_;  // application -> lawyer
  uint64_t version_ = 0;
};

// "roster:<justice_node>".
std::string RosterStream(absl::string_view justice_node);

}  // namespace referral::legalaid

#endif  // REFERRAL_SERVICES_LEGALAID_ROSTER_PROJECTION_H_
