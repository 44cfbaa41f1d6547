#include "services/referral/case_projection.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/referral/state_machine.h"

namespace referral::broker {

std::string CaseOfReferral(absl::string_view referral_id) {
  size_t slash = referral_id.rfind("/r");
  if (slash == absl::string_view::npos || slash == 0) return "";
  uint64_t n = 0;
  if (!absl::SimpleAtoi(referral_id.substr(slash + 2), &n) || n == 0) return "";
  return std::string(referral_id.substr(0, slash));
}

std::string ReferralIdOf(const v1::Event& e) {
  // Every referral body carries its referral id as field 1.
  using B = v1::Event::BodyCase;
  switch (e.body_case()) {
    case B::kReferralRequested: return e.referral_requested().referral_id();
    case B::kReferralReceived: return e.referral_received().referral_id();
    case B::kReferralAccepted: return e.referral_accepted().referral_id();
    case B::kReferralRejected: return e.referral_rejected().referral_id();
    case B::kReferralReturned: return e.referral_returned().referral_id();
    case B::kReferralResubmitted: return e.referral_resubmitted().referral_id();
    case B::kReferralRedirected: return e.referral_redirected().referral_id();
    case B::kReferralStarted: return e.referral_started().referral_id();
    case B::kReferralPutOnHold: return e.referral_put_on_hold().referral_id();
    case B::kReferralResumed: return e.referral_resumed().referral_id();
    case B::kReferralCompleted: return e.referral_completed().referral_id();
    case B::kReferralFailed: return e.referral_failed().referral_id();
    case B::kReferralCancelled: return e.referral_cancelled().referral_id();
    default: return "";
  }
}

CaseProjection CaseProjection::Fold(const std::vector<v1::Event>& events,
                                    size_t count) {
  CaseProjection p;
  for (size_t i = 0; i < count && i < events.size(); ++i) p.Apply(events[i]);
  return p;
}

const v1::Referral* CaseProjection::FindReferral(absl::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &case_.referrals(it->second);
}

v1::Referral* CaseProjection::Mutable(absl::string_view id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : case_.mutable_referrals(it->second);
}

bool CaseProjection::IsParty(absl::string_view node) const {
  return parties_.find(node) != parties_.end();
}

std::string CaseProjection::NextReferralId() const {
  return absl::StrCat(case_.case_id(), "/r", case_.referrals_size() + 1);
}

void CaseProjection::Apply(const v1::Event& e) {
  case_.set_version(e.sequence());
  *case_.mutable_update_time() = e.recorded_time();
  // Whoever a command involved (an invited node, the node a deadline
  // escalated to) works on the case from then on.
  if (opened()) {
    for (const auto& n : e.involved_nodes()) parties_.insert(n);
  }
  using B = v1::Event::BodyCase;
  if (e.body_case() == B::kCaseOpened) {
    case_.set_case_id(e.subject());
    *case_.mutable_opened() = e.case_opened();
    *case_.mutable_create_time() = e.recorded_time();
    parties_.insert(e.case_opened().owning_node());
    return;
  }
  const Transition* step = TransitionForBody(e.body_case());
  if (step == nullptr) return;
  const std::string id = ReferralIdOf(e);

  if (step->action == Action::kSend) {
    const auto& body = e.referral_requested();
    v1::Referral r;
    r.set_referral_id(id);
    r.set_case_id(e.subject());
    // A redirect's child stays the original sender's request.
    const v1::Referral* parent = body.parent_referral_id().empty()
                                     ? nullptr
                                     : FindReferral(body.parent_referral_id());
    r.set_from_node(parent != nullptr ? parent->from_node() : e.source());
    r.set_to_node(body.to_node());
    r.set_state(v1::REFERRAL_STATE_REQUESTED);
    r.set_purpose(body.purpose());
    r.set_matter(body.matter());
    r.set_priority(body.priority());
    if (body.has_due_time()) *r.mutable_due_time() = body.due_time();
    *r.mutable_attachments() = body.attachments();
    r.set_parent_referral_id(body.parent_referral_id());
    r.set_case_version(e.sequence());
    *r.mutable_create_time() = e.recorded_time();
    *r.mutable_update_time() = e.recorded_time();
    parties_.insert(r.from_node());
    parties_.insert(r.to_node());
    parties_.insert(e.source());
    index_[id] = case_.referrals_size();
    *case_.add_referrals() = std::move(r);
    return;
  }

  v1::Referral* r = Mutable(id);
  if (r == nullptr) return;  // the broker never writes such an event
  const v1::ReferralState before = r->state();
  v1::ReferralState after = step->to;
  switch (step->action) {
    case Action::kReject:
      r->set_reason_code(e.referral_rejected().reason_code());
      r->set_note(e.referral_rejected().note());
      break;
    case Action::kReturn:
      *r->mutable_missing_items() = e.referral_returned().missing_items();
      r->set_note(e.referral_returned().note());
      break;
    case Action::kResubmit:
      for (const auto& a : e.referral_resubmitted().attachments())
        *r->add_attachments() = a;
      r->clear_missing_items();
      r->set_note(e.referral_resubmitted().note());
      break;
    case Action::kRedirect:
      r->set_child_referral_id(e.referral_redirected().child_referral_id());
      r->set_note(e.referral_redirected().reason());
      break;
    case Action::kHold:
      r->set_held_from(before);
      r->set_note(e.referral_put_on_hold().reason());
      break;
    case Action::kResume:
      after = r->held_from();
      r->clear_held_from();
      break;
    case Action::kComplete:
      r->set_outcome(e.referral_completed().outcome());
      r->set_amount_recovered_fen(e.referral_completed().amount_recovered_fen());
      r->set_note(e.referral_completed().note());
      break;
    case Action::kFail:
      r->set_reason_code(e.referral_failed().reason_code());
      r->set_note(e.referral_failed().note());
      break;
    case Action::kCancel:
      r->set_note(e.referral_cancelled().reason());
      break;
    case Action::kAccept:
      r->set_note(e.referral_accepted().note());
      break;
    default:
      break;
  }
  r->set_state(after);
  r->set_case_version(e.sequence());
  *r->mutable_update_time() = e.recorded_time();
}

}  // namespace referral::broker
