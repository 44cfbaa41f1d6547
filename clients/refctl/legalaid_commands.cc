#include "clients/refctl/legalaid_commands.h"

#include "clients/refctl/service_call.h"

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/table.h"
#include "clients/refctl/units.h"
#include "common/vocabulary.h"
#include "grpcpp/create_channel.h"
#include "referral/v1/legalaid_service.grpc.pb.h"
#include "services/runtime/grpc_status.h"

namespace referral::refctl {
namespace {

using Stub = v1::LegalAidService::Stub;

// Every flag of every legal-aid command; only one command runs.
struct Flags {
  std::string application_id, case_id;
  // apply
  std::string channel, referral_id, applicant, matter, summary;
  bool migrant_worker = false;
  // review, flag, close
  bool approve = false, deny = false;
  std::string reason;
  // assign
  std::string lawyer_id;
  // queue
  std::string state;
  // lawyer enrol / evaluate, lawyers
  std::string name, firm, kind, note, evaluator, evaluated_case, roster;
  std::vector<std::string> specialties;
  int capacity = 0;
  int score = -1;
  bool passed = false, failed = false;
};

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

template <typename Enum>
absl::StatusOr<Enum> Parse(absl::Span<const Term<Enum>> table, const std::string& typed,
                           absl::string_view flag, absl::string_view enum_prefix) {
  if (const Term<Enum>* t = ParseTerm(table, typed, enum_prefix)) return t->value;
  return Invalid(absl::StrCat(flag, " \"", typed, "\": use one of ", KeysOf(table)));
}

// ------------------------------------------------------------------ output

bool IsSet(const google::protobuf::Timestamp& ts) {
  return ts.seconds() != 0 || ts.nanos() != 0;
}
std::string When(const google::protobuf::Timestamp& ts) {
  return IsSet(ts) ? absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(ts), Shanghai()) : "";
}
std::string Yes(bool b) { return b ? "是 yes" : ""; }

std::string ChannelText(const v1::LegalAidApplication& a) {
  std::string text = Label(IntakeChannels(), a.channel());
  if (!a.referral_id().empty()) absl::StrAppend(&text, " · 转介 ", a.referral_id());
  return text;
}

std::string LawyerText(const v1::LegalAidApplication& a) {
  if (a.lawyer_id().empty()) return "";
  return absl::StrCat(a.lawyer_id(), "  ", a.lawyer_name());
}

void PrintApplication(const v1::LegalAidApplication& a) {
  std::string applicant = a.applicant().name();
  if (!a.applicant().contact().empty()) absl::StrAppend(&applicant, "  ", a.applicant().contact());
  std::cout << KeyValues({
      {"申请 APPLICATION", a.application_id()},
      {"案件 CASE", a.case_id()},
      {"受理机构 JUSTICE NODE", a.justice_node()},
      {"状态 STATE", Label(LegalAidStates(), a.state())},
      {"渠道 CHANNEL", ChannelText(a)},
      {"申请人 APPLICANT", applicant},
      {"事项 MATTER", Label(Matters(), a.matter())},
      {"农民工 MIGRANT WORKER", Yes(a.migrant_worker())},
      {"绿色通道 GREEN CHANNEL", a.green_channel() ? "是 yes（优先受理、审查、指派）" : ""},
      {"免于经济困难审查 WAIVED", Yes(a.hardship_review_waived())},
      {"依据 BASIS", a.waiver_basis()},
      {"申请时间 APPLIED", When(a.apply_time())},
      {"审查期限 REVIEW DUE", When(a.review_due_time())},
      {"审查时间 REVIEWED", When(a.review_time())},
      {"指派期限 ASSIGN DUE", When(a.assign_due_time())},
      {"指派时间 ASSIGNED", When(a.assign_time())},
      {"承办律师 LAWYER", LawyerText(a)},
      {"重大疑难 MAJOR", a.major_difficult() ? absl::StrCat("是 yes · ", a.major_reason()) : ""},
      {"理由 REASON", a.reason()},
      {"摘要 SUMMARY", a.summary()},
  });
}

std::string Specialties(const v1::Lawyer& l) {
  std::vector<std::string> keys;
  for (int m : l.specialties()) {
    const Term<v1::Matter>* t = FindTerm(Matters(), static_cast<v1::Matter>(m));
    keys.push_back(t ? std::string(t->zh) : absl::StrCat(m));
  }
  return absl::StrJoin(keys, "、");
}

std::string EvaluationText(const v1::Lawyer& l) {
  if (!l.has_latest_evaluation()) return "";
  const v1::LawyerEvaluation& e = l.latest_evaluation();
  const Term<v1::EvaluationKind>* k = FindTerm(EvaluationKinds(), e.kind());
  return absl::StrCat(k ? std::string(k->zh) : "?", " ", e.score(), " ",
                      e.passed() ? "合格" : "不合格");
}

std::string Assignable(const v1::Lawyer& l) {
  if (l.barred()) return "暂停指派 barred";
  if (l.active_cases() >= l.capacity()) return "已满 full";
  return "可指派 available";
}

Table LawyersTable(const google::protobuf::RepeatedPtrField<v1::Lawyer>& list) {
  Table t({"律师 LAWYER", "姓名 NAME", "律所 FIRM", "专长 SPECIALTIES", "承办 ACTIVE",
           "最近评估 LATEST", "指派 ASSIGNABLE"});
  for (const v1::Lawyer& l : list) {
    t.AddRow({l.lawyer_id(), l.name(), l.firm(), Specialties(l),
              absl::StrCat(l.active_cases(), "/", l.capacity()), EvaluationText(l),
              Assignable(l)});
  }
  return t;
}

void PrintLawyer(const v1::Lawyer& l) {
  const v1::LawyerEvaluation& e = l.latest_evaluation();
  std::cout << KeyValues({
      {"律师 LAWYER", l.lawyer_id()},
      {"姓名 NAME", l.name()},
      {"律所 FIRM", l.firm()},
      {"名册 ROSTER", l.justice_node()},
      {"专长 SPECIALTIES", Specialties(l)},
      {"承办 ACTIVE", absl::StrCat(l.active_cases(), "/", l.capacity())},
      {"最近评估 LATEST", EvaluationText(l)},
      {"评估说明 NOTE", l.has_latest_evaluation() ? e.note() : ""},
      {"指派 ASSIGNABLE", Assignable(l)},
  });
}

Table QueueTable(const google::protobuf::RepeatedPtrField<v1::LegalAidApplication>& list) {
  Table t({"申请 APPLICATION", "状态 STATE", "绿色通道 GREEN", "事项 MATTER",
           "申请人 APPLICANT", "申请时间 APPLIED", "期限 DUE", "律师 LAWYER"});
  for (const v1::LegalAidApplication& a : list) {
    const Term<v1::Matter>* m = FindTerm(Matters(), a.matter());
    std::string due;
    if (a.state() == v1::LEGAL_AID_STATE_APPLIED) {
      due = absl::StrCat("审查 ", When(a.review_due_time()));
    } else if (a.state() == v1::LEGAL_AID_STATE_APPROVED) {
      due = absl::StrCat("指派 ", When(a.assign_due_time()));
    }
    t.AddRow({a.application_id(), Label(LegalAidStates(), a.state()),
              a.green_channel() ? "绿色通道" : "", m ? std::string(m->zh) : "",
              a.applicant().name(), When(a.apply_time()), due, LawyerText(a)});
  }
  return t;
}

// ------------------------------------------------------------------ calls

template <typename Request, typename Response>
absl::StatusOr<Response> Call(
    const Globals& g,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) {
  return CallService(g, "legalaid", g.legalaid, method, request);
}

template <typename Response>
int RunCommand(const Globals& g,
               const std::function<absl::StatusOr<Response>(const std::string&)>& call,
               const std::function<void(const Response&)>& print) {
  return RunServiceCommand<Response>(g, "legalaid", call, print);
}

template <typename Response>
int RunRead(const Globals& g, const std::function<absl::StatusOr<Response>()>& call,
            const std::function<void(const Response&)>& print) {
  return RunServiceRead<Response>(g, "legalaid", call, print);
}

// A command on one application whose response is {application}: `fill`
// completes the request.
template <typename Request, typename Response>
void AddApplicationCommand(
    CLI::App* parent, Globals& g, Action& action, std::shared_ptr<Flags> f,
    const std::string& name, const std::string& help,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    std::function<absl::Status(const Flags&, Request*)> fill,
    std::function<void(CLI::App*, Flags&)> flags, std::string done) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  cmd->add_option("application", f->application_id, "application id, e.g. CASE/a1")
      ->required();
  if (flags) flags(cmd, *f);
  cmd->callback([&g, &action, f, method, fill, done] {
    action = [&g, f, method, fill, done] {
      return RunCommand<Response>(
          g,
          [&](const std::string& rid) -> absl::StatusOr<Response> {
            Request req;
            req.set_request_id(rid);
            req.set_application_id(f->application_id);
            if (absl::Status s = fill(*f, &req); !s.ok()) return s;
            return Call(g, method, req);
          },
          [done](const Response& r) {
            std::cout << done << " " << r.application().application_id() << "\n\n";
            PrintApplication(r.application());
            if constexpr (requires { r.lawyer(); }) {
              if (r.has_lawyer()) {
                std::cout << "\n";
                PrintLawyer(r.lawyer());
              }
            }
          });
    };
  });
}

}  // namespace

absl::StatusOr<v1::Party> ParseApplicantSpec(absl::string_view spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  if (parts.empty() || parts[0].empty()) {
    return Invalid(absl::StrCat("--applicant \"", spec,
                                "\" must look like NAME[:CONTACT], e.g. \"工人代表:"
                                "138-0000-0000\" (no ID number)"));
  }
  v1::Party p;
  p.set_name(parts[0]);
  if (parts.size() == 2) p.set_contact(parts[1]);
  return p;
}

void AddLegalAidCommands(CLI::App& app, Globals& g, Action& action) {
  auto f = std::make_shared<Flags>();
  CLI::App* legalaid = app.add_subcommand(
      "legalaid", "legal-aid applications: green channel, review, lawyer assignment");
  legalaid->require_subcommand(1);

  // ---------------------------------------------------------------- apply
  CLI::App* apply = legalaid->add_subcommand(
      "apply", "justice node: take a legal-aid application in a case");
  apply->add_option("case", f->case_id, "case id")->required();
  apply->add_option("--channel", f->channel,
                    "hotline|walk-in|online|petition|inspection, or referral with --referral")
      ->required();
  apply->add_option("--referral", f->referral_id,
                    "the referral of the case, sent to you, it came by");
  apply->add_option("--applicant", f->applicant, "NAME[:CONTACT], no ID number")->required();
  apply->add_option("--matter", f->matter,
                    "what about (default: the case's): " + KeysOf(Matters()));
  apply->add_flag("--migrant-worker", f->migrant_worker,
                  "the applicant is a migrant worker (农民工)");
  apply->add_option("--summary", f->summary, "a short statement of the claim");
  apply->callback([&g, &action, f] {
    action = [&g, f] {
      return RunCommand<v1::ApplyForLegalAidResponse>(
          g,
          [&](const std::string& rid) -> absl::StatusOr<v1::ApplyForLegalAidResponse> {
            v1::ApplyForLegalAidRequest req;
            req.set_request_id(rid);
            req.set_case_id(f->case_id);
            // "referral": the application takes the case's own channel.
            if (absl::AsciiStrToLower(f->channel) == "referral") {
              if (f->referral_id.empty()) {
                return Invalid("--channel referral needs --referral REFERRAL_ID");
              }
            } else {
              auto channel =
                  Parse(IntakeChannels(), f->channel, "--channel", "INTAKE_CHANNEL_");
              if (!channel.ok()) {
                return Invalid(absl::StrCat(channel.status().message(), ", or referral"));
              }
              req.set_channel(*channel);
            }
            req.set_referral_id(f->referral_id);
            auto applicant = ParseApplicantSpec(f->applicant);
            if (!applicant.ok()) return applicant.status();
            *req.mutable_applicant() = *applicant;
            if (!f->matter.empty()) {
              auto matter = Parse(Matters(), f->matter, "--matter", "MATTER_");
              if (!matter.ok()) return matter.status();
              req.set_matter(*matter);
            }
            req.set_migrant_worker(f->migrant_worker);
            req.set_summary(f->summary);
            return Call(g, &Stub::ApplyForLegalAid, req);
          },
          [](const v1::ApplyForLegalAidResponse& r) {
            std::cout << "applied " << r.application().application_id() << "\n\n";
            PrintApplication(r.application());
          });
    };
  });

  AddApplicationCommand<v1::ReviewApplicationRequest, v1::ReviewApplicationResponse>(
      legalaid, g, action, f, "review", "justice node: approve or deny an application",
      &Stub::ReviewApplication,
      [](const Flags& f, v1::ReviewApplicationRequest* r) -> absl::Status {
        if (f.approve == f.deny) return Invalid("say --approve or --deny");
        r->set_approved(f.approve);
        r->set_reason(f.reason);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        auto* approve = c->add_flag("--approve", f.approve, "grant legal aid");
        auto* deny = c->add_flag("--deny", f.deny, "refuse it (needs --reason)");
        approve->excludes(deny);
        c->add_option("--reason", f.reason, "why (required with --deny)");
      },
      "reviewed");

  AddApplicationCommand<v1::AssignLawyerRequest, v1::AssignLawyerResponse>(
      legalaid, g, action, f, "assign",
      "justice node: assign a lawyer from your roster (skilled, with capacity, not barred)",
      &Stub::AssignLawyer,
      [](const Flags& f, v1::AssignLawyerRequest* r) {
        r->set_lawyer_id(f.lawyer_id);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--lawyer", f.lawyer_id,
                      "a preferred lawyer id; it must pass the same gate (default: the "
                      "least loaded eligible lawyer)");
      },
      "assigned");

  AddApplicationCommand<v1::FlagMajorCaseRequest, v1::FlagMajorCaseResponse>(
      legalaid, g, action, f, "flag",
      "justice node: a major difficult case, for collective discussion and supervision",
      &Stub::FlagMajorCase,
      [](const Flags& f, v1::FlagMajorCaseRequest* r) {
        r->set_reason(f.reason);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--reason", f.reason, "why it is major or difficult")->required();
      },
      "flagged");

  AddApplicationCommand<v1::CloseApplicationRequest, v1::CloseApplicationResponse>(
      legalaid, g, action, f, "close", "justice node: end the aid and free the lawyer",
      &Stub::CloseApplication,
      [](const Flags& f, v1::CloseApplicationRequest* r) {
        r->set_reason(f.reason);
        return absl::OkStatus();
      },
      [](CLI::App* c, Flags& f) {
        c->add_option("--reason", f.reason, "why, e.g. 结案 or 申请人撤回")->required();
      },
      "closed");

  CLI::App* show = legalaid->add_subcommand("show", "one application in full");
  show->add_option("application", f->application_id, "application id, e.g. CASE/a1")
      ->required();
  show->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::GetApplicationResponse>(
          g,
          [&] {
            v1::GetApplicationRequest req;
            req.set_application_id(f->application_id);
            return Call(g, &Stub::GetApplication, req);
          },
          [](const v1::GetApplicationResponse& r) { PrintApplication(r.application()); });
    };
  });

  // A node lists only its own queue, so the node is the global --node.
  CLI::App* queue = legalaid->add_subcommand(
      "queue",
      "your node's (--node) applications: green channel first, then by time applied");
  queue->add_option("--state", f->state,
                    "only this state (default: the open ones): " + KeysOf(LegalAidStates()));
  queue->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::ListApplicationsResponse>(
          g,
          [&]() -> absl::StatusOr<v1::ListApplicationsResponse> {
            v1::ListApplicationsRequest req;
            if (!f->state.empty()) {
              auto state = Parse(LegalAidStates(), f->state, "--state", "LEGAL_AID_STATE_");
              if (!state.ok()) return state.status();
              req.set_state(*state);
            }
            return Call(g, &Stub::ListApplications, req);
          },
          [](const v1::ListApplicationsResponse& r) {
            if (r.applications_size() == 0) {
              std::cout << "no applications\n";
              return;
            }
            std::cout << QueueTable(r.applications()).Render();
          });
    };
  });

  // ---------------------------------------------------------------- roster
  CLI::App* lawyer = app.add_subcommand(
      "lawyer", "your roster of legal-aid lawyers: enrol, evaluate");
  lawyer->require_subcommand(1);

  CLI::App* enrol = lawyer->add_subcommand(
      "enrol", "justice node: add a lawyer to your roster, or update the entry");
  enrol->add_option("lawyer", f->lawyer_id, "lawyer id, e.g. L-001")->required();
  enrol->add_option("--name", f->name, "the lawyer's name")->required();
  enrol->add_option("--firm", f->firm, "the law firm");
  enrol->add_option("--specialty", f->specialties,
                    "a matter the lawyer is skilled in, repeatable: " + KeysOf(Matters()))
      ->required()
      ->allow_extra_args(false);
  enrol->add_option("--capacity", f->capacity, "at most this many open assignments")
      ->required();
  enrol->callback([&g, &action, f] {
    action = [&g, f] {
      return RunCommand<v1::EnrolLawyerResponse>(
          g,
          [&](const std::string& rid) -> absl::StatusOr<v1::EnrolLawyerResponse> {
            v1::EnrolLawyerRequest req;
            req.set_request_id(rid);
            v1::Lawyer* l = req.mutable_lawyer();
            l->set_lawyer_id(f->lawyer_id);
            l->set_name(f->name);
            l->set_firm(f->firm);
            for (const std::string& s : f->specialties) {
              auto m = Parse(Matters(), s, "--specialty", "MATTER_");
              if (!m.ok()) return m.status();
              l->add_specialties(*m);
            }
            l->set_capacity(f->capacity);
            return Call(g, &Stub::EnrolLawyer, req);
          },
          [](const v1::EnrolLawyerResponse& r) {
            std::cout << "enrolled " << r.lawyer().lawyer_id() << "\n\n";
            PrintLawyer(r.lawyer());
          });
    };
  });

  CLI::App* evaluate = lawyer->add_subcommand(
      "evaluate",
      "justice node: record a quality evaluation; a failed latest one bars new assignments");
  evaluate->add_option("lawyer", f->lawyer_id, "lawyer id")->required();
  evaluate->add_option("--kind", f->kind, "hearing|follow-up|expert")->required();
  evaluate->add_option("--score", f->score, "0-100")->required();
  auto* passed = evaluate->add_flag(
      "--passed", f->passed,
      "the evaluator passes the lawyer (the default; a score under the pass mark fails "
      "anyway)");
  auto* failed = evaluate->add_flag("--failed", f->failed, "the evaluator fails the lawyer");
  passed->excludes(failed);
  evaluate->add_option("--note", f->note, "for people");
  evaluate->add_option("--case", f->evaluated_case, "the case evaluated, if any");
  evaluate->add_option("--evaluator", f->evaluator, "who evaluated (default: your node)");
  evaluate->callback([&g, &action, f] {
    action = [&g, f] {
      return RunCommand<v1::EvaluateLawyerResponse>(
          g,
          [&](const std::string& rid) -> absl::StatusOr<v1::EvaluateLawyerResponse> {
            v1::EvaluateLawyerRequest req;
            req.set_request_id(rid);
            req.set_lawyer_id(f->lawyer_id);
            v1::LawyerEvaluation* e = req.mutable_evaluation();
            auto kind = Parse(EvaluationKinds(), f->kind, "--kind", "EVALUATION_KIND_");
            if (!kind.ok()) return kind.status();
            e->set_kind(*kind);
            e->set_score(f->score);
            e->set_passed(!f->failed);
            e->set_note(f->note);
            e->set_case_id(f->evaluated_case);
            e->set_evaluator(f->evaluator);
            return Call(g, &Stub::EvaluateLawyer, req);
          },
          [](const v1::EvaluateLawyerResponse& r) {
            std::cout << "evaluated " << r.lawyer().lawyer_id() << "\n\n";
            PrintLawyer(r.lawyer());
          });
    };
  });

  CLI::App* lawyers = app.add_subcommand(
      "lawyers", "a roster of legal-aid lawyers: your node's (--node), or --roster NODE");
  lawyers->add_option("--roster", f->roster, "whose roster (default: your node's)");
  lawyers->callback([&g, &action, f] {
    action = [&g, f] {
      return RunRead<v1::ListLawyersResponse>(
          g,
          [&] {
            v1::ListLawyersRequest req;
            req.set_justice_node(f->roster);
            return Call(g, &Stub::ListLawyers, req);
          },
          [](const v1::ListLawyersResponse& r) {
            if (r.lawyers_size() == 0) {
              std::cout << "no lawyers on the roster\n";
              return;
            }
            std::cout << LawyersTable(r.lawyers()).Render();
          });
    };
  });
}

}  // namespace referral::refctl
