#include "clients/refctl/privacy_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/service_call.h"
#include "clients/refctl/table.h"
#include "clients/refctl/units.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/time_util.h"
#include "referral/v1/referral_service.grpc.pb.h"

namespace referral::refctl {
namespace {

using google::protobuf::util::TimeUtil;
using Stub = v1::ReferralService::Stub;

struct Flags {
  // search
  std::string worker, id_number, party, project, matter, node, state, from, to, purpose;
  // audit
  std::string case_id, accessor;
  // both
  int limit = 0;
  std::string page;
};

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

bool IsDate(absl::string_view s) {
  absl::CivilDay day;
  return s.size() == 10 && absl::ParseCivilTime(s, &day);
}

// --from: a date is its first moment; --to: a date is included whole (the
// range ends at the next day's first moment). Other times as ParseTimeArg.
absl::StatusOr<google::protobuf::Timestamp> RangeFlag(absl::string_view flag,
                                                      const std::string& text,
                                                      bool end) {
  std::string s(absl::StripAsciiWhitespace(text));
  if (IsDate(s)) {
    absl::CivilDay day;
    (void)absl::ParseCivilTime(s, &day);
    if (end) ++day;
    return ToProto(absl::FromCivil(day, Shanghai()));
  }
  absl::StatusOr<absl::Time> t = ParseTimeArg(s, absl::Now());
  if (!t.ok()) return Invalid(absl::StrCat(flag, ": ", t.status().message()));
  return ToProto(*t);
}

// A value as a shell reads it back.
std::string Quote(absl::string_view v) {
  bool plain = !v.empty();
  for (char c : v) {
    plain = plain && (absl::ascii_isalnum(c) || absl::string_view("._:/@=+-,").find(c) !=
                                                     absl::string_view::npos);
  }
  if (plain) return std::string(v);
  return absl::StrCat("'", absl::StrReplaceAll(v, {{"'", "'\\''"}}), "'");
}

// The command that fetches the page after this one: the same criteria.
std::string NextPageCommand(const Flags& f, const std::string& token) {
  std::vector<std::pair<const char*, const std::string*>> flags = {
      {"--worker", &f.worker},   {"--id-number", &f.id_number}, {"--party", &f.party},
      {"--project", &f.project}, {"--matter", &f.matter},       {"--node", &f.node},
      {"--state", &f.state},     {"--from", &f.from},           {"--to", &f.to},
      {"--purpose", &f.purpose},
  };
  std::string cmd = "refctl search";
  for (const auto& [name, value] : flags) {
    if (!value->empty()) absl::StrAppend(&cmd, " ", name, " ", Quote(*value));
  }
  if (f.limit > 0) absl::StrAppend(&cmd, " --limit ", f.limit);
  absl::StrAppend(&cmd, " --page ", Quote(token));
  return cmd;
}

absl::StatusOr<v1::SearchCasesRequest> SearchRequest(const Flags& f) {
  v1::SearchCasesRequest q;
  q.set_worker_name(f.worker);
  q.set_worker_id_number(f.id_number);
  q.set_party_name(f.party);
  q.set_project(f.project);
  q.set_node(f.node);
  q.set_purpose(f.purpose);
  q.set_page_size(f.limit);
  q.set_page_token(f.page);
  if (!f.matter.empty()) {
    const Term<v1::Matter>* m = ParseTerm(Matters(), f.matter, "MATTER_");
    if (m == nullptr) {
      return Invalid(absl::StrCat("--matter \"", f.matter, "\": use one of ", KeysOf(Matters())));
    }
    q.set_matter(m->value);
  }
  if (!f.state.empty()) {
    const Term<v1::ReferralState>* s = ParseTerm(ReferralStates(), f.state, "REFERRAL_STATE_");
    if (s == nullptr) {
      return Invalid(
          absl::StrCat("--state \"", f.state, "\": use one of ", KeysOf(ReferralStates())));
    }
    q.set_state(s->value);
  }
  if (!f.from.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> t = RangeFlag("--from", f.from, false);
    if (!t.ok()) return t.status();
    *q.mutable_opened_from() = *t;
  }
  if (!f.to.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> t = RangeFlag("--to", f.to, true);
    if (!t.ok()) return t.status();
    *q.mutable_opened_to() = *t;
  }
  return q;
}

bool IsWorker(const v1::Party& p) {
  return p.role() == v1::PARTY_ROLE_WORKER || p.role() == v1::PARTY_ROLE_WORKER_GROUP ||
         p.role() == v1::PARTY_ROLE_WORKER_REPRESENTATIVE;
}

void PrintFound(const Flags& f, const v1::SearchCasesResponse& r) {
  Table t({"案件 CASE", "立案 OPENED", "标题 TITLE", "事项 MATTER", "承办 OWNER",
           "工人 WORKERS", "转介 REFERRALS"});
  for (const v1::Case& c : r.cases()) {
    const v1::CaseOpened& o = c.opened();
    std::vector<std::string> workers, referrals;
    for (const v1::Party& p : o.parties()) {
      if (!IsWorker(p)) continue;
      workers.push_back(p.id_number().empty() ? p.name()
                                              : absl::StrCat(p.name(), " ", p.id_number()));
    }
    for (const v1::Referral& ref : c.referrals()) {
      const Term<v1::ReferralState>* s = FindTerm(ReferralStates(), ref.state());
      referrals.push_back(absl::StrCat(ShortReferralId(ref.referral_id()), " ",
                                       s != nullptr ? std::string(s->zh) : "?"));
    }
    const Term<v1::Matter>* m = FindTerm(Matters(), o.matter());
    t.AddRow({c.case_id(), FormatShanghai(TimeOf(c.create_time())), o.title(),
              m != nullptr ? std::string(m->zh) : "", o.owning_node(),
              absl::StrJoin(workers, "、"), absl::StrJoin(referrals, ", ")});
  }
  std::cout << t.Render() << r.cases_size() << (r.cases_size() == 1 ? " case" : " cases")
            << (f.purpose.empty() ? "" : " (recorded for the auditors)") << "\n";
}

int Search(const Globals& g, const Flags& f) {
  return RunServiceRead<v1::SearchCasesResponse>(
      g, "referral",
      [&]() -> absl::StatusOr<v1::SearchCasesResponse> {
        absl::StatusOr<v1::SearchCasesRequest> q = SearchRequest(f);
        if (!q.ok()) return q.status();
        absl::StatusOr<v1::SearchCasesResponse> r =
            CallService(g, "referral", g.referral, &Stub::SearchCases, *q);
        // JSON holds the token; people get the command on stderr too.
        if (r.ok() && g.output == "json" && !r->next_page_token().empty()) {
          std::cerr << "next page: " << NextPageCommand(f, r->next_page_token()) << "\n";
        }
        return r;
      },
      [&](const v1::SearchCasesResponse& r) {
        PrintFound(f, r);
        if (!r.next_page_token().empty()) {
          std::cout << "next page: " << NextPageCommand(f, r.next_page_token()) << "\n";
        }
      });
}

std::string AuditedCase(const v1::Event& e) {
  if (e.has_personal_data_accessed()) return e.personal_data_accessed().case_id();
  if (e.has_case_traced_by_investigator()) return e.case_traced_by_investigator().case_id();
  return "";
}

int Audit(const Globals& g, const Flags& f) {
  return RunServiceRead<v1::ListAuditEventsResponse>(
      g, "referral",
      [&]() -> absl::StatusOr<v1::ListAuditEventsResponse> {
        if (f.case_id.empty() == f.accessor.empty()) {
          return Invalid("give --case CASE (a case's record) or --accessor NODE (what one "
                         "node read), one of them");
        }
        v1::ListAuditEventsRequest q;
        q.set_case_id(f.case_id);
        q.set_accessor(f.accessor);
        q.set_page_size(f.limit);
        q.set_page_token(f.page);
        return CallService(g, "referral", g.referral, &Stub::ListAuditEvents, q);
      },
      [&](const v1::ListAuditEventsResponse& r) {
        Table t({"位置 POS", "时间 TIME (Asia/Shanghai)", "调阅方 ACCESSOR", "事件 EVENT",
                 "案件 CASE", "摘要 SUMMARY"});
        for (const v1::Event& e : r.events()) {
          t.AddRow({absl::StrCat(e.global_position()), FormatShanghai(EventTime(e)),
                    e.source(), EventZh(e) + " " + EventType(e), AuditedCase(e),
                    Summary(e)});
        }
        std::cout << t.Render() << r.events_size() << " audit events\n";
        if (!r.next_page_token().empty()) {
          std::cout << "next page: refctl audit "
                    << (f.case_id.empty() ? "--accessor " + Quote(f.accessor)
                                          : "--case " + Quote(f.case_id))
                    << (f.limit > 0 ? absl::StrCat(" --limit ", f.limit) : "")
                    << " --page " << Quote(r.next_page_token()) << "\n";
        }
      });
}

}  // namespace

void AddPrivacyCommands(CLI::App& app, Globals& g, Action& action) {
  auto f = std::make_shared<Flags>();

  CLI::App* search = app.add_subcommand(
      "search", "find cases by worker, party, project, matter, node, state or date");
  search->add_option("--worker", f->worker,
                     "a worker's (or worker group's) name, or its beginning; any case");
  search->add_option("--id-number", f->id_number, "a worker's 18-character ID number");
  search->add_option("--party", f->party,
                     "an employer, contractor or developer: its name or its beginning");
  search->add_option("--project", f->project, "part of the project's name");
  search->add_option("--matter", f->matter, "one of " + KeysOf(Matters()));
  search->add_option("--node", f->node, "a node party to the case");
  search->add_option("--state", f->state,
                     "some referral of the case is in this state: " + KeysOf(ReferralStates()));
  search->add_option("--from", f->from,
                     "opened at or after: 2026-03-01 (that day's start), 2026-03-01 09:00");
  search->add_option("--to", f->to,
                     "opened before: 2026-03-31 (that day included), 2026-03-31 18:00");
  search->add_option("--limit", f->limit, "at most this many per page (default 20, max 100)");
  search->add_option("--page", f->page, "the page token a previous search printed");
  search->add_option("--purpose", f->purpose,
                     "investigators: why you search every case (recorded for the auditors)");
  search->callback([&g, &action, f] { action = [&g, f] { return Search(g, *f); }; });

  CLI::App* audit = app.add_subcommand(
      "audit", "who read personal data, and investigators' traces (auditors only)");
  audit->add_option("--case", f->case_id, "a case's audit record");
  audit->add_option("--accessor", f->accessor, "what one node or identity read");
  audit->add_option("--limit", f->limit, "at most this many per page (default 100)");
  audit->add_option("--page", f->page, "the page token a previous audit printed");
  audit->callback([&g, &action, f] { action = [&g, f] { return Audit(g, *f); }; });
}

}  // namespace referral::refctl
