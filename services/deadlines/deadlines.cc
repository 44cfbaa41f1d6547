#include "services/deadlines/deadlines.h"

#include <array>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/timestamps.h"
#include "google/protobuf/util/time_util.h"

namespace referral::deadlines {
namespace {

using K = v1::DeadlineKind;
using google::protobuf::util::TimeUtil;

// The one table of deadline kinds. Durations are working days on the
// calendar; the green channel's "same day" (当天) is 0.
constexpr std::array<KindRule, 7> kKinds = {{
    {K::DEADLINE_KIND_UNSPECIFIED, "unspecified", "deadline", "时限", 0, 0,
     false},
    // Routine referrals get 3 working days; see AcceptanceWorkingDays.
    {K::DEADLINE_KIND_REFERRAL_ACCEPTANCE, "referral-acceptance",
     "accept the referral", "受理转介", 3, 0.75, true},
    {K::DEADLINE_KIND_REFERRAL_RESUBMISSION, "referral-resubmission",
     "resubmit the returned referral", "补正后重新提交", 5, 0.75, true},
    {K::DEADLINE_KIND_LEGAL_AID_REVIEW, "legal-aid-review",
     "review the legal-aid application", "法律援助审查", 0, 0.75, true},
    {K::DEADLINE_KIND_LEGAL_AID_ASSIGNMENT, "legal-aid-assignment",
     "assign a legal-aid lawyer", "指派法律援助律师", 0, 0.75, true},
    {K::DEADLINE_KIND_MEETING_REMINDER, "meeting-reminder", "meeting reminder",
     "会议提醒", -1, 0, false},
    {K::DEADLINE_KIND_INSTALMENT_PAYMENT, "instalment-payment",
     "pay the instalment", "按期履行分期款", -1, 0.9, true},
}};

google::protobuf::Timestamp Ts(absl::Time t) { return ProtoTime(t); }

}  // namespace

absl::Span<const KindRule> Kinds() { return kKinds; }

const KindRule& RuleFor(v1::DeadlineKind kind) {
  for (const KindRule& r : kKinds) {
    if (r.kind == kind) return r;
  }
  return kKinds[0];
}

int AcceptanceWorkingDays(v1::Priority priority) {
  switch (priority) {
    case v1::PRIORITY_GREEN_CHANNEL: return 0;
    case v1::PRIORITY_URGENT: return 1;
    default: return RuleFor(K::DEADLINE_KIND_REFERRAL_ACCEPTANCE).working_days;
  }
}

v1::Event SetDeadline(const DeadlineSpec& spec, absl::Time now,
                      const Calendar& calendar) {
  const KindRule& rule = RuleFor(spec.kind);
  v1::Event e;
  v1::DeadlineSet* d = e.mutable_deadline_set();
  d->set_deadline_id(spec.deadline_id);
  d->set_kind(spec.kind);
  d->set_subject_id(spec.subject_id);
  d->set_responsible_node(spec.responsible_node);
  absl::Time due = now;
  if (spec.due_time) {
    due = *spec.due_time;
  } else {
    const int days = spec.working_days.value_or(rule.working_days);
    due = calendar.DueAfter(now, days < 0 ? 0 : days);
    d->set_calendar(calendar.name());
  }
  *d->mutable_due_time() = Ts(due);
  if (rule.warn_at > 0 && due > now) {
    *d->mutable_warn_time() = Ts(Calendar::Between(now, due, rule.warn_at));
  }
  d->set_escalate_to(spec.escalate_to);
  d->set_description(spec.description.empty() ? std::string(rule.zh)
                                              : spec.description);
  for (const auto& n : spec.notify_nodes) d->add_notify_nodes(n);

  std::set<std::string> involved(spec.notify_nodes.begin(), spec.notify_nodes.end());
  involved.insert(spec.responsible_node);
  if (!spec.escalate_to.empty()) involved.insert(spec.escalate_to);
  involved.erase("");
  for (const auto& n : involved) e.add_involved_nodes(n);
  return e;
}

v1::Event ClearDeadline(absl::string_view deadline_id, absl::string_view reason,
                        absl::string_view responsible_node) {
  v1::Event e;
  v1::DeadlineCleared* c = e.mutable_deadline_cleared();
  c->set_deadline_id(std::string(deadline_id));
  c->set_reason(std::string(reason));
  if (!responsible_node.empty()) e.add_involved_nodes(std::string(responsible_node));
  return e;
}

void DeadlineFold::Apply(const v1::Event& e) {
  using B = v1::Event::BodyCase;
  auto find = [&](const std::string& id) -> v1::Deadline* {
    auto it = deadlines_.find(id);
    return it == deadlines_.end() ? nullptr : &it->second;
  };
  switch (e.body_case()) {
    case B::kDeadlineSet: {
      v1::Deadline& d = deadlines_[e.deadline_set().deadline_id()];
      d.Clear();
      *d.mutable_set() = e.deadline_set();
      d.set_case_id(e.subject());
      d.set_state(v1::DEADLINE_STATE_PENDING);
      *d.mutable_set_time() = e.recorded_time();
      return;
    }
    case B::kDeadlineCleared: {
      v1::Deadline* d = find(e.deadline_cleared().deadline_id());
      if (d == nullptr) return;
      if (d->state() == v1::DEADLINE_STATE_BREACHED) {
        d->set_state(v1::DEADLINE_STATE_MET_LATE);
      } else if (d->state() == v1::DEADLINE_STATE_PENDING ||
                 d->state() == v1::DEADLINE_STATE_WARNED) {
        d->set_state(v1::DEADLINE_STATE_MET);
      }
      *d->mutable_clear_time() = e.recorded_time();
      return;
    }
    case B::kDeadlineWarned: {
      v1::Deadline* d = find(e.deadline_warned().deadline_id());
      if (d == nullptr) return;
      if (d->state() == v1::DEADLINE_STATE_PENDING) d->set_state(v1::DEADLINE_STATE_WARNED);
      *d->mutable_warn_time() = e.recorded_time();
      return;
    }
    case B::kDeadlineBreached: {
      v1::Deadline* d = find(e.deadline_breached().deadline_id());
      if (d == nullptr) return;
      if (d->state() == v1::DEADLINE_STATE_PENDING ||
          d->state() == v1::DEADLINE_STATE_WARNED) {
        d->set_state(v1::DEADLINE_STATE_BREACHED);
      }
      *d->mutable_breach_time() = e.recorded_time();
      return;
    }
    case B::kReminderSent: {
      v1::Deadline* d = find(e.reminder_sent().deadline_id());
      if (d == nullptr) return;
      if (d->state() == v1::DEADLINE_STATE_PENDING ||
          d->state() == v1::DEADLINE_STATE_WARNED) {
        d->set_state(v1::DEADLINE_STATE_REMINDED);
      }
      *d->mutable_breach_time() = e.recorded_time();
      return;
    }
    case B::kEscalationRaised: {
      v1::Deadline* d = find(e.escalation_raised().deadline_id());
      if (d != nullptr) d->set_escalated_to(e.escalation_raised().to_node());
      return;
    }
    default:
      return;
  }
}

DeadlineFold DeadlineFold::Of(const std::vector<v1::Event>& events) {
  DeadlineFold f;
  for (const auto& e : events) f.Apply(e);
  return f;
}

const v1::Deadline* DeadlineFold::Find(absl::string_view deadline_id) const {
  auto it = deadlines_.find(deadline_id);
  return it == deadlines_.end() ? nullptr : &it->second;
}

bool DeadlineFold::IsOpen(absl::string_view deadline_id) const {
  const v1::Deadline* d = Find(deadline_id);
  return d != nullptr && (d->state() == v1::DEADLINE_STATE_PENDING ||
                          d->state() == v1::DEADLINE_STATE_WARNED ||
                          d->state() == v1::DEADLINE_STATE_BREACHED);
}

std::string StageEventId(absl::string_view case_id, absl::string_view deadline_id,
                         absl::string_view stage) {
  return absl::StrCat(
      "dl.",
      HexOf(Sha256(absl::StrCat(case_id, std::string(1, '\0'), deadline_id)))
          .substr(0, 32),
      ".", stage);
}

}  // namespace referral::deadlines
