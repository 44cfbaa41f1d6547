#include "clients/refctl/mediation_commands.h"

#include "clients/refctl/service_call.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/table.h"
#include "clients/refctl/units.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "referral/v1/mediation_service.grpc.pb.h"
#include "services/runtime/grpc_status.h"

namespace referral::refctl {
namespace {

using google::protobuf::util::TimeUtil;
using Stub = v1::MediationService::Stub;

// Every flag of every meeting command; only one command runs.
struct Flags {
  std::string meeting_id, case_id;
  // convene, invite
  std::string kind, title, start, end, place;
  std::vector<std::string> agenda, invite_nodes, invite_parties;
  // answer
  std::string response, invitee, note;
  // reschedule, cancel, fail
  std::string reason, next_step;
  // held, liability
  std::vector<std::string> attended, findings;
  std::string minutes;
  // agree
  std::string terms, total, payer, guarantor, fallback;
  std::vector<std::string> instalments;
  // pay
  int instalment = 0;
  std::string amount, paid_at, reference;
};

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

bool IsSet(const google::protobuf::Timestamp& ts) {
  return ts.seconds() != 0 || ts.nanos() != 0;
}

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     const std::string& text) {
  absl::StatusOr<absl::Time> t = ParseTimeArg(text, absl::Now());
  if (!t.ok()) return Invalid(absl::StrCat(flag, ": ", t.status().message()));
  return ToProto(*t);
}

absl::StatusOr<int64_t> AmountFlag(absl::string_view flag, absl::string_view text) {
  absl::StatusOr<int64_t> fen = ParseYuanToFen(text);
  if (!fen.ok()) return Invalid(absl::StrCat(flag, ": ", fen.status().message()));
  return fen;
}

template <typename Enum>
absl::StatusOr<Enum> Parse(absl::Span<const Term<Enum>> table, const std::string& typed,
                           absl::string_view flag, absl::string_view enum_prefix) {
  if (const Term<Enum>* t = ParseTerm(table, typed, enum_prefix)) return t->value;
  return Invalid(absl::StrCat(flag, " \"", typed, "\": use one of ", KeysOf(table)));
}

// --start, --end and --place as a slot; the place may be left to the caller.
absl::StatusOr<v1::MeetingSlot> SlotFlags(const Flags& f) {
  v1::MeetingSlot s;
  auto start = TimeFlag("--start", f.start);
  if (!start.ok()) return start.status();
  auto end = TimeFlag("--end", f.end);
  if (!end.ok()) return end.status();
  *s.mutable_start_time() = *start;
  *s.mutable_end_time() = *end;
  s.set_place(f.place);
  return s;
}

absl::Status AddInvitees(const Flags& f,
                         google::protobuf::RepeatedPtrField<v1::Invitee>* out) {
  for (const std::string& n : f.invite_nodes) out->Add()->set_node(n);
  for (const std::string& spec : f.invite_parties) {
    absl::StatusOr<v1::Party> p = ParsePartySpec(spec);
    if (!p.ok()) return p.status();
    *out->Add()->mutable_party() = *p;
  }
  if (out->empty()) {
    return Invalid("invite someone: --invite-node NODE or --invite-party ROLE:NAME "
                   "(each repeatable)");
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------ output

std::string Hm(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(ts), Shanghai());
}

// "2026-12-01 09:30–11:30  秦州区司法局三楼调解室".
std::string SlotText(const v1::MeetingSlot& s) {
  if (!IsSet(s.start_time())) return "";
  const absl::TimeZone& z = Shanghai();
  const absl::Time start = TimeOf(s.start_time()), end = TimeOf(s.end_time());
  const bool same_day = absl::FormatTime("%Y-%m-%d", start, z) ==
                        absl::FormatTime("%Y-%m-%d", end, z);
  std::string text = absl::StrCat(Hm(s.start_time()), "–",
                                  same_day ? absl::FormatTime("%H:%M", end, z)
                                           : Hm(s.end_time()));
  if (!s.place().empty()) absl::StrAppend(&text, "  ", s.place());
  return text;
}

std::string Yuan(int64_t fen) { return absl::StrCat(FormatFen(fen), " 元"); }

std::string InviteeWho(const v1::Invitee& i) {
  if (!i.node().empty()) return i.node();
  return absl::StrCat(Label(PartyRoles(), i.party().role()), "  ", i.party().name());
}

Table InviteesTable(const v1::Meeting& m) {
  Table t({"邀请 ID", "参会方 WHO", "答复 ANSWER", "出席 ATTENDED", "备注 NOTE"});
  for (const v1::Invitee& i : m.invitees()) {
    std::string note = i.note();
    if (i.has_proposed_slot()) {
      note = absl::StrCat("建议 ", SlotText(i.proposed_slot()), note.empty() ? "" : " · ",
                          note);
    }
    t.AddRow({i.invitee_id(), InviteeWho(i), Label(InvitationResponses(), i.response()),
              m.state() == v1::MEETING_STATE_HELD ? (i.attended() ? "是" : "否") : "",
              note});
  }
  return t;
}

void PrintMeeting(const v1::Meeting& m) {
  const v1::Agreement& a = m.agreement();
  std::cout << KeyValues({
      {"会议 MEETING", m.meeting_id()},
      {"案件 CASE", m.case_id()},
      {"类型 KIND", Label(MeetingKinds(), m.kind())},
      {"标题 TITLE", m.title()},
      {"状态 STATE", Label(MeetingStates(), m.state())},
      {"召集 CONVENER", m.convener_node()},
      {"时间地点 WHEN", SlotText(m.slot())},
      {"改期 RESCHEDULED", m.reschedules() > 0 ? absl::StrCat(m.reschedules(), " 次") : ""},
      {"议程 AGENDA", absl::StrJoin(m.agenda(), "\n")},
      {"纪要 MINUTES", m.minutes()},
      {"原因 REASON", m.reason()},
      {"下一步 NEXT", m.next_step()},
      {"协议 TERMS", a.terms()},
      {"总额 TOTAL", a.total_fen() > 0 ? Yuan(a.total_fen()) : ""},
      {"担保 GUARANTOR", a.guarantor()},
      {"逾期转 FALLBACK", a.fallback_node()},
      {"更新 UPDATED", IsSet(m.update_time()) ? FormatShanghai(TimeOf(m.update_time())) : ""},
  });
  if (m.invitees_size() > 0) std::cout << "\n" << InviteesTable(m).Render();
  if (m.findings_size() > 0) {
    Table t({"责任方 PARTY", "角色 ROLE", "金额 AMOUNT", "依据 GROUND"});
    for (const v1::LiabilityFinding& f : m.findings()) {
      t.AddRow({f.party_name(),
                f.role() != v1::PARTY_ROLE_UNSPECIFIED ? Label(PartyRoles(), f.role()) : "",
                Yuan(f.amount_fen()), f.ground()});
    }
    std::cout << "\n" << t.Render();
  }
  if (a.instalments_size() > 0) {
    Table t({"期 NO", "金额 AMOUNT", "期限 DUE", "付款方 PAYER", "状态 STATE",
             "已付 PAID", "付清 PAID AT"});
    for (const v1::Instalment& i : a.instalments()) {
      t.AddRow({absl::StrCat(i.number()), Yuan(i.amount_fen()), Hm(i.due_time()), i.payer(),
                Label(InstalmentStates(), i.state()), Yuan(i.paid_fen()),
                IsSet(i.paid_time()) ? Hm(i.paid_time()) : ""});
    }
    std::cout << "\n" << t.Render();
  }
}

// The overlap warnings, where a person will see them.
void WarnConflicts(const Globals& g,
                   const google::protobuf::RepeatedPtrField<v1::MeetingConflict>& list) {
  for (const v1::MeetingConflict& c : list) {
    // The other meeting is named only to a party of its case.
    std::string line =
        c.other_meeting_id().empty()
            ? absl::StrCat("warning: 时间冲突 ", c.node(),
                           " has another meeting then (in a case you are not party to)")
            : absl::StrCat("warning: 时间冲突 ", c.node(), " has another meeting then: ",
                           c.other_meeting_id(), "  ", SlotText(c.other_slot()));
    if (g.output == "json") {
      std::cerr << line << "\n";
    } else {
      std::cout << "\n" << line;
    }
  }
  if (!list.empty() && g.output != "json") std::cout << "\n";
}

Table MeetingsTable(const google::protobuf::RepeatedPtrField<v1::Meeting>& list) {
  Table t({"会议 MEETING", "类型 KIND", "状态 STATE", "时间地点 WHEN", "召集 CONVENER",
           "答复 ACCEPTED", "标题 TITLE"});
  for (const v1::Meeting& m : list) {
    int accepted = 0;
    for (const auto& i : m.invitees()) {
      accepted += i.response() == v1::INVITATION_RESPONSE_ACCEPTED;
    }
    const auto* kind = FindTerm(MeetingKinds(), m.kind());
    std::string state = Label(MeetingStates(), m.state());
    if (m.has_agreement()) state += " · 已达成协议";
    if (!m.next_step().empty()) state += " · 调解不成";
    t.AddRow({m.meeting_id(), kind ? std::string(kind->zh) : "", state, SlotText(m.slot()),
              m.convener_node(), absl::StrCat(accepted, "/", m.invitees_size()), m.title()});
  }
  return t;
}

// ------------------------------------------------------------------ calls

template <typename Request, typename Response>
absl::StatusOr<Response> Call(
    const Globals& g,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) {
  return CallService(g, "mediation", g.mediation, method, request);
}

// A command; an answer with overlap conflicts warns about them.
template <typename Response>
int RunCommand(const Globals& g,
               const std::function<absl::StatusOr<Response>(const std::string&)>& call,
               const std::function<void(const Response&)>& print) {
  std::function<void(const Response&)> after;
  if constexpr (requires(const Response& r) { r.conflicts(); }) {
    after = [&g](const Response& r) { WarnConflicts(g, r.conflicts()); };
  }
  return RunServiceCommand<Response>(g, "mediation", call, print, after);
}

template <typename Response>
int RunRead(const Globals& g, const std::function<absl::StatusOr<Response>()>& call,
            const std::function<void(const Response&)>& print) {
  return RunServiceRead<Response>(g, "mediation", call, print);
}

// A command on one meeting whose response is {Meeting meeting} and maybe
// conflicts: `fill` completes the request.
template <typename Request, typename Response>
void AddMeetingCommand(
    CLI::App* parent, Globals& g, Action& action, std::shared_ptr<Flags> f,
    const std::string& name, const std::string& help,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    std::function<absl::Status(const Globals&, const Flags&, Request*)> fill,
    std::function<void(CLI::App*, Flags&)> flags) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  cmd->add_option("meeting", f->meeting_id, "meeting id, e.g. CASE/m1")->required();
  if (flags) flags(cmd, *f);
  cmd->callback([&g, &action, f, method, fill] {
    action = [&g, f, method, fill] {
      return RunCommand<Response>(
          g,
          [&](const std::string& rid) -> absl::StatusOr<Response> {
            Request req;
            req.set_request_id(rid);
            req.set_meeting_id(f->meeting_id);
            if (fill) {
              if (absl::Status s = fill(g, *f, &req); !s.ok()) return s;
            }
            return Call(g, method, req);
          },
          [](const Response& r) { PrintMeeting(r.meeting()); });
    };
  });
}

void InviteFlags(CLI::App* c, Flags& f) {
  c->add_option("--invite-node", f.invite_nodes, "an agency node to invite, repeatable")
      ->allow_extra_args(false);
  c->add_option("--invite-party", f.invite_parties,
                "an outside party, ROLE:NAME[:CONTACT], repeatable; roles: " +
                    KeysOf(PartyRoles()))
      ->allow_extra_args(false);
}

}  // namespace

// ------------------------------------------------------------------ specs

absl::StatusOr<v1::Party> ParsePartySpec(absl::string_view spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 2));
  if (parts.size() < 2 || parts[1].empty()) {
    return Invalid(absl::StrCat("--invite-party \"", spec,
                                "\" must look like ROLE:NAME[:CONTACT], e.g. "
                                "general_contractor:某建筑工程有限公司"));
  }
  auto role = Parse(PartyRoles(), parts[0], "--invite-party role", "PARTY_ROLE_");
  if (!role.ok()) return role.status();
  v1::Party p;
  p.set_role(*role);
  p.set_name(parts[1]);
  if (parts.size() == 3) p.set_contact(parts[2]);
  return p;
}

absl::StatusOr<v1::LiabilityFinding> ParseFindingSpec(absl::string_view spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 2));
  if (parts.size() != 3 || parts[0].empty() || parts[2].empty()) {
    return Invalid(absl::StrCat("--finding \"", spec,
                                "\" must look like NAME:AMOUNT:GROUND, e.g. "
                                "\"某建筑工程有限公司:460000:《保障农民工工资支付条例》第三十条\""));
  }
  auto fen = AmountFlag("--finding amount", parts[1]);
  if (!fen.ok()) return fen.status();
  v1::LiabilityFinding f;
  f.set_party_name(parts[0]);
  f.set_amount_fen(*fen);
  f.set_ground(parts[2]);
  return f;
}

absl::StatusOr<v1::Instalment> ParseInstalmentSpec(absl::string_view spec,
                                                   absl::string_view payer,
                                                   absl::Time now) {
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits('@', 2));
  if (parts.size() < 2) {
    return Invalid(absl::StrCat("--instalment \"", spec,
                                "\" must look like AMOUNT@TIME[@PAYER], e.g. "
                                "\"6000.00@2026-12-31 17:00\""));
  }
  auto fen = AmountFlag("--instalment amount", parts[0]);
  if (!fen.ok()) return fen.status();
  absl::StatusOr<absl::Time> due = ParseTimeArg(parts[1], now);
  if (!due.ok()) {
    return Invalid(absl::StrCat("--instalment time: ", due.status().message()));
  }
  v1::Instalment i;
  i.set_amount_fen(*fen);
  *i.mutable_due_time() = ToProto(*due);
  i.set_payer(parts.size() == 3 && !parts[2].empty() ? parts[2] : std::string(payer));
  if (i.payer().empty()) {
    return Invalid(absl::StrCat("--instalment \"", spec,
                                "\" names no payer: add @PAYER or give --payer"));
  }
  return i;
}

// ------------------------------------------------------------------ commands

void AddMediationCommands(CLI::App& app, Globals& g, Action& action) {
  auto f = std::make_shared<Flags>();
  CLI::App* meeting = app.add_subcommand(
      "meeting", "mediation meetings (调解会) and joint case conferences (联席会商)");
  meeting->require_subcommand(1);

  // ---------------------------------------------------------------- convene
  CLI::App* convene = meeting->add_subcommand(
      "convene", "convene a meeting of a case and invite its participants");
  convene->add_option("case", f->case_id, "case id")->required();
  convene->add_option("--kind", f->kind, "mediation or joint")->required();
  convene->add_option("--title", f->title, "short title, no personal data")->required();
  convene->add_option("--start", f->start, "start: \"2026-12-01 09:30\" (Asia/Shanghai)")
      ->required();
  convene->add_option("--end", f->end, "end, after the start")->required();
  convene->add_option("--place", f->place, "where, e.g. 秦州区司法局三楼调解室")->required();
  convene->add_option("--agenda", f->agenda, "a point to discuss, repeatable, in order")
      ->allow_extra_args(false);
  InviteFlags(convene, *f);
  convene->callback([&g, &action, f] {
    action = [&g, f] {
      return RunCommand<v1::ConveneMeetingResponse>(
          g,
          [&](const std::string& rid) -> absl::StatusOr<v1::ConveneMeetingResponse> {
            v1::ConveneMeetingRequest req;
            req.set_request_id(rid);
            req.set_case_id(f->case_id);
            auto kind = Parse(MeetingKinds(), f->kind, "--kind", "MEETING_KIND_");
            if (!kind.ok()) return kind.status();
            req.set_kind(*kind);
            req.set_title(f->title);
            for (const auto& a : f->agenda) req.add_agenda(a);
            auto slot = SlotFlags(*f);
            if (!slot.ok()) return slot.status();
            *req.mutable_slot() = *slot;
            if (absl::Status s = AddInvitees(*f, req.mutable_invitees()); !s.ok()) return s;
            return Call(g, &Stub::ConveneMeeting, req);
          },
          [](const v1::ConveneMeetingResponse& r) {
            std::cout << "convened " << r.meeting().meeting_id() << "\n\n";
            PrintMeeting(r.meeting());
          });
    };
  });

  AddMeetingCommand<v1::InviteParticipantsRequest, v1::InviteParticipantsResponse>(
      meeting, g, action, f, "invite", "convener: invite more nodes or parties",
      &Stub::InviteParticipants,
      [](const Globals&, const Flags& f, v1::InviteParticipantsRequest* r) {
        return AddInvitees(f, r->mutable_invitees());
      },
      InviteFlags);

  AddMeetingCommand<v1::AnswerInvitationRequest, v1::AnswerInvitationResponse>(
      meeting, g, action, f, "answer",
      "answer an invitation: yours, or (convener) an outside party's with --invitee",
      &Stub::AnswerInvitation,
      [](const Globals&, const Flags& f, v1::AnswerInvitationRequest* r) -> absl::Status {
        auto answer = Parse(InvitationResponses(), f.response, "answer",
                            "INVITATION_RESPONSE_");
        if (!answer.ok()) return answer.status();
        if (*answer == v1::INVITATION_RESPONSE_PENDING) {
          return Invalid("answer: use accept, decline or propose");
        }
        r->set_response(*answer);
        r->set_invitee_id(f.invitee);
        r->set_note(f.note);
        const bool times = !f.start.empty() || !f.end.empty();
        if (*answer == v1::INVITATION_RESPONSE_PROPOSED_OTHER_TIME) {
          if (!times) return Invalid("propose needs --start and --end (and maybe --place)");
          auto slot = SlotFlags(f);
          if (!slot.ok()) return slot.status();
          *r->mutable_proposed_slot() = *slot;
        } else if (times || !f.place.empty()) {
          return Invalid("--start, --end and --place go only with propose");
        }
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("answer", f.response, "accept, decline or propose")->required();
        c->add_option("--invitee", f.invitee,
                      "the invitee (i2, ...) you answer for; default your own invitation");
        c->add_option("--note", f.note, "a note");
        c->add_option("--start", f.start, "with propose: the start you propose");
        c->add_option("--end", f.end, "with propose: the end you propose");
        c->add_option("--place", f.place, "with propose: the place you propose");
      });

  AddMeetingCommand<v1::RescheduleMeetingRequest, v1::RescheduleMeetingResponse>(
      meeting, g, action, f, "reschedule",
      "convener: move the meeting; every invitee answers afresh", &Stub::RescheduleMeeting,
      [](const Globals& g, const Flags& f, v1::RescheduleMeetingRequest* r) -> absl::Status {
        auto slot = SlotFlags(f);
        if (!slot.ok()) return slot.status();
        if (slot->place().empty()) {
          // Same place unless told otherwise.
          v1::GetMeetingRequest get;
          get.set_meeting_id(f.meeting_id);
          auto current = Call(g, &Stub::GetMeeting, get);
          if (!current.ok()) return current.status();
          slot->set_place(current->meeting().slot().place());
        }
        *r->mutable_slot() = *slot;
        r->set_reason(f.reason);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--start", f.start, "new start")->required();
        c->add_option("--end", f.end, "new end")->required();
        c->add_option("--place", f.place, "new place (default: the same)");
        c->add_option("--reason", f.reason, "why");
      });

  AddMeetingCommand<v1::CancelMeetingRequest, v1::CancelMeetingResponse>(
      meeting, g, action, f, "cancel", "convener: call the meeting off",
      &Stub::CancelMeeting,
      [](const Globals&, const Flags& f, v1::CancelMeetingRequest* r) {
        r->set_reason(f.reason);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--reason", f.reason, "why; the invitees are told")->required();
      });

  AddMeetingCommand<v1::RecordMeetingHeldRequest, v1::RecordMeetingHeldResponse>(
      meeting, g, action, f, "held", "convener: the meeting took place: who came, minutes",
      &Stub::RecordMeetingHeld,
      [](const Globals&, const Flags& f, v1::RecordMeetingHeldRequest* r) {
        for (const auto& a : f.attended) {
          if (!a.empty()) r->add_attended(a);
        }
        r->set_minutes(f.minutes);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--attended", f.attended, "invitee ids that came: i1,i2,...")
            ->delimiter(',')
            ->allow_extra_args(false);
        c->add_option("--minutes", f.minutes, "the minutes");
      });

  AddMeetingCommand<v1::RecordLiabilityRequest, v1::RecordLiabilityResponse>(
      meeting, g, action, f, "liability",
      "convener: the legal-responsibility analysis (责任分析)", &Stub::RecordLiability,
      [](const Globals&, const Flags& f, v1::RecordLiabilityRequest* r) -> absl::Status {
        for (const auto& spec : f.findings) {
          auto finding = ParseFindingSpec(spec);
          if (!finding.ok()) return finding.status();
          *r->add_findings() = *finding;
        }
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--finding", f.findings,
                      "NAME:AMOUNT:GROUND, repeatable; amount in yuan")
            ->required()
            ->allow_extra_args(false);
      });

  AddMeetingCommand<v1::RecordAgreementRequest, v1::RecordAgreementResponse>(
      meeting, g, action, f, "agree",
      "convener: the mediation agreement and its instalments (调解协议)",
      &Stub::RecordAgreement,
      [](const Globals&, const Flags& f, v1::RecordAgreementRequest* r) -> absl::Status {
        v1::Agreement* a = r->mutable_agreement();
        a->set_terms(f.terms);
        a->set_guarantor(f.guarantor);
        a->set_fallback_node(f.fallback);
        int64_t sum = 0;
        const absl::Time now = absl::Now();
        for (const auto& spec : f.instalments) {
          auto i = ParseInstalmentSpec(spec, f.payer, now);
          if (!i.ok()) return i.status();
          i->set_number(a->instalments_size() + 1);
          sum += i->amount_fen();
          *a->add_instalments() = *i;
        }
        if (f.total.empty()) {
          a->set_total_fen(sum);
        } else {
          auto total = AmountFlag("--total", f.total);
          if (!total.ok()) return total.status();
          a->set_total_fen(*total);
        }
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--terms", f.terms, "what was agreed")->required();
        c->add_option("--total", f.total, "the whole amount in yuan (default: the sum)");
        c->add_option("--instalment", f.instalments,
                      "AMOUNT@TIME[@PAYER], repeatable, in order; amount in yuan")
            ->required()
            ->allow_extra_args(false);
        c->add_option("--payer", f.payer, "who pays instalments that name no payer");
        c->add_option("--guarantor", f.guarantor, "who stands surety");
        c->add_option("--fallback", f.fallback,
                      "labour inspection or arbitration node a missed instalment goes to")
            ->required();
      });

  AddMeetingCommand<v1::RecordMediationFailedRequest, v1::RecordMediationFailedResponse>(
      meeting, g, action, f, "fail", "convener: the mediation ended without agreement",
      &Stub::RecordMediationFailed,
      [](const Globals&, const Flags& f, v1::RecordMediationFailedRequest* r) {
        r->set_reason(f.reason);
        r->set_next_step(f.next_step);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--reason", f.reason, "why")->required();
        c->add_option("--next-step", f.next_step, "what happens next, e.g. 申请劳动仲裁");
      });

  AddMeetingCommand<v1::RecordPaymentRequest, v1::RecordPaymentResponse>(
      meeting, g, action, f, "pay", "convener: money paid against an instalment",
      &Stub::RecordPayment,
      [](const Globals&, const Flags& f, v1::RecordPaymentRequest* r) -> absl::Status {
        r->set_instalment(f.instalment);
        auto fen = AmountFlag("--amount", f.amount);
        if (!fen.ok()) return fen.status();
        r->set_amount_fen(*fen);
        if (!f.paid_at.empty()) {
          auto t = TimeFlag("--paid-at", f.paid_at);
          if (!t.ok()) return t.status();
          *r->mutable_paid_time() = *t;
        }
        r->set_reference(f.reference);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--instalment", f.instalment, "the instalment's number")->required();
        c->add_option("--amount", f.amount, "paid, in yuan")->required();
        c->add_option("--paid-at", f.paid_at, "when (default now)");
        c->add_option("--reference", f.reference, "bank or receipt reference");
      });

  // ---------------------------------------------------------------- reads
  CLI::App* show = meeting->add_subcommand("show", "one meeting in full");
  show->add_option("meeting", f->meeting_id, "meeting id, e.g. CASE/m1")->required();
  show->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::GetMeetingResponse>(
          g,
          [&] {
            v1::GetMeetingRequest req;
            req.set_meeting_id(f->meeting_id);
            return Call(g, &Stub::GetMeeting, req);
          },
          [](const v1::GetMeetingResponse& r) { PrintMeeting(r.meeting()); });
    };
  });

  // A node lists only its own meetings, so `--node N` is the global flag:
  // acting as N lists N's.
  CLI::App* list = app.add_subcommand(
      "meetings",
      "meetings of a case (--case), or else those your node (--node) convened "
      "or is invited to, by start time");
  list->add_option("--case", f->case_id, "the meetings of this case");
  list->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::ListMeetingsResponse>(
          g,
          [&] {
            v1::ListMeetingsRequest req;
            req.set_case_id(f->case_id);
            return Call(g, &Stub::ListMeetings, req);
          },
          [](const v1::ListMeetingsResponse& r) {
            if (r.meetings_size() == 0) {
              std::cout << "no meetings\n";
              return;
            }
            std::cout << MeetingsTable(r.meetings()).Render();
          });
    };
  });
}

}  // namespace referral::refctl
