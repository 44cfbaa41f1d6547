#include "services/legalaid/application_projection.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace referral::legalaid {
namespace {

// When the fact happened: the writer's time, else when it was recorded.
const google::protobuf::Timestamp& TimeOfEvent(const v1::Event& e) {
  return e.has_time() ? e.time() : e.recorded_time();
}

}  // namespace

std::string CaseOfApplication(absl::string_view application_id) {
  const size_t slash = application_id.rfind("/a");
  if (slash == absl::string_view::npos || slash == 0) return "";
  const absl::string_view digits = application_id.substr(slash + 2);
  uint64_t n = 0;
  if (digits.empty() || digits[0] == '0' || !absl::SimpleAtoi(digits, &n)) return "";
  for (char c : digits) {
    if (c < '0' || c > '9') return "";
  }
  return std::string(application_id.substr(0, slash));
}

std::string ReviewDeadlineId(absl::string_view application_id) {
  return absl::StrCat(application_id, "/review");
}

std::string AssignDeadlineId(absl::string_view application_id) {
  return absl::StrCat(application_id, "/assign");
}

ApplicationProjection ApplicationProjection::Fold(const std::vector<v1::Event>& events) {
  ApplicationProjection p;
  for (const v1::Event& e : events) p.Apply(e);
  return p;
}

const v1::LegalAidApplication* ApplicationProjection::Find(absl::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &applications_[it->second];
}

v1::LegalAidApplication* ApplicationProjection::Mutable(absl::string_view id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &applications_[it->second];
}

std::string ApplicationProjection::NextId(absl::string_view case_id) const {
  return absl::StrCat(case_id, "/a", applications_.size() + 1);
}

void ApplicationProjection::Apply(const v1::Event& e) {
  using B = v1::Event::BodyCase;
  switch (e.body_case()) {
    case B::kLegalAidApplied: {
      v1::LegalAidApplication a = e.legal_aid_applied().application();
      if (index_.contains(a.application_id())) return;
      a.set_state(v1::LEGAL_AID_STATE_APPLIED);
      if (!a.has_apply_time()) *a.mutable_apply_time() = TimeOfEvent(e);
      index_[a.application_id()] = applications_.size();
      applications_.push_back(std::move(a));
      return;
    }
    case B::kLegalAidReviewed: {
      const v1::LegalAidReviewed& r = e.legal_aid_reviewed();
      v1::LegalAidApplication* a = Mutable(r.application_id());
      if (a == nullptr) return;
      a->set_state(r.approved() ? v1::LEGAL_AID_STATE_APPROVED
                                : v1::LEGAL_AID_STATE_DENIED);
      a->set_hardship_review_waived(r.hardship_review_waived());
      a->set_waiver_basis(r.waiver_basis());
      a->set_reason(r.reason());
      *a->mutable_review_time() = TimeOfEvent(e);
      return;
    }
    case B::kLegalAidLawyerAssigned: {
      const v1::LegalAidLawyerAssigned& l = e.legal_aid_lawyer_assigned();
      v1::LegalAidApplication* a = Mutable(l.application_id());
      if (a == nullptr) return;
      a->set_state(v1::LEGAL_AID_STATE_ASSIGNED);
      a->set_lawyer_id(l.lawyer_id());
      a->set_lawyer_name(l.lawyer_name());
      *a->mutable_assign_time() = TimeOfEvent(e);
      return;
    }
    case B::kLegalAidMajorCaseFlagged: {
      const v1::LegalAidMajorCaseFlagged& f = e.legal_aid_major_case_flagged();
      v1::LegalAidApplication* a = Mutable(f.application_id());
      if (a == nullptr) return;
      a->set_major_difficult(true);
      a->set_major_reason(f.reason());
      return;
    }
    case B::kLegalAidClosed: {
      v1::LegalAidApplication* a = Mutable(e.legal_aid_closed().application_id());
      if (a == nullptr) return;
      a->set_state(v1::LEGAL_AID_STATE_CLOSED);
      a->set_reason(e.legal_aid_closed().reason());
      return;
    }
    case B::kDeadlineSet: {
      const v1::DeadlineSet& d = e.deadline_set();
      v1::LegalAidApplication* a = Mutable(d.subject_id());
      if (a == nullptr) return;
      if (d.kind() == v1::DEADLINE_KIND_LEGAL_AID_REVIEW) {
        *a->mutable_review_due_time() = d.due_time();
      } else if (d.kind() == v1::DEADLINE_KIND_LEGAL_AID_ASSIGNMENT) {
        *a->mutable_assign_due_time() = d.due_time();
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace referral::legalaid
