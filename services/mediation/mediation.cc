#include "services/mediation/mediation.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/text_limits.h"
#include "common/timestamps.h"
#include "google/protobuf/util/time_util.h"
#include "services/referral/policy.h"
#include "services/referral/privacy.h"
#include "services/referral/read_audit.h"
#include "storage/event_store.h"

namespace referral::mediation {
namespace {


constexpr int kFeedPage = 1000;
constexpr char kInvitedType[] = "referral.v1.MeetingParticipantInvited";

absl::Status Invalid(absl::string_view field, std::string message, std::string zh) {
  return MakeError(ErrorReason::kInvalidField, std::move(message), std::move(zh),
                   {.field = std::string(field)});
}

absl::Status MeetingNotFound(absl::string_view meeting_id) {
  return MakeError(ErrorReason::kMeetingNotFound,
                   absl::StrCat("no meeting ", meeting_id,
                                ": ids look like \"<case>/m<n>\"; ListMeetings "
                                "with the case id shows its meetings"),
                   "会议不存在",
                   {.metadata = {{"meeting_id", std::string(meeting_id)}}});
}

absl::Status CaseNotFound(absl::string_view case_id) {
  return MakeError(ErrorReason::kCaseNotFound,
                   absl::StrCat("case ", case_id, " was never opened"), "案件不存在",
                   {.metadata = {{"case_id", std::string(case_id)}}});
}

bool IsSet(const google::protobuf::Timestamp& ts) {
  return ts.seconds() != 0 || ts.nanos() != 0;
}

// A slot: start and end set and valid, end after start and at most
// kMaxMeetingLength later, and (unless it is a proposal, where the place may
// stay as it was) a place, of at most kMaxTextBytes.
absl::Status CheckSlot(const v1::MeetingSlot& slot, absl::string_view field,
                       bool need_place) {
  const std::pair<const google::protobuf::Timestamp*, const char*> times[] = {
      {&slot.start_time(), "start_time"}, {&slot.end_time(), "end_time"}};
  for (const auto& [ts, name] : times) {
    if (!IsSet(*ts) || !IsValidTimestamp(*ts)) {
      return Invalid(absl::StrCat(field, ".", name),
                     absl::StrCat(field, ".", name,
                                  " is required: when the meeting starts and ends"),
                     "请填写会议的开始和结束时间");
    }
  }
  if (slot.end_time() <= slot.start_time()) {
    return Invalid(absl::StrCat(field, ".end_time"),
                   absl::StrCat(field, ".end_time must be after ", field,
                                ".start_time"),
                   "会议结束时间必须晚于开始时间");
  }
  if (TimeOf(slot.end_time()) - TimeOf(slot.start_time()) > kMaxMeetingLength) {
    return Invalid(absl::StrCat(field, ".end_time"),
                   absl::StrCat(field, ".end_time is more than ",
                                absl::FormatDuration(kMaxMeetingLength), " after ", field,
                                ".start_time: a meeting lasts at most a day; convene "
                                "one meeting per day"),
                   "会议时长不能超过 24 小时，请按天分别召集");
  }
  if (need_place && slot.place().empty()) {
    return Invalid(absl::StrCat(field, ".place"),
                   absl::StrCat(field,
                                ".place is required: where the meeting is, e.g. "
                                "\"秦州区司法局三楼调解室\""),
                   "请填写会议地点");
  }
  return CheckText(absl::StrCat(field, ".place"), slot.place());
}

// A list of at most `max` entries (`what`: "agenda items").
absl::Status CheckCount(absl::string_view field, int size, int max, absl::string_view what,
                        absl::string_view zh) {
  if (size <= max) return absl::OkStatus();
  return Invalid(field,
                 absl::StrCat(field, " has ", size, " entries; give at most ", max, " ",
                              what),
                 std::string(zh));
}

// Whether `m` is a SCHEDULED meeting other than `except` that overlaps
// `slot`.
bool Clashes(const v1::Meeting& m, const v1::MeetingSlot& slot, absl::string_view except) {
  return m.meeting_id() != except && m.state() == v1::MEETING_STATE_SCHEDULED &&
         Overlaps(slot, m.slot());
}

bool SameSlot(const v1::MeetingSlot& a, const v1::MeetingSlot& b) {
  return a.start_time() == b.start_time() && a.end_time() == b.end_time() &&
         a.place() == b.place();
}

v1::Event Involving(const std::vector<std::string>& nodes) {
  v1::Event e;
  for (const auto& n : nodes) e.add_involved_nodes(n);
  return e;
}

// The invitee as the service records it: only who, never an answer.
v1::Invitee CleanInvitee(const v1::Invitee& given, const std::string& id) {
  v1::Invitee i;
  i.set_invitee_id(id);
  if (!given.node().empty()) {
    i.set_node(given.node());
  } else {
    *i.mutable_party() = given.party();
  }
  return i;
}

std::string InviteeName(const v1::Invitee& i) {
  return i.node().empty() ? i.party().name() : i.node();
}

// Names a finding may use: the case's parties and the meeting's invitees.
std::set<std::string> KnownNames(const broker::CaseProjection& c,
                                 const v1::Meeting& m) {
  std::set<std::string> names;
  for (const v1::Party& p : c.state().opened().parties()) names.insert(p.name());
  for (const v1::Invitee& i : m.invitees()) names.insert(InviteeName(i));
  names.erase("");
  return names;
}

const v1::Party* FindParty(const broker::CaseProjection& c, const v1::Meeting& m,
                           absl::string_view name) {
  for (const v1::Party& p : c.state().opened().parties()) {
    if (p.name() == name) return &p;
  }
  for (const v1::Invitee& i : m.invitees()) {
    if (i.has_party() && i.party().name() == name) return &i.party();
  }
  return nullptr;
}

}  // namespace

Mediation::Mediation(broker::CaseLogPort* log, broker::DirectoryPort* directory,
                     const deadlines::Calendar* calendar, MediationOptions options)
    : log_(log),
      directory_(directory),
      calendar_(calendar),
      options_(std::move(options)),
      commands_(log) {}

// ------------------------------------------------------------------ mechanics

absl::StatusOr<Mediation::Outcome> Mediation::Execute(
    absl::string_view caller, const std::string& case_id,
    const std::string& request_id, const google::protobuf::Message& request,
    const Decide& decide) {
  ASSIGN_OR_RETURN(
      std::vector<v1::Event> events,
      commands_.Execute(
          caller, case_id, request_id, request,
          [&](const std::vector<v1::Event>& history)
              -> absl::StatusOr<std::vector<v1::Event>> {
            CaseState state{broker::CaseProjection::Fold(history),
                            MeetingProjection::Fold(history),
                            deadlines::DeadlineFold::Of(history), options_.clock()};
            if (!state.c.opened()) return CaseNotFound(case_id);
            ASSIGN_OR_RETURN(std::vector<v1::Event> out, decide(state));
            for (v1::Event& e : out) {
              if (!e.has_time()) *e.mutable_time() = ProtoTime(state.now);
            }
            return out;
          },
          {.may_create = false, .max_attempts = options_.max_attempts}));
  Outcome out;
  out.meetings = MeetingProjection::Fold(events);
  // The command's own events end the list; its warnings are among them.
  const std::string prefix = broker::CommandPrefix(caller, request_id) + ".";
  ASSIGN_OR_RETURN(out.conflicts,
                   ConflictsSeenBy(caller, case_id, events, prefix, out.meetings));
  return out;
}

absl::StatusOr<Mediation::Outcome> Mediation::OnMeeting(
    absl::string_view caller, Command command, const std::string& meeting_id,
    const std::string& request_id, const google::protobuf::Message& request,
    const DecideOnMeeting& body) {
  const std::string case_id = CaseOfMeeting(meeting_id);
  if (case_id.empty() || !storage::ValidateCaseId(case_id, "meeting_id").ok()) {
    return Invalid("meeting_id",
                   absl::StrCat("meeting_id \"", meeting_id.substr(0, 60),
                                "\" is not a meeting id like \"<case>/m<n>\""),
                   "会议编号格式不正确");
  }
  const CommandRule& rule = RuleFor(command);
  absl::StatusOr<Outcome> out = Execute(
      caller, case_id, request_id, request,
      [&](const CaseState& s) -> absl::StatusOr<std::vector<v1::Event>> {
        const MeetingView* view = s.meetings.Find(meeting_id);
        if (view == nullptr) return MeetingNotFound(meeting_id);
        RETURN_IF_ERROR(broker::RequireParty(caller, s.c));
        // Who answers depends on the invitation; AnswerInvitation checks it.
        if (command != Command::kAnswer) {
          RETURN_IF_ERROR(RequireActor(rule, caller, view->meeting));
        }
        RETURN_IF_ERROR(RequireStage(rule, *view));
        return body(s, *view);
      });
  // A case that does not exist hides nothing: say the meeting is missing.
  if (!out.ok() && ViewError(out.status()).reason == "CASE_NOT_FOUND") {
    return MeetingNotFound(meeting_id);
  }
  if (out.ok() && out->meetings.Find(meeting_id) == nullptr) {
    return MeetingNotFound(meeting_id);
  }
  return out;
}

absl::Status Mediation::ShowAnswer(absl::string_view caller, absl::string_view method,
                                    std::string case_id, google::protobuf::Message* answer) {
  return broker::ShowCaseAnswer(log_, options_.clock(), caller, method, case_id, answer);
}

absl::Status Mediation::CheckNode(absl::string_view node, absl::string_view field) {
  RETURN_IF_ERROR(storage::ValidateNodeName(node, field));
  return directory_->GetNode(node).status();
}

absl::Status Mediation::CheckInvitees(
    absl::string_view caller,
    const google::protobuf::RepeatedPtrField<v1::Invitee>& invitees) {
  if (invitees.empty()) {
    return Invalid("invitees",
                   "invite at least one participant: a node (node) or an outside "
                   "party (party with role and name)",
                   "请至少邀请一个参会方");
  }
  RETURN_IF_ERROR(CheckCount("invitees", invitees.size(), kMaxInvitees, "invitees per meeting",
                             absl::StrCat("每个会议的参会方不能超过 ", kMaxInvitees, " 个")));
  std::set<std::string> seen;
  for (int i = 0; i < invitees.size(); ++i) {
    const v1::Invitee& v = invitees[i];
    const std::string field = absl::StrCat("invitees[", i, "]");
    if (v.node().empty() == !v.has_party()) {
      return Invalid(field,
                     absl::StrCat(field,
                                  " names either a node or an outside party, "
                                  "not both and not neither"),
                     "每个参会方须为一个机构或一个外部当事人");
    }
    if (!v.node().empty()) {
      if (v.node() == caller) {
        return Invalid(absl::StrCat(field, ".node"),
                       absl::StrCat(field,
                                    ".node is the convener itself, which attends "
                                    "its own meeting: invite the other agencies"),
                       "召集机构无需邀请自己");
      }
      RETURN_IF_ERROR(storage::ValidateNodeName(v.node(), absl::StrCat(field, ".node")));
    } else if (v.party().role() == v1::PARTY_ROLE_UNSPECIFIED ||
               v.party().name().empty()) {
      return Invalid(absl::StrCat(field, ".party"),
                     absl::StrCat(field,
                                  ".party needs a role and a name, e.g. "
                                  "general_contractor and the company's name"),
                     "外部当事人需要角色和名称");
    } else {
      RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".party.name"), v.party().name()));
      RETURN_IF_ERROR(
          CheckText(absl::StrCat(field, ".party.contact"), v.party().contact()));
    }
    if (!seen.insert(InviteeName(v)).second) {
      return Invalid(field, absl::StrCat(field, " (", InviteeName(v),
                                         ") is invited twice: name each once"),
                     "参会方重复");
    }
  }
  return absl::OkStatus();
}

absl::Status Mediation::CheckInvitedNodes(
    const google::protobuf::RepeatedPtrField<v1::Invitee>& invitees) {
  for (int i = 0; i < invitees.size(); ++i) {
    if (invitees[i].node().empty()) continue;
    RETURN_IF_ERROR(CheckNode(invitees[i].node(), absl::StrCat("invitees[", i, "].node")));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Mediation::NodeMeeting>> Mediation::MeetingsOfNode(
    absl::string_view node, absl::string_view skip_case, absl::string_view viewer,
    uint64_t before) {
  // Every meeting has an invitation event whose source is its convener and
  // whose involved nodes name the invited node: one filtered read finds the
  // cases of both.
  std::vector<std::string> cases;
  std::set<std::string> seen;
  v1::ReadAllRequest req;
  req.mutable_filter()->set_node(std::string(node));
  req.mutable_filter()->set_event_type(kInvitedType);
  req.set_page_size(kFeedPage);
  for (;;) {
    ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(req));
    for (const v1::Event& e : page.events()) {
      if (before != 0 && e.global_position() >= before) continue;
      if (e.subject() != skip_case && seen.insert(e.subject()).second) {
        cases.push_back(e.subject());
      }
    }
    if (page.events_size() < kFeedPage) break;
    req.set_from_position(page.next_position());
  }
  std::vector<NodeMeeting> out;
  for (const std::string& case_id : cases) {
    ASSIGN_OR_RETURN(std::vector<v1::Event> events, log_->ReadCase(case_id));
    const bool viewer_is_party =
        !viewer.empty() && broker::CaseProjection::Fold(events).IsParty(viewer);
    MeetingProjection folded;
    for (const v1::Event& e : events) {
      if (before != 0 && e.global_position() >= before) break;
      folded.Apply(e);
    }
    for (const MeetingView& v : folded.meetings()) {
      if (v.meeting.convener_node() == node ||
          FindNodeInvitee(v.meeting, node) != nullptr) {
        out.push_back({v.meeting, viewer_is_party});
      }
    }
  }
  return out;
}

absl::StatusOr<std::vector<v1::MeetingConflict>> Mediation::ConflictsFor(
    absl::string_view node, const v1::MeetingSlot& slot, const CaseState& current,
    absl::string_view except) {
  std::vector<v1::MeetingConflict> out;
  // In this case: whoever reads the warning may read the other meeting.
  for (const MeetingView& v : current.meetings.meetings()) {
    const v1::Meeting& m = v.meeting;
    if (m.convener_node() != node && FindNodeInvitee(m, node) == nullptr) continue;
    if (!Clashes(m, slot, except)) continue;
    v1::MeetingConflict c;
    c.set_node(std::string(node));
    c.set_other_meeting_id(m.meeting_id());
    *c.mutable_other_slot() = m.slot();
    out.push_back(std::move(c));
  }
  // In other cases: only that there is one.
  ASSIGN_OR_RETURN(std::vector<NodeMeeting> others,
                   MeetingsOfNode(node, current.c.state().case_id(), "", 0));
  if (std::any_of(others.begin(), others.end(), [&](const NodeMeeting& o) {
        return Clashes(o.meeting, slot, except);
      })) {
    v1::MeetingConflict c;
    c.set_node(std::string(node));
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<v1::MeetingConflict>> Mediation::ConflictsSeenBy(
    absl::string_view caller, const std::string& case_id,
    const std::vector<v1::Event>& events, const std::string& prefix,
    const MeetingProjection& meetings) {
  std::vector<v1::MeetingConflict> out;
  for (const v1::Event& e : events) {
    if (!e.has_meeting_overlap_warned() || !absl::StartsWith(e.event_id(), prefix)) {
      continue;
    }
    const v1::MeetingOverlapWarned& w = e.meeting_overlap_warned();
    const MeetingView* view = meetings.Find(w.meeting_id());
    if (!w.conflict().other_meeting_id().empty() || view == nullptr) {
      out.push_back(w.conflict());
      continue;
    }
    // Clashes in other cases: as they stood when the warning was appended,
    // so a retry answers alike; shown only from cases the caller is party to.
    ASSIGN_OR_RETURN(
        std::vector<NodeMeeting> others,
        MeetingsOfNode(w.conflict().node(), case_id, caller, e.global_position()));
    bool hidden = false;
    size_t shown = 0;
    for (const NodeMeeting& o : others) {
      if (!Clashes(o.meeting, view->meeting.slot(), w.meeting_id())) continue;
      if (!o.viewer_is_party) {
        hidden = true;
        continue;
      }
      v1::MeetingConflict c;
      c.set_node(w.conflict().node());
      c.set_other_meeting_id(o.meeting.meeting_id());
      *c.mutable_other_slot() = o.meeting.slot();
      out.push_back(std::move(c));
      ++shown;
    }
    if (hidden || shown == 0) out.push_back(w.conflict());
  }
  return out;
}

v1::Event Mediation::Reminder(absl::string_view meeting_id, absl::string_view convener,
                              absl::string_view title, const v1::MeetingSlot& slot,
                              const std::vector<std::string>& notify,
                              const std::string& deadline_id, absl::Time now) const {
  deadlines::DeadlineSpec spec;
  spec.kind = v1::DEADLINE_KIND_MEETING_REMINDER;
  spec.deadline_id = deadline_id;
  spec.subject_id = std::string(meeting_id);
  spec.responsible_node = std::string(convener);
  spec.due_time = std::max(TimeOf(slot.start_time()) - options_.reminder_lead, now);
  spec.description = absl::StrCat("参加会议：", title);
  spec.notify_nodes = notify;
  return deadlines::SetDeadline(spec, now, *calendar_);
}

namespace {

// The warnings for `conflicts`, each involving its node.
void AppendWarnings(absl::string_view meeting_id,
                    const std::vector<v1::MeetingConflict>& conflicts,
                    std::vector<v1::Event>* out) {
  for (const v1::MeetingConflict& c : conflicts) {
    v1::Event e = Involving({c.node()});
    e.mutable_meeting_overlap_warned()->set_meeting_id(std::string(meeting_id));
    *e.mutable_meeting_overlap_warned()->mutable_conflict() = c;
    out->push_back(std::move(e));
  }
}

// Clears the meeting's reminder when it is still open.
void ClearReminder(const MeetingView& view, const deadlines::DeadlineFold& deadlines,
                   absl::string_view reason, std::vector<v1::Event>* out) {
  if (!view.reminder_id.empty() && deadlines.IsOpen(view.reminder_id)) {
    out->push_back(deadlines::ClearDeadline(view.reminder_id, reason,
                                            view.meeting.convener_node()));
  }
}

}  // namespace

// ------------------------------------------------------------------ commands

absl::StatusOr<v1::ConveneMeetingResponse> Mediation::ConveneMeeting(
    absl::string_view caller, const v1::ConveneMeetingRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  if (request.kind() == v1::MEETING_KIND_UNSPECIFIED) {
    return Invalid("kind",
                   "kind is required: MEETING_KIND_MEDIATION (调解会) or "
                   "MEETING_KIND_JOINT_CONFERENCE (联席会商)",
                   "请选择会议类型");
  }
  if (request.title().empty()) {
    return Invalid("title", "title is required: a short title, no personal data",
                   "请填写会议标题");
  }
  RETURN_IF_ERROR(CheckText("title", request.title()));
  RETURN_IF_ERROR(CheckCount("agenda", request.agenda_size(), kMaxAgendaItems, "agenda items",
                             absl::StrCat("议程不能超过 ", kMaxAgendaItems, " 项")));
  for (int k = 0; k < request.agenda_size(); ++k) {
    RETURN_IF_ERROR(CheckText(absl::StrCat("agenda[", k, "]"), request.agenda(k)));
  }
  RETURN_IF_ERROR(CheckSlot(request.slot(), "slot", /*need_place=*/true));
  RETURN_IF_ERROR(CheckInvitees(caller, request.invitees()));

  ASSIGN_OR_RETURN(
      Outcome out,
      Execute(caller, request.case_id(), request.request_id(), request,
              [&](const CaseState& s) -> absl::StatusOr<std::vector<v1::Event>> {
                RETURN_IF_ERROR(broker::RequireParty(caller, s.c));
                RETURN_IF_ERROR(CheckInvitedNodes(request.invitees()));
                const std::string meeting_id = s.meetings.NextMeetingId(request.case_id());
                std::vector<std::string> nodes;
                for (const v1::Invitee& i : request.invitees()) {
                  if (!i.node().empty()) nodes.push_back(i.node());
                }
                std::vector<v1::Event> events;
                v1::Event convened = Involving(nodes);
                v1::MeetingConvened* c = convened.mutable_meeting_convened();
                c->set_meeting_id(meeting_id);
                c->set_kind(request.kind());
                c->set_title(request.title());
                *c->mutable_agenda() = request.agenda();
                *c->mutable_slot() = request.slot();
                events.push_back(std::move(convened));
                for (int k = 0; k < request.invitees_size(); ++k) {
                  const v1::Invitee& given = request.invitees(k);
                  v1::Event e = Involving({given.node()});
                  auto* inv = e.mutable_meeting_participant_invited();
                  inv->set_meeting_id(meeting_id);
                  *inv->mutable_invitee() = CleanInvitee(given, absl::StrCat("i", k + 1));
                  events.push_back(std::move(e));
                }
                for (const std::string& node : nodes) {
                  ASSIGN_OR_RETURN(auto conflicts,
                                   ConflictsFor(node, request.slot(), s, meeting_id));
                  AppendWarnings(meeting_id, conflicts, &events);
                }
                events.push_back(Reminder(meeting_id, caller, request.title(),
                                          request.slot(), nodes,
                                          ReminderDeadlineId(meeting_id, 0), s.now));
                return events;
              }));
  // The events end with the command's own (also on a retry, when nothing
  // was decided here): its meeting is the last convened.
  if (out.meetings.meetings().empty()) return MeetingNotFound(request.case_id());
  v1::ConveneMeetingResponse response;
  *response.mutable_meeting() = out.meetings.meetings().back().meeting;
  for (auto& c : out.conflicts) *response.add_conflicts() = std::move(c);
  RETURN_IF_ERROR(ShowAnswer(caller, "ConveneMeeting", request.case_id(), &response));
  return response;
}

absl::StatusOr<v1::InviteParticipantsResponse> Mediation::InviteParticipants(
    absl::string_view caller, const v1::InviteParticipantsRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  RETURN_IF_ERROR(CheckInvitees(caller, request.invitees()));
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(
          caller, Command::kInvite, meeting_id, request.request_id(), request,
          [&](const CaseState& s,
              const MeetingView& view) -> absl::StatusOr<std::vector<v1::Event>> {
            const v1::Meeting& m = view.meeting;
            if (m.invitees_size() + request.invitees_size() > kMaxInvitees) {
              return Invalid("invitees",
                             absl::StrCat(meeting_id, " has ", m.invitees_size(),
                                          " invitees; a meeting has at most ", kMaxInvitees,
                                          ", so invite at most ",
                                          kMaxInvitees - m.invitees_size(), " more"),
                             absl::StrCat("每个会议的参会方不能超过 ", kMaxInvitees, " 个"));
            }
            RETURN_IF_ERROR(CheckInvitedNodes(request.invitees()));
            std::vector<v1::Event> events;
            std::vector<std::string> added;
            int next = m.invitees_size();
            for (int k = 0; k < request.invitees_size(); ++k) {
              const v1::Invitee& given = request.invitees(k);
              const std::string name = InviteeName(given);
              const bool already =
                  given.node().empty()
                      ? std::any_of(m.invitees().begin(), m.invitees().end(),
                                    [&](const v1::Invitee& i) {
                                      return i.node().empty() && i.party().name() == name;
                                    })
                      : (FindNodeInvitee(m, given.node()) != nullptr ||
                         given.node() == m.convener_node());
              if (already) {
                return Invalid(absl::StrCat("invitees[", k, "]"),
                               absl::StrCat(name, " is already invited to ", meeting_id,
                                            " (or convened it)"),
                               "该参会方已在邀请名单中");
              }
              v1::Event e = Involving({given.node()});
              auto* inv = e.mutable_meeting_participant_invited();
              inv->set_meeting_id(meeting_id);
              *inv->mutable_invitee() = CleanInvitee(given, absl::StrCat("i", ++next));
              // The new node hears what the others already know.
              for (const std::string& n : InvitedNodes(m)) e.add_involved_nodes(n);
              events.push_back(std::move(e));
              if (!given.node().empty()) added.push_back(given.node());
            }
            for (const std::string& node : added) {
              ASSIGN_OR_RETURN(auto conflicts, ConflictsFor(node, m.slot(), s, meeting_id));
              AppendWarnings(meeting_id, conflicts, &events);
            }
            if (!added.empty()) {
              // The reminder names the invited nodes: a new one names the new
              // nodes too, or only them when the old one was already sent.
              std::vector<std::string> notify = added;
              if (!view.reminder_id.empty() && s.deadlines.IsOpen(view.reminder_id)) {
                notify = InvitedNodes(m);
                notify.insert(notify.end(), added.begin(), added.end());
              }
              ClearReminder(view, s.deadlines, "superseded", &events);
              events.push_back(Reminder(meeting_id, m.convener_node(), m.title(),
                                        m.slot(), notify,
                                        ReminderDeadlineId(meeting_id, view.reminders),
                                        s.now));
            }
            return events;
          }));
  v1::InviteParticipantsResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  for (auto& c : out.conflicts) *response.add_conflicts() = std::move(c);
  RETURN_IF_ERROR(ShowAnswer(caller, "InviteParticipants", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::AnswerInvitationResponse> Mediation::AnswerInvitation(
    absl::string_view caller, const v1::AnswerInvitationRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  switch (request.response()) {
    case v1::INVITATION_RESPONSE_ACCEPTED:
    case v1::INVITATION_RESPONSE_DECLINED:
      if (request.has_proposed_slot()) {
        return Invalid("proposed_slot",
                       "proposed_slot goes only with "
                       "INVITATION_RESPONSE_PROPOSED_OTHER_TIME",
                       "只有提议另约时间时才需填写建议时间");
      }
      break;
    case v1::INVITATION_RESPONSE_PROPOSED_OTHER_TIME:
      if (!request.has_proposed_slot()) {
        return Invalid("proposed_slot",
                       "proposed_slot is required with "
                       "INVITATION_RESPONSE_PROPOSED_OTHER_TIME: the time you "
                       "propose",
                       "提议另约时间时请填写建议的时间");
      }
      RETURN_IF_ERROR(CheckSlot(request.proposed_slot(), "proposed_slot",
                                /*need_place=*/false));
      break;
    default:
      return Invalid("response",
                     "response must be INVITATION_RESPONSE_ACCEPTED, _DECLINED or "
                     "_PROPOSED_OTHER_TIME",
                     "请选择接受、谢绝或另约时间");
  }
  RETURN_IF_ERROR(CheckText("note", request.note()));
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(
          caller, Command::kAnswer, meeting_id, request.request_id(), request,
          [&](const CaseState&,
              const MeetingView& view) -> absl::StatusOr<std::vector<v1::Event>> {
            const v1::Meeting& m = view.meeting;
            const v1::Invitee* invitee = nullptr;
            if (request.invitee_id().empty()) {
              invitee = FindNodeInvitee(m, caller);
              if (invitee == nullptr) {
                return MakeError(
                    ErrorReason::kNotAllowedForRole,
                    absl::StrCat(caller, " is not invited to ", meeting_id,
                                 m.convener_node() == caller
                                     ? "; as its convener, name the outside party "
                                       "you answer for with invitee_id"
                                     : ""),
                    "本机构不在该会议的邀请名单中",
                    {.metadata = {{"meeting_id", meeting_id}}});
              }
            } else {
              invitee = FindInvitee(m, request.invitee_id());
              if (invitee == nullptr) {
                return Invalid("invitee_id",
                               absl::StrCat("meeting ", meeting_id, " has no invitee \"",
                                            request.invitee_id().substr(0, 20),
                                            "\"; it has i1..i", m.invitees_size()),
                               "邀请名单中没有该参会方");
              }
            }
            RETURN_IF_ERROR(RequireActor(RuleFor(Command::kAnswer), caller, m, invitee));
            std::vector<std::string> involved = {m.convener_node(), invitee->node()};
            v1::Event e = Involving(involved);
            auto* a = e.mutable_meeting_invitation_answered();
            a->set_meeting_id(meeting_id);
            a->set_invitee_id(invitee->invitee_id());
            a->set_response(request.response());
            a->set_note(request.note());
            if (request.has_proposed_slot()) {
              *a->mutable_proposed_slot() = request.proposed_slot();
            }
            return std::vector<v1::Event>{std::move(e)};
          }));
  v1::AnswerInvitationResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  RETURN_IF_ERROR(ShowAnswer(caller, "AnswerInvitation", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::RescheduleMeetingResponse> Mediation::RescheduleMeeting(
    absl::string_view caller, const v1::RescheduleMeetingRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  RETURN_IF_ERROR(CheckSlot(request.slot(), "slot", /*need_place=*/true));
  RETURN_IF_ERROR(CheckText("reason", request.reason()));
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(
          caller, Command::kReschedule, meeting_id, request.request_id(), request,
          [&](const CaseState& s,
              const MeetingView& view) -> absl::StatusOr<std::vector<v1::Event>> {
            const v1::Meeting& m = view.meeting;
            if (SameSlot(m.slot(), request.slot())) {
              return Invalid("slot",
                             absl::StrCat("meeting ", meeting_id,
                                          " is already at that time and place"),
                             "会议时间地点未改变");
            }
            const std::vector<std::string> nodes = InvitedNodes(m);
            std::vector<v1::Event> events;
            v1::Event moved = Involving(nodes);
            auto* r = moved.mutable_meeting_rescheduled();
            r->set_meeting_id(meeting_id);
            *r->mutable_slot() = request.slot();
            r->set_reason(request.reason());
            events.push_back(std::move(moved));
            for (const std::string& node : nodes) {
              ASSIGN_OR_RETURN(auto conflicts,
                               ConflictsFor(node, request.slot(), s, meeting_id));
              AppendWarnings(meeting_id, conflicts, &events);
            }
            ClearReminder(view, s.deadlines, "rescheduled", &events);
            events.push_back(Reminder(meeting_id, m.convener_node(), m.title(),
                                      request.slot(), nodes,
                                      ReminderDeadlineId(meeting_id, view.reminders), s.now));
            return events;
          }));
  v1::RescheduleMeetingResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  for (auto& c : out.conflicts) *response.add_conflicts() = std::move(c);
  RETURN_IF_ERROR(ShowAnswer(caller, "RescheduleMeeting", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::CancelMeetingResponse> Mediation::CancelMeeting(
    absl::string_view caller, const v1::CancelMeetingRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  if (request.reason().empty()) {
    return Invalid("reason", "reason is required: the invitees are told why",
                   "请填写取消会议的原因");
  }
  RETURN_IF_ERROR(CheckText("reason", request.reason()));
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(caller, Command::kCancel, meeting_id, request.request_id(), request,
                [&](const CaseState& s, const MeetingView& view)
                    -> absl::StatusOr<std::vector<v1::Event>> {
                  std::vector<v1::Event> events;
                  v1::Event e = Involving(InvitedNodes(view.meeting));
                  e.mutable_meeting_cancelled()->set_meeting_id(meeting_id);
                  e.mutable_meeting_cancelled()->set_reason(request.reason());
                  events.push_back(std::move(e));
                  ClearReminder(view, s.deadlines, "cancelled", &events);
                  return events;
                }));
  v1::CancelMeetingResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  RETURN_IF_ERROR(ShowAnswer(caller, "CancelMeeting", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::RecordMeetingHeldResponse> Mediation::RecordMeetingHeld(
    absl::string_view caller, const v1::RecordMeetingHeldRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  RETURN_IF_ERROR(CheckText("minutes", request.minutes()));
  RETURN_IF_ERROR(CheckCount("attended", request.attended_size(), kMaxInvitees,
                             "attendees, one per invitee", "出席名单不能超过参会方上限"));
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(caller, Command::kRecordHeld, meeting_id, request.request_id(), request,
                [&](const CaseState& s, const MeetingView& view)
                    -> absl::StatusOr<std::vector<v1::Event>> {
                  const v1::Meeting& m = view.meeting;
                  for (int k = 0; k < request.attended_size(); ++k) {
                    if (FindInvitee(m, request.attended(k)) == nullptr) {
                      return Invalid(
                          absl::StrCat("attended[", k, "]"),
                          absl::StrCat("attended[", k, "] \"",
                                       request.attended(k).substr(0, 20),
                                       "\" is not an invitee of ", meeting_id,
                                       "; its invitees are i1..i", m.invitees_size()),
                          "出席名单中有未受邀的参会方");
                    }
                  }
                  std::vector<v1::Event> events;
                  v1::Event e = Involving(InvitedNodes(m));
                  auto* h = e.mutable_meeting_held();
                  h->set_meeting_id(meeting_id);
                  *h->mutable_attended() = request.attended();
                  h->set_minutes(request.minutes());
                  events.push_back(std::move(e));
                  ClearReminder(view, s.deadlines, "held", &events);
                  return events;
                }));
  v1::RecordMeetingHeldResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  RETURN_IF_ERROR(ShowAnswer(caller, "RecordMeetingHeld", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::RecordLiabilityResponse> Mediation::RecordLiability(
    absl::string_view caller, const v1::RecordLiabilityRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  if (request.findings().empty()) {
    return Invalid("findings", "give at least one finding: party, amount, ground",
                   "请至少填写一项责任认定");
  }
  RETURN_IF_ERROR(CheckCount("findings", request.findings_size(), kMaxFindings,
                             "findings per analysis",
                             absl::StrCat("责任认定不能超过 ", kMaxFindings, " 项")));
  for (int k = 0; k < request.findings_size(); ++k) {
    const v1::LiabilityFinding& f = request.findings(k);
    const std::string field = absl::StrCat("findings[", k, "]");
    if (f.party_name().empty()) {
      return Invalid(field + ".party_name",
                     absl::StrCat(field, ".party_name is required: who owes"),
                     "请填写责任方名称");
    }
    if (f.amount_fen() < 0) {
      return Invalid(field + ".amount_fen",
                     absl::StrCat(field, ".amount_fen cannot be negative"),
                     "责任金额不能为负数");
    }
    if (f.ground().empty()) {
      return Invalid(field + ".ground",
                     absl::StrCat(field,
                                  ".ground is required: the legal basis, e.g. "
                                  "《保障农民工工资支付条例》第三十条"),
                     "请填写法律依据");
    }
    RETURN_IF_ERROR(CheckText(field + ".party_name", f.party_name()));
    RETURN_IF_ERROR(CheckText(field + ".ground", f.ground()));
  }
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(
          caller, Command::kRecordLiability, meeting_id, request.request_id(), request,
          [&](const CaseState& s,
              const MeetingView& view) -> absl::StatusOr<std::vector<v1::Event>> {
            const v1::Meeting& m = view.meeting;
            const std::set<std::string> names = KnownNames(s.c, m);
            v1::Event e = Involving(InvitedNodes(m));
            auto* l = e.mutable_liability_analysed();
            l->set_meeting_id(meeting_id);
            for (int k = 0; k < request.findings_size(); ++k) {
              v1::LiabilityFinding f = request.findings(k);
              if (names.count(f.party_name()) == 0) {
                return Invalid(
                    absl::StrCat("findings[", k, "].party_name"),
                    absl::StrCat("\"", f.party_name().substr(0, 40),
                                 "\" is neither a party of the case nor invited "
                                 "to ", meeting_id, "; known: ",
                                 absl::StrJoin(names, ", ")),
                    "责任方须为案件当事人或参会方");
              }
              if (f.role() == v1::PARTY_ROLE_UNSPECIFIED) {
                if (const v1::Party* p = FindParty(s.c, m, f.party_name())) {
                  f.set_role(p->role());
                }
              }
              *l->add_findings() = std::move(f);
            }
            return std::vector<v1::Event>{std::move(e)};
          }));
  v1::RecordLiabilityResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  RETURN_IF_ERROR(ShowAnswer(caller, "RecordLiability", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::RecordAgreementResponse> Mediation::RecordAgreement(
    absl::string_view caller, const v1::RecordAgreementRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  const v1::Agreement& a = request.agreement();
  if (a.terms().empty()) {
    return Invalid("agreement.terms", "agreement.terms is required: what was agreed",
                   "请填写协议内容");
  }
  RETURN_IF_ERROR(CheckText("agreement.terms", a.terms()));
  RETURN_IF_ERROR(CheckText("agreement.guarantor", a.guarantor()));
  if (a.total_fen() <= 0) {
    return Invalid("agreement.total_fen",
                   "agreement.total_fen must be more than zero: the whole amount "
                   "agreed, in fen",
                   "协议总金额必须大于零");
  }
  if (a.instalments().empty()) {
    return Invalid("agreement.instalments",
                   "agreement.instalments is required: at least one payment, with "
                   "its amount, due time and payer",
                   "请填写至少一期付款安排");
  }
  RETURN_IF_ERROR(CheckCount("agreement.instalments", a.instalments_size(), kMaxInstalments,
                             "instalments per agreement",
                             absl::StrCat("分期不能超过 ", kMaxInstalments, " 期")));
  int64_t sum = 0;
  for (int k = 0; k < a.instalments_size(); ++k) {
    const v1::Instalment& inst = a.instalments(k);
    const std::string field = absl::StrCat("agreement.instalments[", k, "]");
    if (inst.number() != k + 1) {
      return Invalid(field + ".number",
                     absl::StrCat(field, ".number is ", inst.number(),
                                  "; instalments are numbered 1, 2, ... in order"),
                     "分期须按 1、2、3……顺序编号");
    }
    if (inst.amount_fen() <= 0 || inst.amount_fen() > a.total_fen() - sum) {
      return Invalid(field + ".amount_fen",
                     absl::StrCat(field,
                                  inst.amount_fen() <= 0
                                      ? ".amount_fen must be more than zero"
                                      : ".amount_fen takes the instalments past "
                                        "total_fen"),
                     "每期金额须大于零，且各期之和等于总金额");
    }
    sum += inst.amount_fen();
    if (!IsSet(inst.due_time()) || !IsValidTimestamp(inst.due_time())) {
      return Invalid(field + ".due_time",
                     absl::StrCat(field, ".due_time is required: when it is due"),
                     "请填写每期的履行期限");
    }
    if (k > 0 && inst.due_time() <= a.instalments(k - 1).due_time()) {
      return Invalid(field + ".due_time",
                     absl::StrCat(field,
                                  ".due_time must be after the previous "
                                  "instalment's"),
                     "各期履行期限须依次递增");
    }
    if (inst.payer().empty()) {
      return Invalid(field + ".payer",
                     absl::StrCat(field, ".payer is required: who pays it"),
                     "请填写每期的付款方");
    }
    RETURN_IF_ERROR(CheckText(field + ".payer", inst.payer()));
  }
  if (sum != a.total_fen()) {
    return Invalid("agreement.total_fen",
                   absl::StrCat("the instalments sum to ", sum, " fen but total_fen is ",
                                a.total_fen()),
                   "各期金额之和须等于协议总金额");
  }
  RETURN_IF_ERROR(storage::ValidateNodeName(a.fallback_node(), "agreement.fallback_node"));
  // The agreement as recorded: instalment states are the fold's.
  v1::Agreement agreement = a;
  for (v1::Instalment& inst : *agreement.mutable_instalments()) {
    inst.clear_state();
    inst.clear_paid_fen();
    inst.clear_paid_time();
  }

  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(
          caller, Command::kRecordAgreement, meeting_id, request.request_id(), request,
          [&](const CaseState& s,
              const MeetingView& view) -> absl::StatusOr<std::vector<v1::Event>> {
            // The clock and the directory, here: a retry of an agreement
            // that was recorded is answered before them.
            for (int k = 0; k < agreement.instalments_size(); ++k) {
              if (TimeOf(agreement.instalments(k).due_time()) <= s.now) {
                const std::string field = absl::StrCat("agreement.instalments[", k, "]");
                return Invalid(field + ".due_time",
                               absl::StrCat(field,
                                            ".due_time is not in the future: an "
                                            "instalment falls due after the agreement"),
                               "履行期限必须晚于当前时间");
              }
            }
            ASSIGN_OR_RETURN(v1::Node fallback,
                             directory_->GetNode(agreement.fallback_node()));
            if (fallback.kind() != v1::NODE_KIND_LABOR_INSPECTION &&
                fallback.kind() != v1::NODE_KIND_ARBITRATION) {
              return Invalid("agreement.fallback_node",
                             absl::StrCat("agreement.fallback_node ",
                                          agreement.fallback_node(),
                                          " must be a labour inspection or arbitration "
                                          "node: a missed instalment goes there"),
                             "逾期未履行的去向须为劳动保障监察或劳动仲裁机构");
            }
            const v1::Meeting& m = view.meeting;
            std::vector<std::string> involved = InvitedNodes(m);
            involved.push_back(agreement.fallback_node());
            std::vector<v1::Event> events;
            v1::Event e = Involving(involved);
            e.mutable_agreement_reached()->set_meeting_id(meeting_id);
            *e.mutable_agreement_reached()->mutable_agreement() = agreement;
            events.push_back(std::move(e));
            for (const v1::Instalment& inst : agreement.instalments()) {
              deadlines::DeadlineSpec spec;
              spec.kind = v1::DEADLINE_KIND_INSTALMENT_PAYMENT;
              spec.deadline_id = InstalmentDeadlineId(meeting_id, inst.number());
              spec.subject_id = meeting_id;
              spec.responsible_node = m.convener_node();
              spec.due_time = TimeOf(inst.due_time());
              spec.escalate_to = agreement.fallback_node();
              spec.description = absl::StrCat("按期履行调解协议第", inst.number(), "期（",
                                              inst.payer(), "）");
              events.push_back(deadlines::SetDeadline(spec, s.now, *calendar_));
            }
            return events;
          }));
  v1::RecordAgreementResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  RETURN_IF_ERROR(ShowAnswer(caller, "RecordAgreement", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::RecordMediationFailedResponse> Mediation::RecordMediationFailed(
    absl::string_view caller, const v1::RecordMediationFailedRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  if (request.reason().empty()) {
    return Invalid("reason", "reason is required: why no agreement was reached",
                   "请填写调解不成的原因");
  }
  RETURN_IF_ERROR(CheckText("reason", request.reason()));
  RETURN_IF_ERROR(CheckText("next_step", request.next_step()));
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(caller, Command::kRecordFailed, meeting_id, request.request_id(), request,
                [&](const CaseState&, const MeetingView& view)
                    -> absl::StatusOr<std::vector<v1::Event>> {
                  v1::Event e = Involving(InvitedNodes(view.meeting));
                  auto* f = e.mutable_mediation_failed();
                  f->set_meeting_id(meeting_id);
                  f->set_reason(request.reason());
                  f->set_next_step(request.next_step());
                  return std::vector<v1::Event>{std::move(e)};
                }));
  v1::RecordMediationFailedResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  RETURN_IF_ERROR(
      ShowAnswer(caller, "RecordMediationFailed", CaseOfMeeting(meeting_id), &response));
  return response;
}

absl::StatusOr<v1::RecordPaymentResponse> Mediation::RecordPayment(
    absl::string_view caller, const v1::RecordPaymentRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  if (request.instalment() < 1) {
    return Invalid("instalment", "instalment is required: its number, 1, 2, ...",
                   "请填写期数");
  }
  if (request.amount_fen() <= 0) {
    return Invalid("amount_fen", "amount_fen must be more than zero: what was paid, in fen",
                   "付款金额必须大于零");
  }
  if (request.has_paid_time() && !IsValidTimestamp(request.paid_time())) {
    return Invalid("paid_time",
                   "paid_time is not a valid time: when the money was paid, or leave "
                   "it unset for now",
                   "付款时间不正确");
  }
  RETURN_IF_ERROR(CheckText("reference", request.reference()));
  const std::string& meeting_id = request.meeting_id();
  ASSIGN_OR_RETURN(
      Outcome out,
      OnMeeting(
          caller, Command::kRecordPayment, meeting_id, request.request_id(), request,
          [&](const CaseState& s,
              const MeetingView& view) -> absl::StatusOr<std::vector<v1::Event>> {
            // The clock, here: a retry of a recorded payment is answered
            // before it.
            const google::protobuf::Timestamp paid_time =
                request.has_paid_time() ? request.paid_time() : ProtoTime(s.now);
            if (TimeOf(paid_time) > s.now) {
              return Invalid("paid_time",
                             "paid_time is in the future: record a payment once it is "
                             "made (leave paid_time unset for now)",
                             "付款时间不能晚于当前时间");
            }
            if (TimeOf(paid_time) < TimeOf(view.agreement_time)) {
              return Invalid("paid_time",
                             absl::StrCat("paid_time is before the agreement of ",
                                          meeting_id, " was recorded (",
                                          absl::FormatTime(absl::RFC3339_sec,
                                                           TimeOf(view.agreement_time),
                                                           absl::UTCTimeZone()),
                                          "): a payment against it is made after it; "
                                          "money paid earlier belongs in the agreement's "
                                          "terms and total"),
                             "付款时间不能早于调解协议的记录时间");
            }
            const v1::Meeting& m = view.meeting;
            const v1::Agreement& a = m.agreement();
            const int n = request.instalment();
            if (n > a.instalments_size()) {
              return Invalid("instalment",
                             absl::StrCat("the agreement of ", meeting_id, " has ",
                                          a.instalments_size(), " instalments; there is no ",
                                          n),
                             "协议中没有该期");
            }
            const v1::Instalment& inst = a.instalments(n - 1);
            const int64_t left = inst.amount_fen() - inst.paid_fen();
            if (left <= 0) {
              return MakeError(ErrorReason::kMeetingStateConflict,
                               absl::StrCat("instalment ", n, " of ", meeting_id,
                                            " is already paid in full"),
                               "该期已足额履行",
                               {.metadata = {{"meeting_id", meeting_id}}});
            }
            if (request.amount_fen() > left) {
              return Invalid("amount_fen",
                             absl::StrCat("instalment ", n, " of ", meeting_id, " has ",
                                          left, " fen left to pay; record at most that"),
                             "付款金额超过该期未付金额");
            }
            std::vector<std::string> involved = InvitedNodes(m);
            involved.push_back(a.fallback_node());
            std::vector<v1::Event> events;
            v1::Event e = Involving(involved);
            auto* p = e.mutable_instalment_payment_recorded();
            p->set_meeting_id(meeting_id);
            p->set_instalment(n);
            p->set_amount_fen(request.amount_fen());
            *p->mutable_paid_time() = paid_time;
            p->set_reference(request.reference());
            events.push_back(std::move(e));
            const std::string deadline = InstalmentDeadlineId(meeting_id, n);
            if (request.amount_fen() == left && s.deadlines.IsOpen(deadline)) {
              events.push_back(deadlines::ClearDeadline(
                  deadline, paid_time <= inst.due_time() ? "paid" : "paid late",
                  m.convener_node()));
            }
            return events;
          }));
  v1::RecordPaymentResponse response;
  *response.mutable_meeting() = out.meetings.Find(meeting_id)->meeting;
  RETURN_IF_ERROR(ShowAnswer(caller, "RecordPayment", CaseOfMeeting(meeting_id), &response));
  return response;
}

// ------------------------------------------------------------------ reads

absl::StatusOr<v1::GetMeetingResponse> Mediation::GetMeeting(
    absl::string_view caller, const v1::GetMeetingRequest& request) {
  const std::string case_id = CaseOfMeeting(request.meeting_id());
  if (case_id.empty() || !storage::ValidateCaseId(case_id, "meeting_id").ok()) {
    return Invalid("meeting_id", "not a meeting id like \"<case>/m<n>\"",
                   "会议编号格式不正确");
  }
  absl::StatusOr<std::vector<v1::Event>> events = log_->ReadCase(case_id);
  if (!events.ok()) {
    if (events.status().code() == absl::StatusCode::kNotFound) {
      return MeetingNotFound(request.meeting_id());
    }
    return events.status();
  }
  broker::CaseProjection c = broker::CaseProjection::Fold(*events);
  if (!c.opened()) return MeetingNotFound(request.meeting_id());
  RETURN_IF_ERROR(broker::RequireParty(caller, c));
  const MeetingProjection meetings = MeetingProjection::Fold(*events);
  const MeetingView* view = meetings.Find(request.meeting_id());
  if (view == nullptr) return MeetingNotFound(request.meeting_id());
  v1::GetMeetingResponse response;
  *response.mutable_meeting() = view->meeting;
  RETURN_IF_ERROR(
      broker::ShowToParty(log_, options_.clock(), caller, "GetMeeting", c, &response));
  return response;
}

absl::StatusOr<v1::ListMeetingsResponse> Mediation::ListMeetings(
    absl::string_view caller, const v1::ListMeetingsRequest& request) {
  std::vector<v1::Meeting> meetings;
  if (!request.case_id().empty()) {
    RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
    ASSIGN_OR_RETURN(std::vector<v1::Event> events, log_->ReadCase(request.case_id()));
    broker::CaseProjection c = broker::CaseProjection::Fold(events);
    if (!c.opened()) return CaseNotFound(request.case_id());
    RETURN_IF_ERROR(broker::RequireParty(caller, c));
    const MeetingProjection folded = MeetingProjection::Fold(events);
    for (const MeetingView& v : folded.meetings()) {
      meetings.push_back(v.meeting);
    }
  } else {
    if (!request.node().empty() && request.node() != caller) {
      return MakeError(ErrorReason::kNotAParty,
                       absl::StrCat("node ", caller,
                                    " may list only its own meetings; to see "
                                    "another node's, list a case you share with it"),
                       "只能查看本机构的会议",
                       {.field = "node"});
    }
    // Its own: it is party to each of their cases.
    ASSIGN_OR_RETURN(std::vector<NodeMeeting> mine, MeetingsOfNode(caller, "", caller, 0));
    for (NodeMeeting& m : mine) meetings.push_back(std::move(m.meeting));
  }
  std::stable_sort(meetings.begin(), meetings.end(),
                   [](const v1::Meeting& a, const v1::Meeting& b) {
                     return a.slot().start_time() < b.slot().start_time();
                   });
  v1::ListMeetingsResponse response;
  for (auto& m : meetings) *response.add_meetings() = std::move(m);
  // A list is for finding: GetMeeting is the read that may show more.
  broker::MaskPersonalData(&response);
  return response;
}

}  // namespace referral::mediation
