#include "services/mediation/meeting_projection.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace referral::mediation {
namespace {

using google::protobuf::util::TimeUtil;

// "<prefix><n>" at the end of `id` after its last `marker`: the part before
// and n; false when malformed.
bool SplitNumbered(absl::string_view id, absl::string_view marker,
                   absl::string_view* before, int* n) {
  size_t at = id.rfind(marker);
  if (at == absl::string_view::npos || at == 0) return false;
  if (!absl::SimpleAtoi(id.substr(at + marker.size()), n) || *n <= 0) return false;
  *before = id.substr(0, at);
  return true;
}

}  // namespace

absl::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kNew: return "NEW";
    case Stage::kScheduled: return "SCHEDULED";
    case Stage::kHeld: return "HELD";
    case Stage::kAgreed: return "AGREED";
    case Stage::kFailed: return "FAILED";
    case Stage::kCancelled: return "CANCELLED";
  }
  return "?";
}

std::string CaseOfMeeting(absl::string_view meeting_id) {
  absl::string_view c;
  int n = 0;
  if (!SplitNumbered(meeting_id, "/m", &c, &n)) return "";
  // Exactly "m<n>", no sign or padding, so an id names one meeting only.
  if (meeting_id.substr(c.size() + 2) != absl::StrCat(n)) return "";
  return std::string(c);
}

std::string NextInviteeId(const v1::Meeting& meeting) {
  return absl::StrCat("i", meeting.invitees_size() + 1);
}

const v1::Invitee* FindInvitee(const v1::Meeting& meeting,
                               absl::string_view invitee_id) {
  for (const v1::Invitee& i : meeting.invitees()) {
    if (i.invitee_id() == invitee_id) return &i;
  }
  return nullptr;
}

const v1::Invitee* FindNodeInvitee(const v1::Meeting& meeting,
                                   absl::string_view node) {
  for (const v1::Invitee& i : meeting.invitees()) {
    if (!i.node().empty() && i.node() == node) return &i;
  }
  return nullptr;
}

std::vector<std::string> InvitedNodes(const v1::Meeting& meeting) {
  std::vector<std::string> nodes;
  for (const v1::Invitee& i : meeting.invitees()) {
    if (!i.node().empty()) nodes.push_back(i.node());
  }
  return nodes;
}

std::string InstalmentDeadlineId(absl::string_view meeting_id, int number) {
  return absl::StrCat(meeting_id, "/i", number);
}

std::string ReminderDeadlineId(absl::string_view meeting_id, int reminders) {
  return reminders == 0 ? absl::StrCat(meeting_id, "/remind")
                        : absl::StrCat(meeting_id, "/remind", reminders);
}

bool Overlaps(const v1::MeetingSlot& a, const v1::MeetingSlot& b) {
  return a.start_time() < b.end_time() && b.start_time() < a.end_time();
}

MeetingProjection MeetingProjection::Fold(const std::vector<v1::Event>& events) {
  MeetingProjection p;
  for (const v1::Event& e : events) p.Apply(e);
  return p;
}

const MeetingView* MeetingProjection::Find(absl::string_view meeting_id) const {
  for (const MeetingView& m : meetings_) {
    if (m.meeting.meeting_id() == meeting_id) return &m;
  }
  return nullptr;
}

MeetingView* MeetingProjection::Mutable(absl::string_view meeting_id) {
  return const_cast<MeetingView*>(Find(meeting_id));
}

std::string MeetingProjection::NextMeetingId(absl::string_view case_id) const {
  return absl::StrCat(case_id, "/m", meetings_.size() + 1);
}

void MeetingProjection::Apply(const v1::Event& e) {
  using B = v1::Event::BodyCase;
  if (e.body_case() == B::kMeetingConvened) {
    const v1::MeetingConvened& c = e.meeting_convened();
    MeetingView view;
    v1::Meeting& m = view.meeting;
    m.set_meeting_id(c.meeting_id());
    m.set_case_id(e.subject());
    m.set_kind(c.kind());
    m.set_convener_node(e.source());
    m.set_title(c.title());
    *m.mutable_agenda() = c.agenda();
    *m.mutable_slot() = c.slot();
    m.set_state(v1::MEETING_STATE_SCHEDULED);
    *m.mutable_create_time() = e.recorded_time();
    *m.mutable_update_time() = e.recorded_time();
    view.stage = Stage::kScheduled;
    meetings_.push_back(std::move(view));
    return;
  }

  // The deadline events that say something about a meeting.
  if (e.body_case() == B::kDeadlineSet) {
    const v1::DeadlineSet& d = e.deadline_set();
    if (d.kind() != v1::DEADLINE_KIND_MEETING_REMINDER) return;
    if (MeetingView* view = Mutable(d.subject_id())) {
      view->reminder_id = d.deadline_id();
      ++view->reminders;
    }
    return;
  }
  if (e.body_case() == B::kDeadlineBreached) {
    absl::string_view meeting_id;
    int n = 0;
    if (!SplitNumbered(e.deadline_breached().deadline_id(), "/i", &meeting_id, &n)) {
      return;
    }
    MeetingView* view = Mutable(meeting_id);
    if (view == nullptr || n > view->meeting.agreement().instalments_size()) return;
    v1::Instalment* inst = view->meeting.mutable_agreement()->mutable_instalments(n - 1);
    if (inst->state() == v1::INSTALMENT_STATE_DUE) {
      inst->set_state(v1::INSTALMENT_STATE_MISSED);
      *view->meeting.mutable_update_time() = e.recorded_time();
    }
    return;
  }

  std::string meeting_id;
  switch (e.body_case()) {
    case B::kMeetingParticipantInvited:
      meeting_id = e.meeting_participant_invited().meeting_id();
      break;
    case B::kMeetingInvitationAnswered:
      meeting_id = e.meeting_invitation_answered().meeting_id();
      break;
    case B::kMeetingRescheduled:
      meeting_id = e.meeting_rescheduled().meeting_id();
      break;
    case B::kMeetingCancelled:
      meeting_id = e.meeting_cancelled().meeting_id();
      break;
    case B::kMeetingHeld:
      meeting_id = e.meeting_held().meeting_id();
      break;
    case B::kLiabilityAnalysed:
      meeting_id = e.liability_analysed().meeting_id();
      break;
    case B::kAgreementReached:
      meeting_id = e.agreement_reached().meeting_id();
      break;
    case B::kMediationFailed:
      meeting_id = e.mediation_failed().meeting_id();
      break;
    case B::kInstalmentPaymentRecorded:
      meeting_id = e.instalment_payment_recorded().meeting_id();
      break;
    default:
      // MeetingOverlapWarned is a notice to a node; it changes no meeting.
      return;
  }
  MeetingView* view = Mutable(meeting_id);
  if (view == nullptr) return;  // the service never writes such an event
  v1::Meeting& m = view->meeting;
  *m.mutable_update_time() = e.recorded_time();

  switch (e.body_case()) {
    case B::kMeetingParticipantInvited: {
      v1::Invitee* i = m.add_invitees();
      *i = e.meeting_participant_invited().invitee();
      i->set_response(v1::INVITATION_RESPONSE_PENDING);
      return;
    }
    case B::kMeetingInvitationAnswered: {
      const v1::MeetingInvitationAnswered& a = e.meeting_invitation_answered();
      for (v1::Invitee& i : *m.mutable_invitees()) {
        if (i.invitee_id() != a.invitee_id()) continue;
        i.set_response(a.response());
        i.set_note(a.note());
        if (a.has_proposed_slot()) {
          *i.mutable_proposed_slot() = a.proposed_slot();
        } else {
          i.clear_proposed_slot();
        }
      }
      return;
    }
    case B::kMeetingRescheduled:
      *m.mutable_slot() = e.meeting_rescheduled().slot();
      m.set_reschedules(m.reschedules() + 1);
      // A new time is a new question: everyone answers afresh.
      for (v1::Invitee& i : *m.mutable_invitees()) {
        i.set_response(v1::INVITATION_RESPONSE_PENDING);
        i.clear_note();
        i.clear_proposed_slot();
      }
      return;
    case B::kMeetingCancelled:
      m.set_state(v1::MEETING_STATE_CANCELLED);
      m.set_reason(e.meeting_cancelled().reason());
      view->stage = Stage::kCancelled;
      return;
    case B::kMeetingHeld: {
      m.set_state(v1::MEETING_STATE_HELD);
      m.set_minutes(e.meeting_held().minutes());
      for (v1::Invitee& i : *m.mutable_invitees()) {
        i.set_attended(false);
        for (const std::string& id : e.meeting_held().attended()) {
          if (id == i.invitee_id()) i.set_attended(true);
        }
      }
      view->stage = Stage::kHeld;
      return;
    }
    case B::kLiabilityAnalysed:
      // The latest analysis replaces the earlier one.
      *m.mutable_findings() = e.liability_analysed().findings();
      return;
    case B::kAgreementReached: {
      *m.mutable_agreement() = e.agreement_reached().agreement();
      view->agreement_time = e.time();
      for (v1::Instalment& inst : *m.mutable_agreement()->mutable_instalments()) {
        inst.set_state(v1::INSTALMENT_STATE_DUE);
        inst.set_paid_fen(0);
        inst.clear_paid_time();
      }
      view->stage = Stage::kAgreed;
      return;
    }
    case B::kMediationFailed:
      m.set_reason(e.mediation_failed().reason());
      m.set_next_step(e.mediation_failed().next_step());
      view->stage = Stage::kFailed;
      return;
    case B::kInstalmentPaymentRecorded: {
      const v1::InstalmentPaymentRecorded& p = e.instalment_payment_recorded();
      const int n = p.instalment();
      if (n < 1 || n > m.agreement().instalments_size()) return;
      v1::Instalment* inst = m.mutable_agreement()->mutable_instalments(n - 1);
      inst->set_paid_fen(inst->paid_fen() + p.amount_fen());
      const bool settled = inst->state() == v1::INSTALMENT_STATE_PAID ||
                           inst->state() == v1::INSTALMENT_STATE_PAID_LATE;
      if (!settled && inst->paid_fen() >= inst->amount_fen()) {
        *inst->mutable_paid_time() = p.paid_time();
        // Paid in full by the due time counts as paid, whenever it was
        // recorded; after it, late (also after the breach made it MISSED).
        inst->set_state(p.paid_time() <= inst->due_time()
                            ? v1::INSTALMENT_STATE_PAID
                            : v1::INSTALMENT_STATE_PAID_LATE);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace referral::mediation
