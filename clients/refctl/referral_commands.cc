#include "clients/refctl/referral_commands.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/referral_client.h"
#include "clients/refctl/context.h"
#include "clients/refctl/deadline_commands.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/table.h"
#include "clients/refctl/trace_picture.h"
#include "clients/refctl/units.h"
#include "common/digest.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/time_util.h"

namespace referral::refctl {
namespace {

using client::ReferralClient;
using google::protobuf::util::TimeUtil;

// Every flag of every referral command; only one command runs.
struct Flags {
  // case open
  std::string title, matter, area, channel = "hotline", project, amount, claimant;
  int workers = 0;
  std::vector<std::string> respondents;
  bool green = false;
  // ids
  std::string case_id, referral_id;
  // refer, redirect
  std::string to, purpose, priority, due;
  std::vector<std::string> attach;
  // steps
  std::string reason, note, outcome, by, until;
  std::vector<std::string> missing;
  // lists
  bool sent = false, received = false;
  std::string state;
  int limit = 0;
  // inbox, backlog
  bool follow = false, ack = false;
  uint64_t from = 0;
  std::string of;
  // trace
  std::string svg;
};

absl::StatusOr<std::unique_ptr<ReferralClient>> Connect(
    const Globals& g, client::ReferralClientOptions options = {}) {
  absl::StatusOr<std::optional<TlsFiles>> tls = TlsFor(g);
  if (!tls.ok()) return tls.status();
  options.timeout = Timeout(g);
  if (g.verbose) {
    std::cerr << "referral " << g.referral << " as " << g.node
              << (tls->has_value() ? absl::StrCat(" (mTLS, ", g.pki, ")")
                                   : std::string(" (plaintext)"))
              << "\n";
  }
  return ReferralClient::Connect(g.referral, g.node, *tls, std::move(options));
}

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

// A time flag's value (see ParseTimeArg), the flag named in the error.
absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     const std::string& text);

// An amount flag's value in fen, the flag named in the error.
absl::StatusOr<int64_t> AmountFlag(absl::string_view flag, const std::string& text) {
  absl::StatusOr<int64_t> fen = ParseYuanToFen(text);
  if (!fen.ok()) return Invalid(absl::StrCat(flag, ": ", fen.status().message()));
  return fen;
}

template <typename Enum>
absl::StatusOr<Enum> Parse(absl::Span<const Term<Enum>> table, const std::string& typed,
                           absl::string_view flag, absl::string_view enum_prefix = "") {
  if (const Term<Enum>* t = ParseTerm(table, typed, enum_prefix)) return t->value;
  return Invalid(absl::StrCat(flag, " \"", typed, "\": use one of ", KeysOf(table)));
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     const std::string& text) {
  absl::StatusOr<absl::Time> t = ParseTimeArg(text, absl::Now());
  if (!t.ok()) return Invalid(absl::StrCat(flag, ": ", t.status().message()));
  return ToProto(*t);
}

bool IsSet(const google::protobuf::Timestamp& ts) {
  return ts.seconds() != 0 || ts.nanos() != 0;
}

std::string When(const google::protobuf::Timestamp& ts) {
  return IsSet(ts) ? FormatShanghai(TimeOf(ts)) : "";
}

std::string Yuan(int64_t fen) {
  return fen > 0 ? absl::StrCat(FormatFen(fen), " 元") : "";
}

// --attach NAME=FILE: the file's SHA-256; its absolute path as the URI.
absl::Status AddAttachments(const std::vector<std::string>& specs,
                            google::protobuf::RepeatedPtrField<v1::Attachment>* out) {
  for (const std::string& spec : specs) {
    auto nf = ParseAttachSpec(spec);
    if (!nf.ok()) return nf.status();
    absl::StatusOr<std::string> digest = FileSha256(nf->second);
    if (!digest.ok()) return digest.status();
    v1::Attachment* a = out->Add();
    a->set_name(nf->first);
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(nf->second, ec);
    a->set_uri(absl::StrCat("file://", ec ? nf->second : abs.string()));
    a->set_sha256(*digest);
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------ output

std::string Parties(const google::protobuf::RepeatedPtrField<v1::Party>& parties) {
  std::vector<std::string> lines;
  for (const v1::Party& p : parties) {
    std::string line = absl::StrCat(Label(PartyRoles(), p.role()), "  ", p.name());
    if (p.head_count() > 0) absl::StrAppend(&line, "  (", p.head_count(), "人)");
    // As the broker showed them: in clear, or masked for a reader without a need.
    if (!p.contact().empty()) absl::StrAppend(&line, "  ", p.contact());
    if (!p.id_number().empty()) absl::StrAppend(&line, "  身份证 ", p.id_number());
    lines.push_back(line);
  }
  return absl::StrJoin(lines, "\n");
}

std::string AttachmentLines(
    const google::protobuf::RepeatedPtrField<v1::Attachment>& list) {
  std::vector<std::string> lines;
  for (const v1::Attachment& a : list) {
    lines.push_back(absl::StrCat(a.name(), "  sha256:", HexOf(a.sha256()).substr(0, 16),
                                 "…  ", a.uri()));
  }
  return absl::StrJoin(lines, "\n");
}

std::string StateWithHold(const v1::Referral& r) {
  std::string s = Label(ReferralStates(), r.state());
  if (r.state() == v1::REFERRAL_STATE_ON_HOLD &&
      r.held_from() != v1::REFERRAL_STATE_UNSPECIFIED) {
    absl::StrAppend(&s, " (resumes to ", Label(ReferralStates(), r.held_from()), ")");
  }
  return s;
}

std::string ReferralDetail(const v1::Referral& r) {
  return KeyValues({
      {"转介 REFERRAL", r.referral_id()},
      {"案件 CASE", r.case_id()},
      {"转出 FROM", r.from_node()},
      {"接收 TO", r.to_node()},
      {"状态 STATE", StateWithHold(r)},
      {"事由 PURPOSE", r.purpose()},
      {"事项 MATTER",
       r.matter() != v1::MATTER_UNSPECIFIED ? Label(Matters(), r.matter()) : ""},
      {"优先级 PRIORITY",
       r.priority() != v1::PRIORITY_UNSPECIFIED ? Label(Priorities(), r.priority()) : ""},
      {"期限 DUE", When(r.due_time())},
      {"附件 ATTACHMENTS", AttachmentLines(r.attachments())},
      {"需补充 MISSING", absl::StrJoin(r.missing_items(), "、")},
      {"结果 OUTCOME",
       r.outcome() != v1::OUTCOME_UNSPECIFIED ? Label(Outcomes(), r.outcome()) : ""},
      {"追回金额 RECOVERED", Yuan(r.amount_recovered_fen())},
      {"原因 REASON", r.reason_code()},
      {"备注 NOTE", r.note()},
      {"原转介 PARENT", r.parent_referral_id()},
      {"再转至 CHILD", r.child_referral_id()},
      {"创建 CREATED", When(r.create_time())},
      {"更新 UPDATED", When(r.update_time())},
  });
}

// After a step: "CASE/r1  已受理 accepted  qinzhou.justice → qinzhou.labor-inspection",
// then what the step set.
void PrintStep(const v1::Referral& r, bool attachments = false) {
  std::cout << r.referral_id() << "  " << StateWithHold(r) << "  " << r.from_node()
            << " → " << r.to_node() << "\n";
  std::string extra = KeyValues({
      {"  需补充 MISSING", absl::StrJoin(r.missing_items(), "、")},
      {"  结果 OUTCOME",
       r.outcome() != v1::OUTCOME_UNSPECIFIED ? Label(Outcomes(), r.outcome()) : ""},
      {"  追回金额 RECOVERED", Yuan(r.amount_recovered_fen())},
      {"  原因 REASON", r.reason_code()},
      {"  附件 ATTACHMENTS", attachments ? AttachmentLines(r.attachments()) : ""},
      {"  再转至 CHILD", r.child_referral_id()},
  });
  std::cout << extra;
}

Table ReferralsTable(const google::protobuf::RepeatedPtrField<v1::Referral>& list) {
  Table t({"转介 REFERRAL", "状态 STATE", "转出 FROM", "接收 TO", "优先级 PRIORITY",
           "期限 DUE", "更新 UPDATED", "事由 PURPOSE"});
  for (const v1::Referral& r : list) {
    t.AddRow({r.referral_id(), Label(ReferralStates(), r.state()), r.from_node(),
              r.to_node(),
              r.priority() != v1::PRIORITY_UNSPECIFIED
                  ? std::string(FindTerm(Priorities(), r.priority())
                                    ? FindTerm(Priorities(), r.priority())->zh
                                    : "?")
                  : "",
              IsSet(r.due_time())
                  ? absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(r.due_time()), Shanghai())
                  : "",
              When(r.update_time()), r.purpose()});
  }
  return t;
}

void PrintCase(const v1::Case& c) {
  const v1::CaseOpened& o = c.opened();
  std::cout << KeyValues({
      {"案件 CASE", c.case_id()},
      {"标题 TITLE", o.title()},
      {"承办 OWNER", o.owning_node()},
      {"事项 MATTER", o.matter() != v1::MATTER_UNSPECIFIED ? Label(Matters(), o.matter()) : ""},
      {"渠道 CHANNEL",
       o.channel() != v1::INTAKE_CHANNEL_UNSPECIFIED ? Label(IntakeChannels(), o.channel())
                                                     : ""},
      {"绿色通道 GREEN", o.green_channel() ? "是 yes" : ""},
      {"辖区 AREA", o.jurisdiction()},
      {"项目 PROJECT", o.project()},
      {"请求金额 CLAIMED", Yuan(o.amount_claimed_fen())},
      {"当事人 PARTIES", Parties(o.parties())},
      {"版本 VERSION", absl::StrCat(c.version())},
      {"立案 OPENED", When(c.create_time())},
      {"更新 UPDATED", When(c.update_time())},
  });
  if (c.referrals_size() > 0) {
    std::cout << "\n" << ReferralsTable(c.referrals()).Render();
  }
}

// Pads `s` to `width` terminal cells.
std::string Pad(const std::string& s, size_t width) {
  size_t w = DisplayWidth(s);
  return w >= width ? s + " " : s + std::string(width - w, ' ');
}

std::vector<std::string> InboxRow(const v1::InboxItem& item) {
  const v1::Event& e = item.event();
  // A coordination item (meeting, deadline, escalation) names its case.
  const bool referral = !item.referral_id().empty();
  return {absl::StrCat(e.global_position()), FormatShanghai(EventTime(e)),
          referral ? item.referral_id() : e.subject(), EventZh(e) + " " + EventType(e),
          referral ? Label(ReferralStates(), item.state()) : "", e.source(),
          Summary(e)};
}

const std::vector<std::string> kInboxHeader = {
    "位置 POS", "时间 TIME (Asia/Shanghai)", "转介 REFERRAL", "事件 EVENT",
    "状态 STATE", "来自 FROM", "摘要 SUMMARY"};

// A row of the live inbox, in fixed columns (widths cannot be known ahead).
std::string InboxLine(const std::vector<std::string>& row) {
  static const size_t kWidths[] = {10, 22, 36, 30, 20, 26};
  std::string out;
  for (size_t i = 0; i < row.size(); ++i) {
    out += i + 1 < row.size() ? Pad(row[i], kWidths[i]) : row[i];
  }
  return out;
}

// ------------------------------------------------------------------ running

// A command: builds its request with a request id and calls the broker.
template <typename Response>
using CommandCall =
    std::function<absl::StatusOr<Response>(ReferralClient&, const std::string& request_id)>;

template <typename Response>
int RunCommand(const Globals& g, const CommandCall<Response>& call,
               const std::function<void(const Response&)>& print) {
  absl::StatusOr<std::string> rid = CommandRequestId(g);
  if (!rid.ok()) return Fail(rid.status(), {"referral", &g});
  auto client = Connect(g);
  if (!client.ok()) return Fail(client.status(), {"referral", &g});
  absl::StatusOr<Response> r = call(**client, *rid);
  if (!r.ok()) return Fail(r.status(), {"referral", &g, *rid});
  if (g.output == "json") {
    std::cout << Json(*r) << "\n";
  } else {
    print(*r);
  }
  return 0;
}

template <typename Response>
int RunRead(const Globals& g,
            const std::function<absl::StatusOr<Response>(ReferralClient&)>& call,
            const std::function<void(const Response&)>& print) {
  auto client = Connect(g);
  if (!client.ok()) return Fail(client.status(), {"referral", &g});
  absl::StatusOr<Response> r = call(**client);
  if (!r.ok()) return Fail(r.status(), {"referral", &g});
  if (g.output == "json") {
    std::cout << Json(*r) << "\n";
  } else {
    print(*r);
  }
  return 0;
}

// A lifecycle step on one referral whose response is {Referral referral}.
template <typename Request, typename Response>
void AddStep(CLI::App& app, Globals& g, Action& action, std::shared_ptr<Flags> f,
             const std::string& name, const std::string& help,
             absl::StatusOr<Response> (ReferralClient::*method)(const Request&),
             std::function<absl::Status(const Flags&, Request*)> fill,
             std::function<void(CLI::App*, Flags&)> flags,
             bool show_attachments = false) {
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("referral", f->referral_id, "referral id, e.g. CASE/r1")->required();
  if (flags) flags(cmd, *f);
  cmd->callback([&g, &action, f, method, fill, show_attachments] {
    action = [&g, f, method, fill, show_attachments] {
      return RunCommand<Response>(
          g,
          [&](ReferralClient& c, const std::string& rid) -> absl::StatusOr<Response> {
            Request req;
            req.set_request_id(rid);
            req.set_referral_id(f->referral_id);
            if (fill) {
              if (absl::Status s = fill(*f, &req); !s.ok()) return s;
            }
            return (c.*method)(req);
          },
          [show_attachments](const Response& r) {
            PrintStep(r.referral(), show_attachments);
          });
    };
  });
}

}  // namespace

void AddReferralCommands(CLI::App& app, Globals& g, Action& action) {
  auto f = std::make_shared<Flags>();

  // ---------------------------------------------------------------- cases
  CLI::App* case_cmd = app.add_subcommand("case", "open a case or show one");
  case_cmd->require_subcommand(1);

  CLI::App* open = case_cmd->add_subcommand("open", "open a case owned by your node");
  open->add_option("--title", f->title, "short title, no personal data")->required();
  open->add_option("--matter", f->matter, "what it is about: " + KeysOf(Matters()))
      ->required();
  open->add_option("--area", f->area, "jurisdiction, e.g. gansu/tianshui/qinzhou/yuquan");
  open->add_option("--channel", f->channel,
                   "how it arrived: " + KeysOf(IntakeChannels()) + " (default hotline)");
  open->add_option("--project", f->project, "the construction project");
  open->add_option("--amount", f->amount, "amount claimed in yuan, e.g. 460000 or 1234.50");
  open->add_option("--workers", f->workers, "a group of N workers as claimant");
  open->add_option("--claimant", f->claimant,
                   "name of the worker group (default \"N名农民工\"), or one worker as "
                   "\"NAME:CONTACT:ID_NUMBER\" (contact and ID number may be empty)");
  open->add_option("--respondent", f->respondents,
                   "ROLE=NAME, repeatable; roles: " + KeysOf(PartyRoles()))
      ->allow_extra_args(false);
  open->add_flag("--green", f->green,
                 "green channel (绿色通道): priority acceptance, review, assignment");
  open->callback([&g, &action, f] {
    action = [&g, f] {
      return RunCommand<v1::OpenCaseResponse>(
          g,
          [&](ReferralClient& c,
              const std::string& rid) -> absl::StatusOr<v1::OpenCaseResponse> {
            v1::OpenCaseRequest req;
            req.set_request_id(rid);
            req.set_title(f->title);
            auto matter = Parse(Matters(), f->matter, "--matter", "MATTER_");
            if (!matter.ok()) return matter.status();
            req.set_matter(*matter);
            auto channel =
                Parse(IntakeChannels(), f->channel, "--channel", "INTAKE_CHANNEL_");
            if (!channel.ok()) return channel.status();
            req.set_channel(*channel);
            req.set_jurisdiction(f->area);
            req.set_project(f->project);
            req.set_green_channel(f->green);
            if (!f->amount.empty()) {
              auto fen = AmountFlag("--amount", f->amount);
              if (!fen.ok()) return fen.status();
              req.set_amount_claimed_fen(*fen);
            }
            if (f->workers < 0) return Invalid("--workers must be at least 1");
            // "NAME:CONTACT:ID_NUMBER" is one worker; a plain name, the group's.
            const bool one_worker = absl::StrContains(f->claimant, ':');
            if (f->workers > 0) {
              v1::Party* p = req.add_parties();
              p->set_role(v1::PARTY_ROLE_WORKER_GROUP);
              p->set_head_count(f->workers);
              p->set_name(f->claimant.empty() || one_worker
                              ? absl::StrCat(f->workers, "名农民工")
                              : f->claimant);
            } else if (!f->claimant.empty() && !one_worker) {
              return Invalid(
                  "--claimant names a worker group: give --workers N too, or name one "
                  "worker as \"NAME:CONTACT:ID_NUMBER\"");
            }
            if (one_worker) {
              std::vector<std::string> parts = absl::StrSplit(f->claimant, ':');
              if (parts.size() > 3 || parts[0].empty()) {
                return Invalid(
                    "--claimant \"NAME:CONTACT:ID_NUMBER\": a name, then a telephone or "
                    "address, then the 18-character ID number (either may be empty)");
              }
              v1::Party* p = req.add_parties();
              p->set_role(v1::PARTY_ROLE_WORKER);
              p->set_name(parts[0]);
              if (parts.size() > 1) p->set_contact(parts[1]);
              if (parts.size() > 2) p->set_id_number(parts[2]);
            }
            for (const std::string& spec : f->respondents) {
              auto rn = ParseKeyValue(spec, "--respondent");
              if (!rn.ok()) return rn.status();
              auto role = Parse(PartyRoles(), rn->first, "--respondent role",
                                "PARTY_ROLE_");
              if (!role.ok()) return role.status();
              v1::Party* p = req.add_parties();
              p->set_role(*role);
              p->set_name(rn->second);
            }
            return c.OpenCase(req);
          },
          [](const v1::OpenCaseResponse& r) {
            std::cout << "opened " << r.case_().case_id() << "\n\n";
            PrintCase(r.case_());
          });
    };
  });

  CLI::App* show = case_cmd->add_subcommand("show", "one case with its referrals");
  show->add_option("case", f->case_id, "case id, e.g. qinzhou.justice:2026-000001")
      ->required();
  show->add_option("--purpose", f->purpose,
                   "investigators: why you read the case (recorded for the auditors)");
  show->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::GetCaseResponse>(
          g,
          [&](ReferralClient& c) {
            v1::GetCaseRequest req;
            req.set_case_id(f->case_id);
            req.set_purpose(f->purpose);
            return c.GetCase(req);
          },
          [](const v1::GetCaseResponse& r) { PrintCase(r.case_()); });
    };
  });

  CLI::App* cases = app.add_subcommand("cases", "cases your node is party to, newest first");
  cases->add_option("--limit", f->limit, "at most this many (default 50)");
  cases->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::ListCasesResponse>(
          g,
          [&](ReferralClient& c) {
            v1::ListCasesRequest req;
            req.set_page_size(f->limit);
            return c.ListCases(req);
          },
          [](const v1::ListCasesResponse& r) {
            Table t({"案件 CASE", "标题 TITLE", "事项 MATTER", "承办 OWNER", "绿色 GREEN",
                     "请求金额(元) CLAIMED", "转介 REFERRALS", "更新 UPDATED"});
            for (const v1::Case& c : r.cases()) {
              const v1::CaseOpened& o = c.opened();
              const auto* m = FindTerm(Matters(), o.matter());
              t.AddRow({c.case_id(), o.title(), m ? std::string(m->zh) : "",
                        o.owning_node(), o.green_channel() ? "是" : "",
                        o.amount_claimed_fen() > 0 ? FormatFen(o.amount_claimed_fen()) : "",
                        absl::StrCat(c.referrals_size()), When(c.update_time())});
            }
            std::cout << t.Render();
          });
    };
  });

  CLI::App* trace = app.add_subcommand("trace", "a case's timeline across agencies");
  trace->add_option("case", f->case_id, "case id")->required();
  trace->add_option("--svg", f->svg,
                    "also draw the case as a swimlane picture into this file (-o svg "
                    "prints it instead)");
  trace->add_option("--purpose", f->purpose,
                    "investigators: why you trace the case, e.g. a supervision file "
                    "number (recorded for the auditors)");
  trace->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::TraceCaseResponse>(
          g,
          [&](ReferralClient& c) -> absl::StatusOr<v1::TraceCaseResponse> {
            v1::TraceCaseRequest req;
            req.set_case_id(f->case_id);
            req.set_purpose(f->purpose);
            absl::StatusOr<v1::TraceCaseResponse> r = c.TraceCase(req);
            if (r.ok() && !f->svg.empty()) {
              if (absl::Status s = WriteCaseSvg(g, f->case_id, r->events(), f->svg); !s.ok()) {
                return s;
              }
            }
            return r;
          },
          [&g, f](const v1::TraceCaseResponse& r) {
            if (g.output == "svg") {
              std::cout << CaseSvg(g, f->case_id, r.events());
              return;
            }
            std::cout << f->case_id << "\n";
            Table t({"序 SEQ", "时间 TIME (Asia/Shanghai)", "间隔 SINCE", "机构 NODE",
                     "事件 EVENT", "TYPE", "摘要 SUMMARY"});
            for (const TimelineRow& row : Timeline(r.events())) {
              t.AddRow({row.seq, row.time, row.gap, row.node, row.event_zh,
                        row.event_type, row.summary});
            }
            std::cout << t.Render();
            if (r.events_size() > 1) {
              absl::Duration total = EventTime(r.events(r.events_size() - 1)) -
                                     EventTime(r.events(0));
              std::cout << r.events_size() << " events over " << FormatGap(total).substr(1)
                        << "\n";
            }
            for (const std::string& line : OverdueLines(r.events(), absl::Now())) {
              std::cout << line << "\n";
            }
          });
    };
  });

  // ---------------------------------------------------------------- refer
  CLI::App* refer = app.add_subcommand("refer", "send a referral of a case to another node");
  refer->add_option("case", f->case_id, "case id")->required();
  refer->add_option("--to", f->to, "the addressee node, e.g. qinzhou.labor-inspection")
      ->required();
  refer->add_option("--purpose", f->purpose, "what you ask of it")->required();
  refer->add_option("--matter", f->matter, "what it is about (default: the case's)");
  refer->add_option("--priority", f->priority, "routine, urgent or green");
  refer->add_option("--due", f->due,
                    "answer needed by: 2026-12-01T17:00+08:00, 2026-12-01 or +3d");
  refer->add_option("--attach", f->attach, "NAME=FILE, repeatable: material by its SHA-256")
      ->allow_extra_args(false);
  refer->callback([&g, &action, f] {
    action = [&g, f] {
      return RunCommand<v1::SendReferralResponse>(
          g,
          [&](ReferralClient& c,
              const std::string& rid) -> absl::StatusOr<v1::SendReferralResponse> {
            v1::SendReferralRequest req;
            req.set_request_id(rid);
            req.set_case_id(f->case_id);
            req.set_to_node(f->to);
            req.set_purpose(f->purpose);
            if (!f->matter.empty()) {
              auto m = Parse(Matters(), f->matter, "--matter", "MATTER_");
              if (!m.ok()) return m.status();
              req.set_matter(*m);
            }
            if (!f->priority.empty()) {
              std::string p = f->priority == "green_channel" ? "green" : f->priority;
              auto pr = Parse(Priorities(), p, "--priority", "PRIORITY_");
              if (!pr.ok()) return pr.status();
              req.set_priority(*pr);
            }
            if (!f->due.empty()) {
              auto t = TimeFlag("--due", f->due);
              if (!t.ok()) return t.status();
              *req.mutable_due_time() = *t;
            }
            if (absl::Status s = AddAttachments(f->attach, req.mutable_attachments());
                !s.ok()) {
              return s;
            }
            return c.SendReferral(req);
          },
          [](const v1::SendReferralResponse& r) {
            PrintStep(r.referral(), /*attachments=*/true);
          });
    };
  });

  // ---------------------------------------------------------------- steps
  AddStep<v1::ReceiveReferralRequest, v1::ReceiveReferralResponse>(
      app, g, action, f, "receive", "addressee: claim a referral for review (签收)",
      &ReferralClient::ReceiveReferral, nullptr, nullptr);
  AddStep<v1::AcceptReferralRequest, v1::AcceptReferralResponse>(
      app, g, action, f, "accept", "addressee: accept, you will act (受理)",
      &ReferralClient::AcceptReferral,
      [](const Flags& f, v1::AcceptReferralRequest* r) {
        r->set_note(f.note);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) { c->add_option("--note", f.note, "a note"); });
  AddStep<v1::RejectReferralRequest, v1::RejectReferralResponse>(
      app, g, action, f, "reject", "addressee: decline with a reason code (不予受理)",
      &ReferralClient::RejectReferral,
      [](const Flags& f, v1::RejectReferralRequest* r) {
        r->set_reason_code(f.reason);
        r->set_note(f.note);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--reason", f.reason, "reason code, e.g. out_of_jurisdiction")
            ->required();
        c->add_option("--note", f.note, "a note");
      });
  AddStep<v1::ReturnReferralRequest, v1::ReturnReferralResponse>(
      app, g, action, f, "return",
      "addressee: return to the sender for more material (退回补正)",
      &ReferralClient::ReturnReferral,
      [](const Flags& f, v1::ReturnReferralRequest* r) -> absl::Status {
        for (const auto& m : f.missing) r->add_missing_items(m);
        if (!f.by.empty()) {
          auto t = TimeFlag("--by", f.by);
          if (!t.ok()) return t.status();
          *r->mutable_resubmit_by() = *t;
        }
        r->set_note(f.note);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--missing", f.missing, "a missing item, repeatable")
            ->required()
            ->allow_extra_args(false);
        c->add_option("--by", f.by, "resubmit by: 2026-12-01, +7d, ...");
        c->add_option("--note", f.note, "a note");
      });
  AddStep<v1::ResubmitReferralRequest, v1::ResubmitReferralResponse>(
      app, g, action, f, "resubmit", "sender: resubmit a returned referral with material",
      &ReferralClient::ResubmitReferral,
      [](const Flags& f, v1::ResubmitReferralRequest* r) {
        r->set_note(f.note);
        return AddAttachments(f.attach, r->mutable_attachments());
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--attach", f.attach, "NAME=FILE, repeatable")->allow_extra_args(false);
        c->add_option("--note", f.note, "a note");
      },
      /*show_attachments=*/true);
  {
    CLI::App* redirect = app.add_subcommand(
        "redirect", "addressee: decline and send it on to the right node (再转)");
    redirect->add_option("referral", f->referral_id, "referral id")->required();
    redirect->add_option("--to", f->to, "the right node")->required();
    redirect->add_option("--reason", f->reason, "why that node is right")->required();
    redirect->callback([&g, &action, f] {
      action = [&g, f] {
        return RunCommand<v1::RedirectReferralResponse>(
            g,
            [&](ReferralClient& c, const std::string& rid) {
              v1::RedirectReferralRequest req;
              req.set_request_id(rid);
              req.set_referral_id(f->referral_id);
              req.set_to_node(f->to);
              req.set_reason(f->reason);
              return c.RedirectReferral(req);
            },
            [](const v1::RedirectReferralResponse& r) {
              PrintStep(r.referral());
              std::cout << "new referral:\n";
              PrintStep(r.child());
            });
      };
    });
  }
  AddStep<v1::StartReferralRequest, v1::StartReferralResponse>(
      app, g, action, f, "start", "addressee: work starts (办理中)",
      &ReferralClient::StartReferral, nullptr, nullptr);
  AddStep<v1::HoldReferralRequest, v1::HoldReferralResponse>(
      app, g, action, f, "hold", "addressee: pause (中止)", &ReferralClient::HoldReferral,
      [](const Flags& f, v1::HoldReferralRequest* r) -> absl::Status {
        r->set_reason(f.reason);
        if (!f.until.empty()) {
          auto t = TimeFlag("--until", f.until);
          if (!t.ok()) return t.status();
          *r->mutable_until() = *t;
        }
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--reason", f.reason, "what it waits for")->required();
        c->add_option("--until", f.until, "expected end: 2026-12-01, +7d, ...");
      });
  AddStep<v1::ResumeReferralRequest, v1::ResumeReferralResponse>(
      app, g, action, f, "resume", "addressee: resume from a hold",
      &ReferralClient::ResumeReferral, nullptr, nullptr);
  AddStep<v1::CompleteReferralRequest, v1::CompleteReferralResponse>(
      app, g, action, f, "complete", "addressee: done, with an outcome (办结)",
      &ReferralClient::CompleteReferral,
      [](const Flags& f, v1::CompleteReferralRequest* r) -> absl::Status {
        auto o = Parse(Outcomes(), f.outcome, "--outcome", "OUTCOME_");
        if (!o.ok()) return o.status();
        r->set_outcome(*o);
        if (!f.amount.empty()) {
          auto fen = AmountFlag("--amount", f.amount);
          if (!fen.ok()) return fen.status();
          r->set_amount_recovered_fen(*fen);
        }
        r->set_note(f.note);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--outcome", f.outcome, KeysOf(Outcomes()))->required();
        c->add_option("--amount", f.amount, "amount recovered, in yuan");
        c->add_option("--note", f.note, "a note");
      });
  AddStep<v1::FailReferralRequest, v1::FailReferralResponse>(
      app, g, action, f, "fail", "addressee: could not be done (未能办结)",
      &ReferralClient::FailReferral,
      [](const Flags& f, v1::FailReferralRequest* r) {
        r->set_reason_code(f.reason);
        r->set_note(f.note);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--reason", f.reason, "reason code, e.g. respondent_missing")
            ->required();
        c->add_option("--note", f.note, "a note");
      });
  AddStep<v1::CancelReferralRequest, v1::CancelReferralResponse>(
      app, g, action, f, "cancel", "sender: withdraw a referral (撤回)",
      &ReferralClient::CancelReferral,
      [](const Flags& f, v1::CancelReferralRequest* r) {
        r->set_reason(f.reason);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) { c->add_option("--reason", f.reason, "why"); });

  // ---------------------------------------------------------------- reads
  CLI::App* one = app.add_subcommand("referral", "one referral in full");
  one->add_option("referral", f->referral_id, "referral id, e.g. CASE/r1")->required();
  one->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::GetReferralResponse>(
          g,
          [&](ReferralClient& c) {
            v1::GetReferralRequest req;
            req.set_referral_id(f->referral_id);
            return c.GetReferral(req);
          },
          [](const v1::GetReferralResponse& r) {
            std::cout << ReferralDetail(r.referral());
          });
    };
  });

  CLI::App* list = app.add_subcommand("referrals", "referrals your node sent or received");
  list->add_flag("--sent", f->sent, "only those you sent");
  list->add_flag("--received", f->received, "only those sent to you");
  list->add_option("--state", f->state, "only in this state: " + KeysOf(ReferralStates()));
  list->add_option("--limit", f->limit, "at most this many (default 100)");
  list->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::ListReferralsResponse>(
          g,
          [&](ReferralClient& c) -> absl::StatusOr<v1::ListReferralsResponse> {
            v1::ListReferralsRequest req;
            if (f->sent && f->received) {
              return Invalid("--sent and --received: give one, or neither for both");
            }
            req.set_role(f->sent       ? v1::REFERRAL_ROLE_SENT
                         : f->received ? v1::REFERRAL_ROLE_RECEIVED
                                       : v1::REFERRAL_ROLE_UNSPECIFIED);
            if (!f->state.empty()) {
              auto s = Parse(ReferralStates(), f->state, "--state", "REFERRAL_STATE_");
              if (!s.ok()) return s.status();
              req.set_state(*s);
            }
            req.set_page_size(f->limit);
            return c.ListReferrals(req);
          },
          [](const v1::ListReferralsResponse& r) {
            std::cout << ReferralsTable(r.referrals()).Render();
          });
    };
  });

  CLI::App* backlog = app.add_subcommand("backlog", "how far behind your inbox is");
  backlog->add_option("--of", f->of, "another node's backlog (supervising nodes)");
  backlog->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::GetBacklogResponse>(
          g,
          [&](ReferralClient& c) {
            v1::GetBacklogRequest req;
            req.set_node(f->of);
            return c.GetBacklog(req);
          },
          [](const v1::GetBacklogResponse& r) {
            std::string oldest;
            if (IsSet(r.oldest_unacknowledged_time())) {
              absl::Time t = TimeOf(r.oldest_unacknowledged_time());
              oldest = absl::StrCat(FormatShanghai(t), "  (",
                                    FormatGap(absl::Now() - t).substr(1), " ago)");
            }
            std::cout << KeyValues({
                {"机构 NODE", r.node()},
                {"已确认至 CURSOR", absl::StrCat(r.cursor())},
                {"未确认 UNACKNOWLEDGED", absl::StrCat(r.unacknowledged())},
                {"最早未确认 OLDEST", oldest},
            });
          });
    };
  });

  CLI::App* inbox = app.add_subcommand(
      "inbox", "your inbox after your cursor: referrals to you and changes to yours");
  inbox->add_flag("--follow,-f", f->follow, "keep following live (Ctrl-C stops)");
  inbox->add_flag("--ack", f->ack, "acknowledge each item once printed");
  inbox->add_option("--from", f->from, "first global position (default: after your cursor)");
  inbox->callback([&g, &action, f] {
    action = [&g, f]() -> int {
      client::ReferralClientOptions o;
      if (!f->follow) {
        // Catch up and stop: give up rather than wait for a dead service.
        o.max_reconnects = o.max_attempts;
        o.stream_timeout = Timeout(g) * 3;
      } else {
        o.on_reconnect = [](const absl::Status& s) {
          std::cerr << "-- connection lost"
                    << (s.ok() ? std::string()
                               : absl::StrCat(" (", absl::StatusCodeToString(s.code()),
                                              ": ", s.message(), ")"))
                    << "; reconnecting --" << std::endl;
        };
      }
      auto client = Connect(g, o);
      if (!client.ok()) return Fail(client.status(), {"referral", &g});
      ReferralClient& c = **client;
      const bool json = g.output == "json";
      Table table(kInboxHeader);
      size_t items = 0;
      uint64_t last = 0;
      absl::Status ack_error;
      auto ack = [&](uint64_t position) {
        auto r = c.Ack(position);
        if (!r.ok()) ack_error = r.status();
        return r.ok();
      };
      if (f->follow && !json) std::cout << InboxLine(kInboxHeader) << std::endl;
      absl::Status s = c.FollowInbox(
          f->from,
          [&](const v1::InboxItem& item) {
            ++items;
            last = item.event().global_position();
            if (json) {
              std::cout << JsonLine(item) << std::endl;
            } else if (f->follow) {
              std::cout << InboxLine(InboxRow(item)) << std::endl;
            } else {
              table.AddRow(InboxRow(item));
            }
            // Table mode without --follow prints at the end: ack then.
            if (f->ack && (json || f->follow)) return ack(last);
            return true;
          },
          [&](uint64_t position) {
            if (!f->follow) return false;
            if (!json) {
              std::cerr << "-- caught up at position " << position
                        << "; following live (Ctrl-C stops) --" << std::endl;
            }
            return true;
          });
      if (!s.ok()) return Fail(s, {"referral", &g});
      if (!f->follow && !json) {
        if (items == 0) {
          std::cout << "inbox empty: nothing after your cursor\n";
        } else {
          std::cout << table.Render();
          if (f->ack && ack(last)) {
            std::cerr << "acknowledged up to position " << last << "\n";
          }
        }
      }
      if (!ack_error.ok()) return Fail(ack_error, {"referral", &g});
      return 0;
    };
  });
}

void AddContextCommands(CLI::App& app, Globals& g, Action& action) {
  CLI::App* ctx = app.add_subcommand(
      "context", "saved defaults: node, addresses, PKI directory (" + ContextPath() + ")");
  ctx->require_subcommand(1);
  CLI::App* set = ctx->add_subcommand(
      "set",
      "save the global flags given here, e.g. refctl context set --node "
      "qinzhou.justice --pki var/pki");
  set->callback([&app, &g, &action] {
    action = [&app, &g]() -> int {
      const std::string path = ContextPath();
      absl::StatusOr<Context> saved = LoadContext(path);
      if (!saved.ok()) return Fail(saved.status());
      Context given;
      auto take = [&](const char* flag, const std::string& value,
                      std::optional<std::string>* field) {
        if (app.get_option(flag)->count() > 0) *field = value;
      };
      take("--node", g.node, &given.node);
      take("--referral", g.referral, &given.referral);
      take("--caselog", g.caselog, &given.caselog);
      take("--directory", g.directory, &given.directory);
      if (app.get_option("--pki")->count() > 0) {
        std::error_code ec;
        auto abs = std::filesystem::absolute(g.pki, ec);
        given.pki = ec ? g.pki : abs.lexically_normal().string();
      }
      if (app.get_option("--plaintext")->count() > 0) given.plaintext = g.plaintext;
      if (given == Context{}) {
        std::cerr << "error: nothing to save: give one or more of --node, --referral, "
                     "--caselog, --directory, --pki, --plaintext[=false]\n";
        return 2;
      }
      Context merged = Merge(*saved, given);
      if (absl::Status s = SaveContext(path, merged); !s.ok()) return Fail(s);
      std::cout << "saved " << path << "\n" << ContextJson(merged) << "\n";
      return 0;
    };
  });
  CLI::App* show = ctx->add_subcommand("show", "the saved context and what is in effect");
  show->callback([&g, &action] {
    action = [&g]() -> int {
      const std::string path = ContextPath();
      absl::StatusOr<Context> saved = LoadContext(path);
      if (!saved.ok()) return Fail(saved.status());
      if (g.output == "json") {
        std::cout << ContextJson(*saved) << "\n";
        return 0;
      }
      std::cout << "saved in " << path << ":\n"
                << KeyValues({{"  node", saved->node.value_or("")},
                              {"  referral", saved->referral.value_or("")},
                              {"  caselog", saved->caselog.value_or("")},
                              {"  directory", saved->directory.value_or("")},
                              {"  pki", saved->pki.value_or("")},
                              {"  plaintext", saved->plaintext.has_value()
                                                  ? (*saved->plaintext ? "true" : "false")
                                                  : ""}})
                << "in effect (flags > environment > saved > defaults):\n"
                << KeyValues({{"  node", g.node.empty() ? "(none)" : g.node},
                              {"  referral", g.referral},
                              {"  caselog", g.caselog},
                              {"  directory", g.directory},
                              {"  pki", g.pki},
                              {"  transport", g.plaintext ? "plaintext" : "mTLS"}});
      return 0;
    };
  });
}

}  // namespace referral::refctl
