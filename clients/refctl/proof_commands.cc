#include "clients/refctl/proof_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "clients/refctl/units.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
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
  std::string extends;
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

// What a signed head adds to a verdict: which key signed (set only once its
// signature verified), and whether that key was the trusted one.
struct Signature {
  bool signed_head = false;
  bool trusted = false;
  std::string key_id;
  std::string signed_at;  // RFC 3339, empty when unknown
};

// One verdict, online or offline, as refctl reports it.
struct Verdict {
  std::string what;  // "case C", "bundle of case C"
  bool intact = false;
  // Nothing could be concluded (exit 2): `problem` says why.
  bool not_checked = false;
  uint64_t checked = 0;
  std::string head;  // 32 bytes
  uint64_t first_bad = 0;
  std::string problem;
  Signature signature;
};

std::string SignatureLine(const Signature& s) {
  if (!s.signed_head) {
    return "no signed head: a cut tail shows only with --expect-head";
  }
  std::string line = s.trusted ? absl::StrCat("signed by the trusted key ", s.key_id)
                               : absl::StrCat("signed by an unverified key ", s.key_id);
  if (!s.signed_at.empty()) absl::StrAppend(&line, " at ", s.signed_at);
  if (!s.trusted) {
    absl::StrAppend(&line,
                    " (whoever holds a key can sign; pass --trust KEY.pem, the case "
                    "log's published public key, to prove the case log signed)");
  }
  return line;
}

int Report(const Globals& g, Verdict v, const std::string& expected_head) {
  if (!v.not_checked && v.intact && !expected_head.empty() && expected_head != v.head) {
    v.intact = false;
    v.problem = absl::StrCat("its head ", absl::BytesToHexString(v.head),
                             " is not the expected ", absl::BytesToHexString(expected_head),
                             ": events were removed from the end or it is another history");
  }
  const int code = v.not_checked ? 2 : v.intact ? 0 : kBroken;
  if (g.output == "json") {
    nlohmann::json j = {
        {"checked", !v.not_checked},
        {"intact", v.intact && !v.not_checked},
        {"events_checked", v.checked},
        {"head_hash", absl::BytesToHexString(v.head)},
        {"first_bad_sequence", v.first_bad},
        {"problem", v.problem},
        {"head_signed", v.signature.signed_head},
        {"signing_key_id", v.signature.key_id},
        {"signature_trusted", v.signature.trusted},
    };
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (v.not_checked) {
    std::cout << "NOT CHECKED 无法核验: " << v.what << ": " << v.problem << "\n";
  } else if (!v.intact) {
    std::cout << "BROKEN 已被篡改: " << v.what
              << (v.first_bad != 0 ? absl::StrCat(" at sequence ", v.first_bad) : "") << ": "
              << v.problem << "\n";
  } else {
    std::cout << "intact 完整: " << v.what << ", " << v.checked << " events, head "
              << absl::BytesToHexString(v.head) << "\n  " << SignatureLine(v.signature)
              << "\n";
  }
  return code;
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

// The raw public key of --trust, or "" without it.
absl::StatusOr<std::string> TrustedKey(const Flags& f) {
  if (f.trust.empty()) return std::string();
  return storage::PublicKeyFromPemFile(f.trust);
}

int VerifyOnline(const Globals& g, const Flags& f) {
  absl::StatusOr<std::string> expected = ExpectedHead(f.expect_head);
  if (!expected.ok()) return Fail(expected.status(), {"referral", &g});
  absl::StatusOr<std::string> trusted = TrustedKey(f);
  if (!trusted.ok()) return Fail(trusted.status(), {"", &g});
  v1::VerifyCaseHistoryRequest req;
  req.set_case_id(f.case_id);
  req.set_purpose(f.purpose);
  auto r = CallService(g, "referral", g.referral,
                       &v1::ReferralService::Stub::VerifyCaseHistory, req);
  if (!r.ok()) return Fail(r.status(), {"referral", &g});
  const v1::VerifyCaseResponse& answer = r->verdict();
  Verdict v;
  v.what = absl::StrCat("case ", f.case_id);
  v.intact = answer.intact();
  v.checked = answer.events_checked();
  v.head = answer.head_hash();
  v.first_bad = answer.first_bad_sequence();
  v.problem = answer.problem();
  if (!v.intact) return Report(g, v, *expected);
  if (!answer.has_signed_head()) {
    if (!trusted->empty()) {
      v.not_checked = true;
      v.problem =
          "the case log gave no signed head (it runs without --signing_key), so the "
          "end of the history cannot be checked against the trusted key";
    }
    return Report(g, v, *expected);
  }
  // The answer came through the referral service: only the signature, over
  // exactly this case, count and head, vouches for it.
  const v1::SignedHead& head = answer.signed_head();
  if (absl::Status s = storage::CheckSignedHead(head, *trusted); !s.ok()) {
    v.intact = false;
    v.problem = std::string(s.message());
    return Report(g, v, *expected);
  }
  if (head.case_id() != f.case_id || head.sequence() != v.checked ||
      head.head_hash() != v.head) {
    v.intact = false;
    v.problem = absl::StrCat("the signed head (case ", head.case_id(), ", event ",
                             head.sequence(), ") is not the head this answer reports");
    return Report(g, v, *expected);
  }
  v.signature = {true, !trusted->empty(), head.key_id(), TimeText(head.signed_at())};
  return Report(g, v, *expected);
}

// A bundle file as refctl export writes it.
absl::StatusOr<v1::EvidenceBundle> LoadBundle(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  v1::EvidenceBundle bundle;
  google::protobuf::util::JsonParseOptions options;
  auto parsed = google::protobuf::util::JsonStringToMessage(text.str(), &bundle, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not an evidence bundle (", parsed.ToString(),
                     "); make one with refctl export CASE --out FILE"));
  }
  return bundle;
}

int VerifyBundleFile(const Globals& g, const Flags& f) {
  absl::StatusOr<std::string> expected = ExpectedHead(f.expect_head);
  if (!expected.ok()) return Fail(expected.status(), {"", &g});
  absl::StatusOr<std::string> trusted = TrustedKey(f);
  if (!trusted.ok()) return Fail(trusted.status(), {"", &g});
  absl::StatusOr<v1::EvidenceBundle> bundle = LoadBundle(f.bundle);
  if (!bundle.ok()) return Fail(bundle.status(), {"", &g});
  std::optional<v1::EvidenceBundle> earlier;
  if (!f.extends.empty()) {
    absl::StatusOr<v1::EvidenceBundle> e = LoadBundle(f.extends);
    if (!e.ok()) return Fail(e.status(), {"", &g});
    earlier = *std::move(e);
  }
  Verdict v;
  v.what = absl::StrCat("bundle of case ", bundle->case_id());
  if (!trusted->empty() &&
      (!bundle->has_signed_head() || (earlier && !earlier->has_signed_head()))) {
    // Not evidence of tampering: the case log that exported it had no key.
    v.not_checked = true;
    v.problem =
        "a bundle carries no signed head, so its end cannot be checked against "
        "the trusted key; check it with --expect-head and a head held from elsewhere";
    return Report(g, v, *expected);
  }
  storage::BundleReport r = storage::VerifyBundle(*bundle, *trusted);
  v.intact = r.intact;
  v.checked = r.events_checked;
  v.head = r.head_hash;
  v.first_bad = r.first_bad_sequence;
  v.problem = r.problem;
  if (r.head_signed) {
    v.signature = {true, r.signature_trusted, r.signing_key_id,
                   TimeText(bundle->signed_head().signed_at())};
  }
  if (v.intact && earlier) {
    // The earlier export is a witness: it must stand on its own, and the
    // later history must still hold it.
    storage::BundleReport e = storage::VerifyBundle(*earlier, *trusted);
    absl::Status held = e.intact ? storage::CheckExtends(*bundle, *earlier)
                                 : absl::FailedPreconditionError(absl::StrCat(
                                       "the earlier bundle ", f.extends,
                                       " does not verify: ", e.problem));
    if (!held.ok()) {
      v.intact = false;
      v.first_bad = 0;
      v.problem = std::string(held.message());
    } else {
      v.what = absl::StrCat(v.what, " (holds the earlier export of ", e.events_checked,
                            " events unchanged)");
    }
  }
  return Report(g, v, *expected);
}

// Writes `text` to `path`, readable by its owner only: a bundle holds
// personal data in clear.
absl::Status WritePrivateFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
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
  if (absl::Status written = WritePrivateFile(f.out, json); !written.ok()) {
    return Fail(written, {"", &g});
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
  verify->add_option("--extends", f.extends,
                     "an earlier bundle of the same case: the later --bundle must still "
                     "hold its whole history unchanged");
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
      if (!f.extends.empty() && f.bundle.empty()) {
        return Fail(absl::InvalidArgumentError(
                        "--extends compares two bundles: give the later one with --bundle"),
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
