// ApplicationProjection folds a case's events, in order, into its legal-aid
// applications ("<case_id>/a<n>", numbered in the order applied): the
// LegalAid* events move them, and the DeadlineSet events of their review and
// assignment deadlines give their due times. It is the only place that turns
// legal-aid events into an application's state.
//
// Thread safety: none; one projection per call.

#ifndef REFERRAL_SERVICES_LEGALAID_APPLICATION_PROJECTION_H_
#define REFERRAL_SERVICES_LEGALAID_APPLICATION_PROJECTION_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/legalaid.pb.h"

namespace referral::legalaid {

class ApplicationProjection {
 public:
  // Applies the next event of the case; other kinds are ignored.
  void Apply(const v1::Event& event);
  static ApplicationProjection Fold(const std::vector<v1::Event>& events);

  // nullptr when the case has no such application.
  const v1::LegalAidApplication* Find(absl::string_view application_id) const;
  // In the order applied.
  const std::vector<v1::LegalAidApplication>& all() const { return applications_; }

  // The id the case's next application gets: "<case_id>/a<n>".
  std::string NextId(absl::string_view case_id) const;

 private:
  v1::LegalAidApplication* Mutable(absl::string_view application_id);

  std::vector<v1::LegalAidApplication> applications_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// The case an application id belongs to ("c/a2" -> "c"); empty when the id
// does not look like "<case>/a<n>".
std::string CaseOfApplication(absl::string_view application_id);

// The deadline ids of an application: "<id>/review" and "<id>/assign".
std::string ReviewDeadlineId(absl::string_view application_id);
std::string AssignDeadlineId(absl::string_view application_id);

}  // namespace referral::legalaid

#endif  // REFERRAL_SERVICES_LEGALAID_APPLICATION_PROJECTION_H_
