#include "clients/refctl/describe.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/refctl/units.h"
#include "google/protobuf/util/time_util.h"

namespace referral::refctl {
namespace {

std::string Zh(absl::string_view s) { return std::string(s); }

template <typename Enum>
std::string ZhOf(absl::Span<const Term<Enum>> table, Enum value) {
  const Term<Enum>* t = FindTerm(table, value);
  return t ? Zh(t->zh) : std::string();
}

std::string Due(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(ts), Shanghai());
}

// Joins the non-empty parts with " · ".
std::string Parts(std::initializer_list<std::string> parts) {
  std::vector<std::string> kept;
  for (const auto& p : parts) {
    if (!p.empty()) kept.push_back(p);
  }
  return absl::StrJoin(kept, " · ");
}

std::string Attachments(
    const google::protobuf::RepeatedPtrField<v1::Attachment>& list) {
  if (list.empty()) return "";
  std::vector<std::string> names;
  for (const auto& a : list) names.push_back(a.name());
  return absl::StrCat("附件 ", absl::StrJoin(names, "、"));
}

}  // namespace

absl::Time TimeOf(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixMicros(
      google::protobuf::util::TimeUtil::TimestampToMicroseconds(ts));
}

absl::Time EventTime(const v1::Event& e) {
  if (e.has_time() && (e.time().seconds() != 0 || e.time().nanos() != 0)) {
    return TimeOf(e.time());
  }
  return TimeOf(e.recorded_time());
}

std::string ShortReferralId(absl::string_view referral_id) {
  size_t slash = referral_id.rfind('/');
  return std::string(slash == absl::string_view::npos
                         ? referral_id
                         : referral_id.substr(slash + 1));
}

std::string EventZh(const v1::Event& e) {
  const Term<v1::Event::BodyCase>* t = FindTerm(EventKinds(), e.body_case());
  return t ? Zh(t->zh) : "?";
}

std::string EventType(const v1::Event& e) {
  if (const Term<v1::Event::BodyCase>* t = FindTerm(EventKinds(), e.body_case())) {
    return std::string(t->key);
  }
  absl::string_view type = e.type();
  if (size_t dot = type.rfind('.'); dot != absl::string_view::npos) {
    type.remove_prefix(dot + 1);
  }
  return type.empty() ? "?" : std::string(type);
}

std::string Summary(const v1::Event& e) {
  using E = v1::Event;
  switch (e.body_case()) {
    case E::kCaseOpened: {
      const v1::CaseOpened& o = e.case_opened();
      int workers = 0;
      for (const auto& p : o.parties()) {
        if (p.role() == v1::PARTY_ROLE_WORKER_GROUP) workers += p.head_count();
        if (p.role() == v1::PARTY_ROLE_WORKER) ++workers;
      }
      return Parts({o.title(), ZhOf(Matters(), o.matter()),
                    ZhOf(IntakeChannels(), o.channel()),
                    o.green_channel() ? "绿色通道" : "",
                    workers > 0 ? absl::StrCat(workers, "名工人") : "",
                    o.amount_claimed_fen() > 0
                        ? absl::StrCat(FormatFen(o.amount_claimed_fen()), " 元")
                        : ""});
    }
    case E::kCaseNoteRecorded:
      return e.case_note_recorded().note();
    case E::kCaseNumberAssigned:
      return e.case_number_assigned().case_id();
    case E::kReferralRequested: {
      const v1::ReferralRequested& r = e.referral_requested();
      std::string head = absl::StrCat(ShortReferralId(r.referral_id()), " → ",
                                      r.to_node(), ": ", r.purpose());
      return Parts({head, ZhOf(Matters(), r.matter()),
                    r.priority() == v1::PRIORITY_ROUTINE
                        ? ""
                        : ZhOf(Priorities(), r.priority()),
                    r.has_due_time() ? "期限 " + Due(r.due_time()) : "",
                    r.parent_referral_id().empty()
                        ? ""
                        : "由 " + ShortReferralId(r.parent_referral_id()) + " 再转",
                    Attachments(r.attachments())});
    }
    case E::kReferralReceived:
      return ShortReferralId(e.referral_received().referral_id());
    case E::kReferralAccepted:
      return Parts({ShortReferralId(e.referral_accepted().referral_id()),
                    e.referral_accepted().note()});
    case E::kReferralRejected:
      return Parts({ShortReferralId(e.referral_rejected().referral_id()),
                    e.referral_rejected().reason_code(),
                    e.referral_rejected().note()});
    case E::kReferralReturned: {
      const v1::ReferralReturned& r = e.referral_returned();
      return Parts({ShortReferralId(r.referral_id()),
                    r.missing_items().empty()
                        ? ""
                        : "需补充 " + absl::StrJoin(r.missing_items(), "、"),
                    r.has_resubmit_by() ? "补正期限 " + Due(r.resubmit_by()) : "",
                    r.note()});
    }
    case E::kReferralResubmitted:
      return Parts({ShortReferralId(e.referral_resubmitted().referral_id()),
                    Attachments(e.referral_resubmitted().attachments()),
                    e.referral_resubmitted().note()});
    case E::kReferralRedirected: {
      const v1::ReferralRedirected& r = e.referral_redirected();
      return Parts({absl::StrCat(ShortReferralId(r.referral_id()), " → ", r.to_node(),
                                 " (", ShortReferralId(r.child_referral_id()), ")"),
                    r.reason()});
    }
    case E::kReferralStarted:
      return ShortReferralId(e.referral_started().referral_id());
    case E::kReferralPutOnHold:
      return Parts({ShortReferralId(e.referral_put_on_hold().referral_id()),
                    e.referral_put_on_hold().reason(),
                    e.referral_put_on_hold().has_until()
                        ? "至 " + Due(e.referral_put_on_hold().until())
                        : ""});
    case E::kReferralResumed:
      return ShortReferralId(e.referral_resumed().referral_id());
    case E::kReferralCompleted: {
      const v1::ReferralCompleted& r = e.referral_completed();
      return Parts({ShortReferralId(r.referral_id()), ZhOf(Outcomes(), r.outcome()),
                    r.amount_recovered_fen() > 0
                        ? absl::StrCat(FormatFen(r.amount_recovered_fen()), " 元")
                        : "",
                    r.note()});
    }
    case E::kReferralFailed:
      return Parts({ShortReferralId(e.referral_failed().referral_id()),
                    e.referral_failed().reason_code(), e.referral_failed().note()});
    case E::kReferralCancelled:
      return Parts({ShortReferralId(e.referral_cancelled().referral_id()),
                    e.referral_cancelled().reason()});
    case E::BODY_NOT_SET:
      break;
  }
  return "";
}

std::vector<TimelineRow> Timeline(
    const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  std::vector<TimelineRow> rows;
  absl::Time previous = absl::InfinitePast();
  for (const v1::Event& e : events) {
    const absl::Time t = EventTime(e);
    rows.push_back(TimelineRow{
        absl::StrCat(e.sequence()), FormatShanghai(t),
        previous == absl::InfinitePast() ? "" : FormatGap(t - previous), e.source(),
        EventZh(e), EventType(e), Summary(e)});
    previous = t;
  }
  return rows;
}

}  // namespace referral::refctl
