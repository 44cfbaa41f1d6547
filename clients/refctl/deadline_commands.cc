#include "clients/refctl/deadline_commands.h"

#include "clients/refctl/service_call.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/table.h"
#include "clients/refctl/units.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "referral/v1/deadline_service.grpc.pb.h"
#include "services/deadlines/deadlines.h"
#include "services/runtime/grpc_status.h"

namespace referral::refctl {
namespace {

using google::protobuf::util::TimeUtil;
using Stub = v1::DeadlineService::Stub;

struct Flags {
  bool overdue = false;
  std::string of;
  std::string from;
  int days = 0;
};

template <typename Request, typename Response>
absl::StatusOr<Response> Call(
    const Globals& g,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) {
  return CallService(g, "deadlines", g.deadlines, method, request);
}

std::string When(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(ts), Shanghai());
}

std::string KindLabel(v1::DeadlineKind kind) {
  const deadlines::KindRule& rule = deadlines::RuleFor(kind);
  return absl::StrCat(rule.zh, " ", rule.key);
}

// Still open and past due at `now`, whether or not the breach is recorded yet.
bool Overdue(const v1::Deadline& d, absl::Time now) {
  return d.state() == v1::DEADLINE_STATE_BREACHED ||
         ((d.state() == v1::DEADLINE_STATE_PENDING ||
           d.state() == v1::DEADLINE_STATE_WARNED) &&
          TimeOf(d.set().due_time()) <= now);
}

std::string StateLabel(const v1::Deadline& d, absl::Time now) {
  if (d.state() != v1::DEADLINE_STATE_BREACHED && Overdue(d, now)) {
    return "已逾期 overdue";
  }
  return Label(DeadlineStates(), d.state());
}

int ListDeadlines(const Globals& g, const Flags& f) {
  v1::ListDeadlinesRequest req;
  req.set_node(f.of);
  req.set_overdue_only(f.overdue);
  absl::StatusOr<v1::ListDeadlinesResponse> r = Call(g, &Stub::ListDeadlines, req);
  if (!r.ok()) return Fail(r.status(), {"deadlines", &g});
  if (g.output == "json") {
    std::cout << Json(*r) << "\n";
    return 0;
  }
  const absl::Time now = absl::Now();
  Table t({"期限 DUE (Asia/Shanghai)", "时限 KIND", "事项 SUBJECT", "办理 RESPONSIBLE",
           "状态 STATE", "督办 ESCALATED TO"});
  for (const v1::Deadline& d : r->deadlines()) {
    t.AddRow({When(d.set().due_time()), KindLabel(d.set().kind()), d.set().subject_id(),
              d.set().responsible_node(), StateLabel(d, now), d.escalated_to()});
  }
  std::cout << t.Render();
  if (r->deadlines().empty()) {
    std::cout << (f.overdue ? "nothing overdue 无逾期事项\n" : "nothing open 无待办时限\n");
  }
  return 0;
}

int DueTime(const Globals& g, const Flags& f) {
  v1::ComputeDueTimeRequest req;
  if (!f.from.empty()) {
    absl::StatusOr<absl::Time> from = ParseTimeArg(f.from, absl::Now());
    if (!from.ok()) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("--from: ", from.status().message())),
                  {"deadlines", &g});
    }
    *req.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*from));
  }
  req.set_working_days(f.days);
  absl::StatusOr<v1::ComputeDueTimeResponse> r = Call(g, &Stub::ComputeDueTime, req);
  if (!r.ok()) return Fail(r.status(), {"deadlines", &g});
  if (g.output == "json") {
    std::cout << Json(*r) << "\n";
  } else {
    std::cout << FormatShanghai(TimeOf(r->due_time())) << "  (Asia/Shanghai; "
              << f.days << " working days, calendar " << r->calendar() << ")\n";
  }
  return 0;
}

}  // namespace

void AddDeadlineCommands(CLI::App& app, Globals& g, Action& action) {
  auto f = std::make_shared<Flags>();

  CLI::App* list = app.add_subcommand(
      "deadlines", "open deadlines your node (--node) must meet or was escalated (督办)");
  list->add_flag("--overdue", f->overdue, "only those past their due time");
  list->add_option("--of", f->of,
                   "another node's, one your node supervises (e.g. a town station)");
  list->callback([&g, &action, f] { action = [&g, f] { return ListDeadlines(g, *f); }; });

  CLI::App* calendar = app.add_subcommand("calendar", "the working-day calendar");
  calendar->require_subcommand(1);
  CLI::App* due = calendar->add_subcommand(
      "due", "when something is due: the close of the working day N working days on");
  due->add_option("--from", f->from,
                  "start: 2026-12-01T09:00+08:00, 2026-12-01 17:00 or +2h (default now)");
  due->add_option("--days", f->days, "working days after the start's (0 = the same day)")
      ->check(CLI::Range(0, 366));
  due->callback([&g, &action, f] { action = [&g, f] { return DueTime(g, *f); }; });
}

std::vector<std::string> OverdueLines(
    const google::protobuf::RepeatedPtrField<v1::Event>& events, absl::Time now) {
  deadlines::DeadlineFold fold;
  for (const v1::Event& e : events) fold.Apply(e);
  std::vector<const v1::Deadline*> overdue;
  for (const auto& [id, d] : fold.all()) {
    if (Overdue(d, now)) overdue.push_back(&d);
  }
  std::sort(overdue.begin(), overdue.end(), [](const v1::Deadline* a, const v1::Deadline* b) {
    return TimeOf(a->set().due_time()) < TimeOf(b->set().due_time());
  });
  std::vector<std::string> lines;
  for (const v1::Deadline* d : overdue) {
    std::string id = d->set().deadline_id();
    if (size_t slash = id.find('/'); slash != std::string::npos) id = id.substr(slash + 1);
    lines.push_back(absl::StrCat(
        "逾期 OVERDUE  ", id, " ", deadlines::RuleFor(d->set().kind()).zh, "  ",
        d->set().responsible_node(), "  期限 ", When(d->set().due_time()),
        d->escalated_to().empty() ? "" : absl::StrCat(" → 督办 ", d->escalated_to())));
  }
  return lines;
}

}  // namespace referral::refctl
