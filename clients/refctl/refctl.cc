// refctl: the command line for people and scripts.
//
//   refctl health
//   refctl log open|note|read|feed|tail|verify|checkpoint ...   the case log
//   refctl directory nodes|route ...                            the directory
//   refctl case open|show, cases, trace CASE                     cases
//   refctl search [--worker|--id-number|--party|--state ...]     find cases
//   refctl audit --case CASE | --accessor NODE                   audit (auditors)
//   refctl refer CASE --to NODE --purpose ...                    referrals
//   refctl receive|accept|reject|return|resubmit|redirect|start|hold|resume|
//          complete|fail|cancel REFERRAL ...
//   refctl referral REFERRAL, referrals, inbox [--follow] [--ack], backlog
//   refctl deadlines [--overdue] [--of NODE], calendar due        deadlines
//   refctl legalaid apply|review|assign|flag|close|show|queue ...  legal aid
//   refctl lawyer enrol|evaluate LAWYER ..., lawyers              lawyer roster
//   refctl context set|show                                      saved defaults
//
// Global flags (also after the subcommand): --output table|json, --timeout,
// --referral/--caselog/--directory ADDR, --node NODE, --pki DIR, --plaintext,
// --verbose, --request-id ID. Flags override the environment (REFCTL_*),
// which overrides the saved context (refctl context set), which overrides
// the defaults. Errors print the reason and what to do, and exit non-zero.

#include <unistd.h>

#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "clients/cpp/caselog_client.h"
#include "clients/refctl/cli.h"
#include "clients/refctl/deadline_commands.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/legalaid_commands.h"
#include "clients/refctl/mediation_commands.h"
#include "clients/refctl/privacy_commands.h"
#include "clients/refctl/proof_commands.h"
#include "clients/refctl/referral_commands.h"
#include "clients/refctl/table.h"
#include "clients/refctl/units.h"
#include "common/errors.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "referral/v1/directory_service.grpc.pb.h"
#include "services/runtime/grpc_status.h"

namespace referral::refctl {
namespace {

std::string NewEventId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return absl::StrFormat("ev-%016x%016x", gen(), gen());
}

std::string ShanghaiTime(const google::protobuf::Timestamp& ts) {
  return FormatShanghai(TimeOf(ts));
}

void PrintEvents(const Globals& g, const google::protobuf::RepeatedPtrField<v1::Event>& events,
                 const google::protobuf::Message& whole) {
  if (g.output == "json") {
    std::cout << Json(whole) << "\n";
    return;
  }
  Table t({"SEQ", "POS", "TIME (Asia/Shanghai)", "SOURCE", "TYPE", "SUMMARY"});
  for (const auto& e : events) {
    t.AddRow({absl::StrCat(e.sequence()), absl::StrCat(e.global_position()),
              ShanghaiTime(e.time()), e.source(), e.type(), Summary(e)});
  }
  std::cout << t.Render();
}

int Run(int argc, char** argv) {
  Globals g;
  CLI::App app{"refctl: the referral broker's command line"};
  app.require_subcommand(1);
  app.fallthrough();  // global options also after the subcommand
  AddGlobalFlags(app, g);

  Action action;
  // Errors of the case log commands.
  auto fail = [&](const absl::Status& s) { return Fail(s, {"caselog", &g}); };
  auto client = [&]() {
    auto c = ConnectCaseLog(g);
    if (!c.ok()) {
      // Unreadable TLS files: every call fails with the reason.
      std::cerr << "error: " << c.status().message() << "\n";
      std::exit(2);
    }
    return std::move(c).value();
  };

  auto* health = app.add_subcommand("health", "is a service serving? (--addr; default the case log)");
  std::string health_service, health_addr;
  health->add_option("--service", health_service, "service name; empty = server");
  health->add_option("--addr", health_addr, "any service's address (default: --caselog)");
  health->callback([&] {
    action = [&] {
      if (!health_addr.empty()) g.caselog = health_addr;
      auto r = client()->Healthy(health_service);
      if (!r.ok()) {
        return health_addr.empty() ? fail(r.status())
                                   : Fail(r.status(), {"", &g, "", health_addr});
      }
      std::cout << (*r ? "SERVING" : "NOT_SERVING") << "\n";
      return *r ? 0 : 1;
    };
  });

  auto* log = app.add_subcommand("log", "the case event log");
  log->require_subcommand(1);

  // log open
  std::string case_id, owner, channel = "hotline", title, event_id, source, note;
  auto* open = log->add_subcommand("open", "open a case (its first event)");
  open->add_option("case", case_id, "case id")->required();
  open->add_option("--owner", owner, "owning node, e.g. qinzhou.justice")->required();
  open->add_option("--channel", channel, "hotline|walk-in|online|petition|inspection")
      ->check(CLI::IsMember({"hotline", "walk-in", "online", "petition", "inspection"}));
  open->add_option("--title", title, "short title, no personal data");
  open->add_option("--event-id", event_id, "event id; reuse it to retry safely");
  open->callback([&] {
    action = [&] {
      v1::AppendRequest req;
      req.set_case_id(case_id);
      req.set_expected(v1::EXPECTED_VERSION_NO_STREAM);
      auto* e = req.add_events();
      e->set_event_id(event_id.empty() ? NewEventId() : event_id);
      e->set_source(owner);
      auto* body = e->mutable_case_opened();
      body->set_owning_node(owner);
      static const std::map<std::string, v1::IntakeChannel> kChannels = {
          {"hotline", v1::INTAKE_CHANNEL_HOTLINE},
          {"walk-in", v1::INTAKE_CHANNEL_WALK_IN},
          {"online", v1::INTAKE_CHANNEL_ONLINE},
          {"petition", v1::INTAKE_CHANNEL_PETITION},
          {"inspection", v1::INTAKE_CHANNEL_INSPECTION}};
      body->set_channel(kChannels.at(channel));
      body->set_title(title);
      auto r = client()->Append(req);
      if (!r.ok()) return fail(r.status());
      if (g.output == "json") {
        std::cout << Json(*r) << "\n";
      } else {
        std::cout << "opened " << case_id << " (event " << req.events(0).event_id()
                  << ", position " << r->first_position() << ")\n";
      }
      return 0;
    };
  });

  // log note
  int64_t expect = -1;
  auto* note_cmd = log->add_subcommand("note", "add a note to a case");
  note_cmd->add_option("case", case_id, "case id")->required();
  note_cmd->add_option("--source", source, "your node")->required();
  note_cmd->add_option("--note", note, "the note, no personal data")->required();
  note_cmd->add_option("--event-id", event_id, "event id; reuse it to retry safely");
  note_cmd->add_option("--expect", expect, "append only if the case is at this version");
  note_cmd->callback([&] {
    action = [&] {
      v1::AppendRequest req;
      req.set_case_id(case_id);
      if (expect >= 0) {
        req.set_expected(v1::EXPECTED_VERSION_EXACT);
        req.set_expected_version(static_cast<uint64_t>(expect));
      }
      auto* e = req.add_events();
      e->set_event_id(event_id.empty() ? NewEventId() : event_id);
      e->set_source(source);
      e->mutable_case_note_recorded()->set_note(note);
      auto r = client()->Append(req);
      if (!r.ok()) return fail(r.status());
      if (g.output == "json") {
        std::cout << Json(*r) << "\n";
      } else {
        std::cout << (r->deduplicated() ? "already recorded" : "recorded")
                  << " as " << case_id << " #" << r->first_sequence()
                  << " (position " << r->first_position() << ")\n";
      }
      return 0;
    };
  });

  // log read
  uint64_t from = 0;
  bool backward = false;
  int limit = 0;
  auto* read = log->add_subcommand("read", "read one case's events");
  read->add_option("case", case_id, "case id")->required();
  read->add_option("--from", from, "first sequence (0 = start, or end if --backward)");
  read->add_flag("--backward", backward, "newest first");
  read->add_option("--limit", limit, "at most this many (default 100)");
  read->callback([&] {
    action = [&] {
      v1::ReadCaseRequest req;
      req.set_case_id(case_id);
      req.set_from_sequence(from);
      req.set_direction(backward ? v1::READ_DIRECTION_BACKWARD
                                 : v1::READ_DIRECTION_FORWARD);
      req.set_page_size(limit);
      auto r = client()->ReadCase(req);
      if (!r.ok()) return fail(r.status());
      PrintEvents(g, r->events(), *r);
      if (g.output == "table" && r->next_sequence() != 0) {
        std::cout << "more: --from " << r->next_sequence() << "\n";
      }
      return 0;
    };
  });

  // log feed / tail
  std::string type, node, checkpoint;
  auto* feed = log->add_subcommand("feed", "read the global feed");
  feed->add_option("--from", from, "first global position");
  feed->add_option("--type", type, "only this event type, e.g. referral.v1.CaseOpened");
  feed->add_option("--node", node, "only events involving this node");
  feed->add_option("--limit", limit, "at most this many (default 100)");
  feed->callback([&] {
    action = [&] {
      v1::ReadAllRequest req;
      req.set_from_position(from);
      req.mutable_filter()->set_event_type(type);
      req.mutable_filter()->set_node(node);
      req.set_page_size(limit);
      auto r = client()->ReadAll(req);
      if (!r.ok()) return fail(r.status());
      PrintEvents(g, r->events(), *r);
      if (g.output == "table") {
        std::cout << "next: --from " << r->next_position() << " (last "
                  << r->last_position() << ")\n";
      }
      return 0;
    };
  });

  auto* tail = log->add_subcommand("tail", "follow the global feed live");
  tail->add_option("--from", from, "first global position (default: after the checkpoint, else 1)");
  tail->add_option("--type", type, "only this event type");
  tail->add_option("--node", node, "only events involving this node");
  tail->add_option("--checkpoint", checkpoint, "resume from and save to this checkpoint");
  tail->callback([&] {
    action = [&] {
      auto c = client();
      uint64_t start = from;
      if (!checkpoint.empty() && start == 0) {
        v1::GetCheckpointRequest req;
        req.set_name(checkpoint);
        auto cp = c->GetCheckpoint(req);
        if (cp.ok()) start = cp->checkpoint().position() + 1;
        else if (cp.status().code() != absl::StatusCode::kNotFound) return fail(cp.status());
      }
      v1::EventFilter filter;
      filter.set_event_type(type);
      filter.set_node(node);
      absl::Status s = c->Follow(
          start, filter,
          [&](const v1::Event& e) {
            if (g.output == "json") {
              std::string line;
              (void)google::protobuf::util::MessageToJsonString(e, &line);
              std::cout << line << std::endl;
            } else {
              std::cout << absl::StrFormat("%6d  %s  %-24s %-28s %s", e.global_position(),
                                           ShanghaiTime(e.time()), e.subject(), e.type(),
                                           Summary(e))
                        << std::endl;
            }
            if (!checkpoint.empty()) {
              v1::SetCheckpointRequest req;
              req.set_name(checkpoint);
              req.set_position(e.global_position());
              if (auto r = c->SetCheckpoint(req); !r.ok()) {
                fail(r.status());
                return false;
              }
            }
            return true;
          },
          [&](uint64_t position) {
            if (g.output == "table") {
              std::cerr << "-- caught up at position " << position
                        << "; following live (Ctrl-C stops) --" << std::endl;
            }
          });
      return s.ok() ? 0 : fail(s);
    };
  });

  auto* verify = log->add_subcommand("verify", "check a case's hash chain");
  verify->add_option("case", case_id, "case id")->required();
  verify->callback([&] {
    action = [&] {
      v1::VerifyCaseRequest req;
      req.set_case_id(case_id);
      auto r = client()->VerifyCase(req);
      if (!r.ok()) return fail(r.status());
      if (g.output == "json") {
        std::cout << Json(*r) << "\n";
      } else if (r->intact()) {
        std::cout << "intact: " << r->events_checked() << " events, head "
                  << absl::BytesToHexString(r->head_hash()) << "\n";
      } else {
        std::cout << "BROKEN at sequence " << r->first_bad_sequence() << ": "
                  << r->problem() << "\n";
      }
      return r->intact() ? 0 : 3;
    };
  });

  auto* cp = log->add_subcommand("checkpoint", "named consumer checkpoints");
  cp->require_subcommand(1);
  std::string cp_name;
  uint64_t cp_position = 0;
  auto* cp_get = cp->add_subcommand("get", "read a checkpoint");
  cp_get->add_option("name", cp_name)->required();
  cp_get->callback([&] {
    action = [&] {
      v1::GetCheckpointRequest req;
      req.set_name(cp_name);
      auto r = client()->GetCheckpoint(req);
      if (!r.ok()) return fail(r.status());
      if (g.output == "json") std::cout << Json(*r) << "\n";
      else std::cout << cp_name << " = " << r->checkpoint().position() << "\n";
      return 0;
    };
  });
  auto* cp_set = cp->add_subcommand("set", "store a checkpoint");
  cp_set->add_option("name", cp_name)->required();
  cp_set->add_option("position", cp_position)->required();
  cp_set->callback([&] {
    action = [&] {
      v1::SetCheckpointRequest req;
      req.set_name(cp_name);
      req.set_position(cp_position);
      auto r = client()->SetCheckpoint(req);
      if (!r.ok()) return fail(r.status());
      if (g.output == "json") std::cout << Json(*r) << "\n";
      else std::cout << cp_name << " = " << r->checkpoint().position() << "\n";
      return 0;
    };
  });

  // directory: nodes, one node, route a matter.
  auto directory_stub = [&] {
    grpc::ChannelArguments args;
    auto creds = ServiceCredentials(g);
    if (!creds.ok()) {
      std::cerr << "error: " << creds.status().message() << "\n";
      std::exit(2);
    }
    return v1::DirectoryService::NewStub(
        grpc::CreateCustomChannel(g.directory, *creds, args));
  };
  auto prepare = [&](grpc::ClientContext* context) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + Timeout(g)));
  };
  auto dfail = [&](const absl::Status& s) { return Fail(s, {"directory", &g}); };
  auto node_row = [](const v1::Node& n) -> std::vector<std::string> {
    const auto* kind = FindTerm(NodeKinds(), n.kind());
    const auto* level = FindTerm(NodeLevels(), n.level());
    return {n.name(), kind ? std::string(kind->zh) : "?",
            level ? std::string(level->zh) : "?", n.display_name_zh(),
            n.hotline(), n.jurisdiction()};
  };
  const std::vector<std::string> node_header = {"NODE", "机构", "层级", "名称",
                                                "热线", "辖区"};
  auto* dir = app.add_subcommand("directory", "agency nodes and the service menu");
  dir->require_subcommand(1);
  std::string kind_key, area, matter_key;
  auto* nodes = dir->add_subcommand("nodes", "list nodes");
  nodes->add_option("--kind", kind_key, "only this kind: " + KeysOf(NodeKinds()));
  nodes->add_option("--area", area, "only nodes inside this jurisdiction");
  nodes->callback([&] {
    action = [&] {
      v1::ListNodesRequest req;
      if (!kind_key.empty()) {
        const auto* t = FindTerm(NodeKinds(), absl::string_view(kind_key));
        if (t == nullptr) {
          std::cerr << "error: --kind must be one of " << KeysOf(NodeKinds()) << "\n";
          return 2;
        }
        req.set_kind(t->value);
      }
      req.set_jurisdiction(area);
      grpc::ClientContext context;
      prepare(&context);
      v1::ListNodesResponse resp;
      absl::Status s = FromGrpcStatus(directory_stub()->ListNodes(&context, req, &resp));
      if (!s.ok()) return dfail(s);
      if (g.output == "json") {
        std::cout << Json(resp) << "\n";
        return 0;
      }
      Table t(node_header);
      for (const auto& n : resp.nodes()) t.AddRow(node_row(n));
      std::cout << t.Render();
      return 0;
    };
  });
  auto* route = dir->add_subcommand("route", "which node takes a matter in an area, and why");
  route->add_option("matter", matter_key, "one of " + KeysOf(Matters()))->required();
  route->add_option("area", area, "jurisdiction, e.g. gansu/tianshui/qinzhou/yuquan")->required();
  route->callback([&] {
    action = [&] {
      const auto* m = FindTerm(Matters(), absl::string_view(matter_key));
      if (m == nullptr) {
        std::cerr << "error: matter must be one of " << KeysOf(Matters()) << "\n";
        return 2;
      }
      v1::RouteRequest req;
      req.set_matter(m->value);
      req.set_jurisdiction(area);
      grpc::ClientContext context;
      prepare(&context);
      v1::RouteResponse resp;
      absl::Status s = FromGrpcStatus(directory_stub()->Route(&context, req, &resp));
      if (!s.ok()) return dfail(s);
      if (g.output == "json") {
        std::cout << Json(resp) << "\n";
        return 0;
      }
      std::cout << "→ " << resp.node().name() << "  " << resp.node().display_name_zh()
                << "\n  " << resp.reason_zh() << "\n  " << resp.reason() << "\n";
      if (resp.alternatives_size() > 0) {
        std::cout << "\nalso helps (nearest first):\n";
        Table t(node_header);
        for (const auto& n : resp.alternatives()) t.AddRow(node_row(n));
        std::cout << t.Render();
      }
      return 0;
    };
  });

  AddReferralCommands(app, g, action);
  AddLegalAidCommands(app, g, action);
  AddDeadlineCommands(app, g, action);
  AddMediationCommands(app, g, action);
  AddContextCommands(app, g, action);
  AddProofCommands(app, g, action);
  AddPrivacyCommands(app, g, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (absl::Status s = ResolveGlobals(app, g); !s.ok()) return Fail(s);
  return action ? action() : 0;
}

}  // namespace
}  // namespace referral::refctl

int main(int argc, char** argv) { return referral::refctl::Run(argc, argv); }
