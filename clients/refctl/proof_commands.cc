#include "clients/refctl/proof_commands.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/referral_client.h"
#include "clients/refctl/units.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "storage/evidence_bundle.h"

namespace referral::refctl {
namespace {

struct Flags {
  std::string case_id;
  std::string bundle;
  std::string out;
  std::string expect_head;
};

// Exit codes: 0 intact, 3 not intact (as `log verify`), 2 could not check.
constexpr int kBroken = 3;

absl::StatusOr<std::string> ExpectedHead(const std::string& hex) {
  if (hex.empty()) return std::string();
  const bool is_hex = hex.size() == 64 &&
                      hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!is_hex) {
    return absl::InvalidArgumentError(
        "--expect-head must be the 64 hex digits of a head hash, as `refctl "
        "verify CASE` prints it");
  }
  return absl::HexStringToBytes(hex);
}

int Report(const Globals& g, const std::string& what, bool intact,
           uint64_t checked, const std::string& head, uint64_t bad,
           const std::string& problem, const std::string& expected_head) {
  const std::string head_hex = absl::BytesToHexString(head);
  const bool head_ok = expected_head.empty() || expected_head == head;
  if (g.output == "json") {
    std::cout << "{\"intact\": " << (intact && head_ok ? "true" : "false")
              << ", \"events_checked\": " << checked << ", \"head_hash\": \""
              << head_hex << "\", \"first_bad_sequence\": " << bad
              << ", \"problem\": \""
              << absl::CEscape(head_ok ? problem
                                       : "the head differs from --expect-head")
              << "\"}\n";
  } else if (!intact) {
    std::cout << "BROKEN 已被篡改: " << what << " at sequence " << bad << ": "
              << problem << "\n";
  } else if (!head_ok) {
    std::cout << "BROKEN 已被篡改: " << what << " is self-consistent, but its head "
              << head_hex << " is not the expected "
              << absl::BytesToHexString(expected_head)
              << ": events were removed from the end or it is another history\n";
  } else {
    std::cout << "intact 完整: " << what << ", " << checked << " events, head "
              << head_hex << "\n";
  }
  return intact && head_ok ? 0 : kBroken;
}

int VerifyOnline(const Globals& g, const Flags& f) {
  absl::StatusOr<std::string> expected = ExpectedHead(f.expect_head);
  if (!expected.ok()) return Fail(expected.status(), {"caselog", &g});
  auto log = ConnectCaseLog(g);
  if (!log.ok()) return Fail(log.status(), {"caselog", &g});
  v1::VerifyCaseRequest req;
  req.set_case_id(f.case_id);
  auto r = (*log)->VerifyCase(req);
  if (!r.ok()) return Fail(r.status(), {"caselog", &g});
  return Report(g, absl::StrCat("case ", f.case_id), r->intact(), r->events_checked(),
                r->head_hash(), r->first_bad_sequence(), r->problem(), *expected);
}

int VerifyBundleFile(const Globals& g, const Flags& f) {
  absl::StatusOr<std::string> expected = ExpectedHead(f.expect_head);
  if (!expected.ok()) return Fail(expected.status(), {"", &g});
  std::ifstream in(f.bundle);
  if (!in) {
    return Fail(absl::NotFoundError(absl::StrCat("cannot read ", f.bundle)), {"", &g});
  }
  std::stringstream text;
  text << in.rdbuf();
  v1::EvidenceBundle bundle;
  google::protobuf::util::JsonParseOptions options;
  auto parsed = google::protobuf::util::JsonStringToMessage(text.str(), &bundle, options);
  if (!parsed.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
                    f.bundle, " is not an evidence bundle (", parsed.ToString(),
                    "); make one with refctl export CASE --out FILE")),
                {"", &g});
  }
  storage::BundleReport r = storage::VerifyBundle(bundle);
  return Report(g, absl::StrCat("bundle of case ", bundle.case_id()), r.intact,
                r.events_checked, r.head_hash, r.first_bad_sequence, r.problem,
                *expected);
}

int Export(const Globals& g, const Flags& f) {
  absl::StatusOr<std::optional<TlsFiles>> tls = TlsFor(g);
  if (!tls.ok()) return Fail(tls.status(), {"referral", &g});
  client::ReferralClientOptions options;
  options.timeout = Timeout(g);
  auto broker = client::ReferralClient::Connect(g.referral, g.node, *tls, options);
  if (!broker.ok()) return Fail(broker.status(), {"referral", &g});
  // Through the broker: only a party to the case (or an investigator) may
  // take its history away.
  v1::TraceCaseRequest trace;
  trace.set_case_id(f.case_id);
  auto events = (*broker)->TraceCase(trace);
  if (!events.ok()) return Fail(events.status(), {"referral", &g});
  std::vector<v1::Event> list(events->events().begin(), events->events().end());
  auto bundle = storage::MakeBundle(f.case_id, list, g.node, absl::Now());
  if (!bundle.ok()) return Fail(bundle.status(), {"referral", &g});
  // The case log's own verdict, and the head it holds now.
  auto log = ConnectCaseLog(g);
  if (!log.ok()) return Fail(log.status(), {"caselog", &g});
  v1::VerifyCaseRequest verify;
  verify.set_case_id(f.case_id);
  auto verdict = (*log)->VerifyCase(verify);
  if (!verdict.ok()) return Fail(verdict.status(), {"caselog", &g});
  bundle->set_verified_by_case_log(verdict->intact() &&
                                   verdict->head_hash() == bundle->head_hash());

  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(*bundle, &json, print);
  std::ofstream out(f.out, std::ios::trunc);
  out << json;
  out.close();
  if (!out) {
    return Fail(absl::UnavailableError(absl::StrCat("cannot write ", f.out)), {"", &g});
  }
  const std::string head = absl::BytesToHexString(bundle->head_hash());
  if (g.output == "json") {
    std::cout << "{\"bundle\": \"" << absl::CEscape(f.out) << "\", \"events\": "
              << bundle->events_size() << ", \"head_hash\": \"" << head
              << "\", \"manifest_digest\": \""
              << absl::BytesToHexString(bundle->manifest_digest())
              << "\", \"verified_by_case_log\": "
              << (bundle->verified_by_case_log() ? "true" : "false") << "}\n";
  } else {
    std::cout << "exported 已导出 " << bundle->events_size() << " events of "
              << f.case_id << " to " << f.out << "\n"
              << "  head     " << head << "\n"
              << "  manifest " << absl::BytesToHexString(bundle->manifest_digest())
              << "\n"
              << "  case log " << (bundle->verified_by_case_log() ? "intact" : "NOT INTACT")
              << "\n"
              << "Check it anywhere, with no server: refctl verify --bundle " << f.out
              << " --expect-head " << head << "\n";
  }
  return bundle->verified_by_case_log() ? 0 : kBroken;
}

}  // namespace

void AddProofCommands(CLI::App& app, Globals& g, Action& action) {
  static Flags f;
  auto* verify = app.add_subcommand(
      "verify", "prove a case's history was not altered (online, or a bundle offline)");
  verify->add_option("case", f.case_id, "case id (checked on the case log)");
  verify->add_option("--bundle", f.bundle,
                     "an evidence bundle from refctl export: checked offline, no server");
  verify->add_option("--expect-head", f.expect_head,
                     "the head hash you hold from elsewhere (64 hex): proves nothing "
                     "was cut from the end");
  verify->callback([&] {
    action = [&] {
      if (f.bundle.empty() == f.case_id.empty()) {
        return Fail(absl::InvalidArgumentError(
                        "name a CASE to verify on the case log, or --bundle FILE to "
                        "verify offline (one of the two)"),
                    {"", &g});
      }
      return f.bundle.empty() ? VerifyOnline(g, f) : VerifyBundleFile(g, f);
    };
  });

  auto* exp = app.add_subcommand("export", "write a case's evidence bundle (events, hashes, manifest)");
  exp->add_option("case", f.case_id, "case id")->required();
  exp->add_option("--out", f.out, "the bundle file to write (JSON)")->required();
  exp->callback([&] { action = [&] { return Export(g, f); }; });
}

}  // namespace referral::refctl
