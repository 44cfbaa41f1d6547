#include "services/legalaid/roster_projection.h"

#include "absl/strings/str_cat.h"

namespace referral::legalaid {

std::string RosterStream(absl::string_view justice_node) {
  return absl::StrCat("roster:", justice_node);
}

RosterProjection RosterProjection::Fold(const std::vector<v1::Event>& events) {
  RosterProjection p;
  for (const v1::Event& e : events) p.Apply(e);
  return p;
}

const v1::Lawyer* RosterProjection::Find(absl::string_view lawyer_id) const {
  auto it = lawyers_.find(lawyer_id);
  return it == lawyers_.end() ? nullptr : &it->second;
}

std::string RosterProjection::HolderOf(absl::string_view application_id) const {
  auto it = holders_.find(application_id);
  return it == holders_.end() ? "" : it->second;
}

void RosterProjection::Apply(const v1::Event& e) {
  version_ = e.sequence();
  using B = v1::Event::BodyCase;
  switch (e.body_case()) {
    case B::kLawyerEnrolled: {
      const v1::Lawyer& in = e.lawyer_enrolled().lawyer();
      v1::Lawyer& l = lawyers_[in.lawyer_id()];
      // The entry's own facts come from the enrolment; what the roster
      // learned since (evaluations, open assignments) stays.
      l.set_lawyer_id(in.lawyer_id());
      l.set_name(in.name());
      l.set_firm(in.firm());
      l.set_justice_node(in.justice_node());
      *l.mutable_specialties() = in.specialties();
      l.set_capacity(in.capacity());
      return;
    }
    case B::kLawyerEvaluated: {
      auto it = lawyers_.find(e.lawyer_evaluated().lawyer_id());
      if (it == lawyers_.end()) return;
      v1::LawyerEvaluation* latest = it->second.mutable_latest_evaluation();
      *latest = e.lawyer_evaluated().evaluation();
      // Who recorded it is the event's, whatever the evaluation says.
      latest->set_recorded_by(e.source());
      it->second.set_barred(!e.lawyer_evaluated().evaluation().passed());
      return;
    }
    case B::kLawyerCaseTaken: {
      const v1::LawyerCaseTaken& t = e.lawyer_case_taken();
      auto it = lawyers_.find(t.lawyer_id());
      if (it == lawyers_.end() || holders_.contains(t.application_id())) return;
      holders_[t.application_id()] = t.lawyer_id();
      it->second.set_active_cases(it->second.active_cases() + 1);
      return;
    }
    case B::kLawyerCaseReleased: {
      const v1::LawyerCaseReleased& r = e.lawyer_case_released();
      auto h = holders_.find(r.application_id());
      if (h == holders_.end() || h->second != r.lawyer_id()) return;
      holders_.erase(h);
      auto it = lawyers_.find(r.lawyer_id());
      if (it != lawyers_.end() && it->second.active_cases() > 0) {
        it->second.set_active_cases(it->second.active_cases() - 1);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace referral::legalaid
