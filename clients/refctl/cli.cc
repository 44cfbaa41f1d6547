#include "clients/refctl/cli.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cpp/referral_client.h"
#include "grpcpp/create_channel.h"
#include "clients/refctl/context.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/table.h"
#include "common/errors.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/json_util.h"

namespace referral::refctl {
namespace {

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

}  // namespace

void AddGlobalFlags(CLI::App& app, Globals& g) {
  app.add_option("--referral", g.referral,
                 "referral broker address (env REFCTL_REFERRAL; default "
                 "127.0.0.1:50103)");
  app.add_option("--caselog", g.caselog, "caselog address (env REFCTL_CASELOG)");
  app.add_option("--directory", g.directory,
                 "directory address (env REFCTL_DIRECTORY)");
  app.add_option("--mediation", g.mediation,
                 "mediation service address (env REFCTL_MEDIATION; default "
                 "127.0.0.1:50104)");
  app.add_option("--legalaid", g.legalaid,
                 "legal aid service address (env REFCTL_LEGALAID; default "
                 "127.0.0.1:50105)");
  app.add_option("--deadlines", g.deadlines,
                 "deadlines service address (env REFCTL_DEADLINES; default "
                 "127.0.0.1:50106)");
  app.add_option("--node", g.node,
                 "the agency node you act as, e.g. qinzhou.justice (env "
                 "REFCTL_NODE)");
  app.add_option("--pki", g.pki,
                 "directory with ca.pem and NODE.pem/NODE.key (env REFCTL_PKI; "
                 "default var/pki)");
  app.add_flag("--plaintext", g.plaintext,
               "no TLS: name the node in metadata (for test servers)");
  app.add_option("--output,-o", g.output,
                 "table or json; svg draws the case (trace only)")
      ->check(CLI::IsMember({"table", "json", "svg"}));
  app.add_option("--timeout", g.timeout, "deadline per call, e.g. 10s, 500ms");
  app.add_flag("--verbose,-v", g.verbose, "print request ids and connection details");
  app.add_option("--request-id", g.request_id,
                 "request id of a command, to retry it safely (default: a new one)");
}

absl::Status ResolveGlobals(CLI::App& app, Globals& g) {
  if (g.output == "svg") {
    // The command as typed, e.g. "trace" or "log read".
    std::string command;
    for (const CLI::App* c = &app; !c->get_subcommands().empty();) {
      c = c->get_subcommands().front();
      absl::StrAppend(&command, command.empty() ? "" : " ", c->get_name());
    }
    if (std::find(kSvgCommands.begin(), kSvgCommands.end(), command) == kSvgCommands.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "svg output is only for trace (refctl -o svg trace CASE > case.svg); use -o table "
          "or -o json for ", command.empty() ? "this command" : command));
    }
  }
  absl::StatusOr<Context> saved = LoadContext(ContextPath());
  if (!saved.ok()) return saved.status();
  auto pick = [&](const char* flag, const char* env,
                  const std::optional<std::string>& from_context, std::string* value) {
    if (app.get_option(flag)->count() > 0) return;
    if (auto e = Env(env)) {
      *value = *e;
    } else if (from_context) {
      *value = *from_context;
    }
  };
  pick("--referral", "REFCTL_REFERRAL", saved->referral, &g.referral);
  pick("--caselog", "REFCTL_CASELOG", saved->caselog, &g.caselog);
  pick("--directory", "REFCTL_DIRECTORY", saved->directory, &g.directory);
  pick("--mediation", "REFCTL_MEDIATION", std::nullopt, &g.mediation);
  pick("--legalaid", "REFCTL_LEGALAID", std::nullopt, &g.legalaid);
  pick("--deadlines", "REFCTL_DEADLINES", std::nullopt, &g.deadlines);
  pick("--node", "REFCTL_NODE", saved->node, &g.node);
  pick("--pki", "REFCTL_PKI", saved->pki, &g.pki);
  if (app.get_option("--plaintext")->count() == 0) {
    if (auto e = Env("REFCTL_PLAINTEXT")) {
      g.plaintext = *e == "1" || *e == "true";
    } else if (saved->plaintext) {
      g.plaintext = *saved->plaintext;
    }
  }
  absl::Duration d;
  if (!absl::ParseDuration(g.timeout, &d) || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout \"", g.timeout, "\": use a duration like 10s or 500ms"));
  }
  return absl::OkStatus();
}

absl::Duration Timeout(const Globals& g) {
  absl::Duration d = absl::Seconds(10);
  if (!absl::ParseDuration(g.timeout, &d) || d <= absl::ZeroDuration()) {
    d = absl::Seconds(10);
  }
  return d;
}

absl::StatusOr<std::optional<TlsFiles>> TlsFor(const Globals& g) {
  if (g.node.empty()) {
    return absl::FailedPreconditionError(
        "which agency do you act as? pass --node NODE (e.g. --node "
        "qinzhou.justice), set REFCTL_NODE, or save it once: refctl context "
        "set --node NODE");
  }
  if (g.plaintext) return std::optional<TlsFiles>();
  namespace fs = std::filesystem;
  TlsFiles files{absl::StrCat(g.pki, "/ca.pem"), absl::StrCat(g.pki, "/", g.node, ".pem"),
                 absl::StrCat(g.pki, "/", g.node, ".key")};
  for (const std::string* f : {&files.ca_cert, &files.cert, &files.key}) {
    std::error_code ec;
    if (!fs::exists(*f, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no ", *f, ": mTLS needs the CA and the node's certificate and key. "
          "Create them with tools/pki.sh, point --pki at the directory that "
          "holds them, or pass --plaintext for a test server"));
    }
  }
  return std::optional<TlsFiles>(std::move(files));
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ServiceCredentials(
    const Globals& g) {
  if (g.node.empty() || g.plaintext) return grpc::InsecureChannelCredentials();
  absl::StatusOr<std::optional<TlsFiles>> tls = TlsFor(g);
  if (!tls.ok()) return tls.status();
  return ChannelCredentialsFor(*tls);
}

absl::StatusOr<std::unique_ptr<client::CaseLogClient>> ConnectCaseLog(
    const Globals& g) {
  client::ClientOptions o;
  o.timeout = Timeout(g);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      ServiceCredentials(g);
  if (!creds.ok()) return creds.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return std::make_unique<client::CaseLogClient>(
      grpc::CreateCustomChannel(g.caselog, *creds, args), o);
}

absl::StatusOr<std::string> CommandRequestId(const Globals& g) {
  std::string id = g.request_id;
  if (id.empty()) {
    id = client::NewRequestId("refctl");
  } else if (!client::IsValidRequestId(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--request-id \"", id, "\": use 1-128 of A-Z a-z 0-9 . _ : -"));
  }
  if (g.verbose) std::cerr << "request_id: " << id << "\n";
  return id;
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string JsonLine(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

std::string KeyValues(const std::vector<std::pair<std::string, std::string>>& kv) {
  size_t width = 0;
  for (const auto& [k, v] : kv) {
    if (!v.empty()) width = std::max(width, DisplayWidth(k));
  }
  std::string out;
  for (const auto& [k, v] : kv) {
    if (v.empty()) continue;
    out += k;
    out.append(width - DisplayWidth(k) + 2, ' ');
    // Continuation lines line up under the value.
    for (char c : v) {
      out.push_back(c);
      if (c == '\n') out.append(width + 2, ' ');
    }
    out.push_back('\n');
  }
  return out;
}

namespace {

std::string StateFromMetadata(const ErrorView& v) {
  auto it = v.metadata.find("state");
  if (it == v.metadata.end()) return "";
  if (const auto* t = ParseTerm(ReferralStates(), it->second, "REFERRAL_STATE_")) {
    return absl::StrCat(t->zh, " (", t->key, ")");
  }
  return it->second;
}

std::string Hint(const absl::Status& s, const ErrorView& v, const FailContext& c) {
  const Globals* g = c.globals;
  const std::string node = g != nullptr && !g->node.empty() ? g->node : "?";
  const std::string address =
      !c.address.empty()          ? c.address
      : g == nullptr              ? ""
      : c.service == "referral"   ? g->referral
      : c.service == "directory"  ? g->directory
      : c.service == "caselog"    ? g->caselog
      : c.service == "mediation"  ? g->mediation
      : c.service == "legalaid"   ? g->legalaid
      : c.service == "deadlines"  ? g->deadlines
                                  : "";
  const std::string& r = v.reason;
  if (r == "NOT_A_PARTY") {
    return absl::StrCat(
        "your node (", node,
        ") is not party to this case: only its owner and the nodes its "
        "referrals were sent from or to may see or act on it. Check --node, "
        "or ask the owning node to refer the case to you");
  }
  if (r == "NOT_ALLOWED_FOR_ROLE" && c.command == "export") {
    return absl::StrCat("you act as ", node,
                        ". An evidence bundle carries personal data in clear: ask the "
                        "owning node, or an investigator (--purpose), to export it; "
                        "refctl verify CASE checks the chain for any party");
  }
  if (r == "NOT_ALLOWED_FOR_ROLE" && c.service == "caselog") {
    return absl::StrCat("you act as ", node,
                        ". The log commands are for the case log's operator "
                        "(refctl --node operator log ...); an agency reads cases "
                        "with refctl case show, trace, verify and export");
  }
  if (r == "NOT_ALLOWED_FOR_ROLE" && c.service == "mediation") {
    return absl::StrCat(
        "you act as ", node,
        ". Only a meeting's convener changes it (invite, reschedule, cancel, "
        "held, liability, agree, fail, pay); an invited node answers its own "
        "invitation, and the convener answers for outside parties with "
        "--invitee. Check --node; refctl meeting show MEETING names the convener");
  }
  if (r == "MEETING_STATE_CONFLICT") {
    return "see where the meeting stands: refctl meeting show MEETING. A "
           "cancelled meeting takes no more steps: convene a new one";
  }
  if (r == "MEETING_NOT_FOUND") {
    return "meeting ids look like CASE/m1: refctl meetings --case CASE lists a "
           "case's meetings";
  }
  if (r == "NOT_ALLOWED_FOR_ROLE") {
    return absl::StrCat(
        "you act as ", node,
        ". Only the addressee moves a referral forward (receive, accept, "
        "reject, return, redirect, start, hold, resume, complete, fail); only "
        "the sender resubmits or cancels. Check --node");
  }
  if (r == "REFERRAL_STATE_CONFLICT") {
    std::string state = StateFromMetadata(v);
    auto id = v.metadata.find("referral_id");
    return absl::StrCat(
        "the referral is ", state.empty() ? "in another state" : state,
        ", which does not allow this step. See where it stands: refctl referral ",
        id != v.metadata.end() ? id->second : "REFERRAL",
        ", and its history: refctl trace CASE");
  }
  if (r == "REQUEST_ID_REUSED") {
    return "this request id was already used for a different command: leave "
           "--request-id out to get a fresh one, or repeat the first command "
           "exactly";
  }
  if (r == "REFERRAL_NOT_FOUND") {
    return "referral ids look like CASE/r1: refctl referrals lists those your "
           "node sent or received";
  }
  if (r == "CASE_NOT_FOUND") {
    return "refctl cases lists the cases your node is party to";
  }
  if (r == "NODE_NOT_FOUND") {
    return "refctl directory nodes lists the agency nodes";
  }
  if (r == "NO_ROUTE") {
    return "no node takes this matter in this area: try a wider area, or "
           "refctl directory nodes";
  }
  if (r == "INVALID_FIELD" && !v.field.empty()) {
    return absl::StrCat("fix the value of ", v.field, " and run the command again");
  }
  if (r == "CONCURRENT_MODIFICATION") {
    return "someone changed it meanwhile: read it again and decide afresh";
  }
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
      return absl::StrCat(
          "is the ", c.service.empty() ? "" : c.service + " ", "service running",
          address.empty() ? "" : " at ", address, "? Start everything with ./dev up",
          c.service.empty() ? "" : absl::StrCat(", or pass --", c.service, " HOST:PORT"),
          ". A TLS mismatch looks the same: against a plaintext test server pass "
          "--plaintext; under mTLS check --pki and --node");
    case absl::StatusCode::kDeadlineExceeded:
      return absl::StrCat("no answer within --timeout ",
                          g != nullptr ? g->timeout : "", ": the service is slow or "
                          "stuck; try again, or give a longer --timeout");
    case absl::StatusCode::kUnauthenticated:
      return absl::StrCat(
          "the service did not accept who you are: under mTLS check that ",
          g != nullptr ? g->pki : "PKI", "/", node,
          ".pem is signed by ca.pem (tools/pki.sh makes both); against a "
          "plaintext test server pass --plaintext --node NODE");
    default:
      return "";
  }
}

}  // namespace

int Fail(const absl::Status& s, const FailContext& c) {
  ErrorView v = ViewError(s);
  std::cerr << "error: " << s.message() << "\n";
  if (!v.reason.empty()) {
    std::cerr << "  reason: " << absl::StatusCodeToString(s.code()) << " / " << v.reason
              << "\n";
  }
  if (!v.zh_message.empty()) std::cerr << "  说明: " << v.zh_message << "\n";
  if (std::string hint = Hint(s, v, c); !hint.empty()) {
    std::cerr << "  hint: " << hint << "\n";
  }
  if (!c.request_id.empty() && (s.code() == absl::StatusCode::kUnavailable ||
                                s.code() == absl::StatusCode::kDeadlineExceeded ||
                                s.code() == absl::StatusCode::kInternal ||
                                s.code() == absl::StatusCode::kUnknown)) {
    std::cerr << "  retry: the command may or may not have taken effect; repeat "
                 "it with --request-id "
              << c.request_id << " and it takes effect at most once\n";
  }
  return 2;
}

}  // namespace referral::refctl
