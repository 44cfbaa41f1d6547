#include "clients/refctl/proof_commands.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "clients/refctl/units.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "clients/refctl/service_call.h"
#include "referral/v1/referral_service.grpc.pb.h"
#include "storage/evidence_bundle.h"
#include "storage/signed_head.h"

namespace referral::refctl {
namespace {

struct Flags {
  std::string case_id;
  std::string bundle;
  std::string out;
  std::string expect_head;
  std::string trust;
  std::string purpose;
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

// What a signed head adds to a verdict: which key signed, and whether that
// key was compared with a trusted one.
struct Signature {
  bool signed_head = false;
  bool trusted = false;
  std::string key_id;
  std::string signed_at;  // RFC 3339, empty when unknown
};

std::string SignatureLine(const Signature& s) {
  if (!s.signed_head) {
    return "no signed head: a cut tail shows only with --expect-head";
  }
  std::string line = absl::StrCat("signed by the case log's key ", s.key_id);
  if (!s.signed_at.empty()) absl::StrAppend(&line, " at ", s.signed_at);
  absl::StrAppend(&line, s.trusted ? " (the trusted key)"
                                   : " (not compared with a trusted key: pass --trust "
                                     "KEY.pem, the case log's published public key)");
  return line;
}

int Report(const Globals& g, const std::string& what, bool intact,
           uint64_t checked, const std::string& head, uint64_t bad,
           const std::string& problem, const std::string& expected_head,
           const Signature& signature) {
  const std::string head_hex = absl::BytesToHexString(head);
  const bool head_ok = expected_head.empty() || expected_head == head;
  if (g.output == "json") {
    std::cout << "{\"intact\": " << (intact && head_ok ? "true" : "false")
              << ", \"events_checked\": " << checked << ", \"head_hash\": \""
              << head_hex << "\", \"first_bad_sequence\": " << bad
              << ", \"problem\": \""
              << absl::CEscape(head_ok ? problem
                                       : "the head differs from --expect-head")
              << "\", \"head_signed\": " << (signature.signed_head ? "true" : "false")
              << ", \"signing_key_id\": \"" << signature.key_id
              << "\", \"signature_trusted\": " << (signature.trusted ? "true" : "false")
              << "}\n";
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
              << head_hex << "\n  " << SignatureLine(signature) << "\n";
  }
  return intact && head_ok ? 0 : kBroken;
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

int VerifyOnline(const Globals& g, const Flags& f) {
  absl::StatusOr<std::string> expected = ExpectedHead(f.expect_head);
  if (!expected.ok()) return Fail(expected.status(), {"referral", &g});
  v1::VerifyCaseHistoryRequest req;
  req.set_case_id(f.case_id);
  req.set_purpose(f.purpose);
  auto r = CallService(g, "referral", g.referral,
                       &v1::ReferralService::Stub::VerifyCaseHistory, req);
  if (!r.ok()) return Fail(r.status(), {"referral", &g});
  const v1::VerifyCaseResponse& v = r->verdict();
  Signature signature;
  if (v.has_signed_head()) {
    signature.signed_head = true;
    signature.key_id = v.signed_head().key_id();
    signature.signed_at = TimeText(v.signed_head().signed_at());
    if (!f.trust.empty()) {
      absl::StatusOr<std::string> key = storage::PublicKeyFromPemFile(f.trust);
      if (!key.ok()) return Fail(key.status(), {"", &g});
      if (absl::Status s = storage::CheckSignedHead(v.signed_head(), *key); !s.ok()) {
        return Report(g, absl::StrCat("case ", f.case_id), false, v.events_checked(),
                      v.head_hash(), 0, std::string(s.message()), *expected, signature);
      }
      signature.trusted = true;
    }
  }
  return Report(g, absl::StrCat("case ", f.case_id), v.intact(), v.events_checked(),
                v.head_hash(), v.first_bad_sequence(), v.problem(), *expected, signature);
}

int VerifyBundleFile(const Globals& g, const Flags& f) {
  absl::StatusOr<std::string> expected = ExpectedHead(f.expect_head);
  if (!expected.ok()) return Fail(expected.status(), {"", &g});
  std::string trusted;
  if (!f.trust.empty()) {
    absl::StatusOr<std::string> key = storage::PublicKeyFromPemFile(f.trust);
    if (!key.ok()) return Fail(key.status(), {"", &g});
    trusted = *key;
  }
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
  storage::BundleReport r = storage::VerifyBundle(bundle, trusted);
  Signature signature{r.head_signed, r.signature_trusted, r.signing_key_id,
                      bundle.has_signed_head() ? TimeText(bundle.signed_head().signed_at())
                                               : std::string()};
  return Report(g, absl::StrCat("bundle of case ", bundle.case_id()), r.intact,
                r.events_checked, r.head_hash, r.first_bad_sequence, r.problem,
                *expected, signature);
}

int Export(const Globals& g, const Flags& f) {
  // Through the broker: only a reader who may see the case's personal data
  // in clear may take its history away, and the export is recorded.
  v1::ExportCaseEvidenceRequest req;
  req.set_case_id(f.case_id);
  req.set_purpose(f.purpose);
  auto r = CallService(g, "referral", g.referral,
                       &v1::ReferralService::Stub::ExportCaseEvidence, req);
  if (!r.ok()) {
    FailContext context{"referral", &g};
    context.command = "export";
    return Fail(r.status(), context);
  }
  const v1::EvidenceBundle& bundle = r->bundle();

  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(bundle, &json, print);
  std::ofstream out(f.out, std::ios::trunc);
  out << json;
  out.close();
  if (!out) {
    return Fail(absl::UnavailableError(absl::StrCat("cannot write ", f.out)), {"", &g});
  }
  const std::string head = absl::BytesToHexString(bundle.head_hash());
  const bool signed_head = bundle.has_signed_head();
  if (g.output == "json") {
    std::cout << "{\"bundle\": \"" << absl::CEscape(f.out) << "\", \"events\": "
              << bundle.events_size() << ", \"head_hash\": \"" << head
              << "\", \"manifest_digest\": \""
              << absl::BytesToHexString(bundle.manifest_digest())
              << "\", \"verified_by_case_log\": "
              << (bundle.verified_by_case_log() ? "true" : "false")
              << ", \"signing_key_id\": \""
              << (signed_head ? bundle.signed_head().key_id() : "") << "\"}\n";
  } else {
    std::cout << "exported 已导出 " << bundle.events_size() << " events of "
              << f.case_id << " to " << f.out << "\n"
              << "  head     " << head << "\n"
              << "  manifest " << absl::BytesToHexString(bundle.manifest_digest())
              << "\n"
              << "  case log " << (bundle.verified_by_case_log() ? "intact" : "NOT INTACT")
              << (signed_head ? absl::StrCat(", head signed by key ",
                                             bundle.signed_head().key_id())
                              : std::string(", head not signed (the case log has no "
                                            "--signing_key)"))
              << "\n"
              << "Check it anywhere, with no server: refctl verify --bundle " << f.out
              << (signed_head ? " --trust CASELOG-KEY.pub.pem"
                              : absl::StrCat(" --expect-head ", head))
              << "\n";
  }
  return bundle.verified_by_case_log() ? 0 : kBroken;
}

}  // namespace

void AddProofCommands(CLI::App& app, Globals& g, Action& action) {
  static Flags f;
  auto* verify = app.add_subcommand(
      "verify", "prove a case's history was not altered (online, or a bundle offline)");
  verify->add_option("case", f.case_id, "case id (checked by the case log, through the referral service)");
  verify->add_option("--bundle", f.bundle,
                     "an evidence bundle from refctl export: checked offline, no server");
  verify->add_option("--expect-head", f.expect_head,
                     "the head hash you hold from elsewhere (64 hex): proves nothing "
                     "was cut from the end");
  verify->add_option("--trust", f.trust,
                     "the case log's published public key (PEM): the signed head "
                     "must be signed by it");
  verify->add_option("--purpose", f.purpose,
                     "an investigator's reason for checking a case it is not party to");
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
  exp->add_option("--purpose", f.purpose,
                  "an investigator's reason for exporting a case it is not party to "
                  "(recorded)");
  exp->callback([&] { action = [&] { return Export(g, f); }; });
}

}  // namespace referral::refctl
