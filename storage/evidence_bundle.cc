#include "storage/evidence_bundle.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/errors.h"
#include "google/protobuf/util/time_util.h"
#include "storage/hash_chain.h"
#include "storage/signed_head.h"

namespace referral::storage {
namespace {

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

BundleReport Bad(BundleReport r, uint64_t sequence, std::string problem) {
  r.intact = false;
  r.first_bad_sequence = sequence;
  r.problem = std::move(problem);
  r.events.clear();
  return r;
}

}  // namespace

std::string ManifestDigest(const v1::EvidenceBundle& bundle) {
  std::string m = "referral.v1.EvidenceBundle";
  m += BigEndian64(bundle.case_id().size());
  m += bundle.case_id();
  for (const v1::BundledEvent& e : bundle.events()) {
    m += BigEndian64(e.sequence());
    m += e.hash();
  }
  return Sha256(m);
}

absl::StatusOr<v1::EvidenceBundle> MakeBundle(absl::string_view case_id,
                                              const std::vector<v1::Event>& events,
                                              absl::string_view exported_by,
                                              absl::Time now) {
  v1::EvidenceBundle b;
  b.set_format(std::string(kBundleFormat));
  b.set_case_id(std::string(case_id));
  b.set_exported_by(std::string(exported_by));
  *b.mutable_export_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  std::string prev = GenesisHash();
  for (const v1::Event& e : events) {
    v1::Event unhashed = e;
    unhashed.clear_hash();
    std::string body = SerializeDeterministic(unhashed);
    if (e.prev_hash() != prev || ChainHash(prev, body) != e.hash()) {
      return MakeError(
          ErrorReason::kCaseLogCorrupt,
          absl::StrCat("event ", e.sequence(), " of case ", case_id,
                       " does not match its hash as read; the history is not "
                       "exported. Run refctl verify ", case_id,
                       " and report it to the case log's operator"),
          "案件记录与哈希不符，未导出");
    }
    v1::BundledEvent* out = b.add_events();
    out->set_sequence(e.sequence());
    out->set_body(std::move(body));
    out->set_hash(e.hash());
    prev = e.hash();
  }
  b.set_head_hash(prev);
  b.set_manifest_digest(ManifestDigest(b));
  return b;
}

BundleReport VerifyBundle(const v1::EvidenceBundle& bundle,
                          absl::string_view trusted_public_key) {
  BundleReport r;
  if (bundle.format() != kBundleFormat) {
    return Bad(r, 0, absl::StrCat("unknown format \"", bundle.format().substr(0, 60),
                                  "\"; expected ", kBundleFormat));
  }
  std::string prev = GenesisHash();
  uint64_t expected = 1;
  for (const v1::BundledEvent& be : bundle.events()) {
    if (be.sequence() != expected) {
      return Bad(r, expected,
                 absl::StrCat("event ", expected, " is missing (found ",
                              be.sequence(), " in its place)"));
    }
    if (ChainHash(prev, be.body()) != be.hash()) {
      return Bad(r, expected,
                 absl::StrCat("event ", expected,
                              " was altered: its hash does not recompute from "
                              "its bytes and its predecessor"));
    }
    v1::Event e;
    if (!e.ParseFromString(be.body()) || e.sequence() != expected ||
        e.subject() != bundle.case_id() || e.prev_hash() != prev) {
      return Bad(r, expected,
                 absl::StrCat("event ", expected,
                              " does not say it is event ", expected, " of case ",
                              bundle.case_id()));
    }
    e.set_hash(be.hash());
    r.events.push_back(std::move(e));
    prev = be.hash();
    ++expected;
    ++r.events_checked;
  }
  r.head_hash = prev;
  if (bundle.head_hash() != prev) {
    return Bad(r, 0,
               "the head hash does not match the last event: events were "
               "removed from the end");
  }
  if (bundle.manifest_digest() != ManifestDigest(bundle)) {
    return Bad(r, 0, "the manifest digest does not match the events");
  }
  if (!bundle.has_signed_head()) {
    if (!trusted_public_key.empty()) {
      return Bad(r, 0,
                 "the bundle carries no signed head, so its end cannot be "
                 "checked against the trusted key");
    }
    r.intact = true;
    return r;
  }
  const v1::SignedHead& head = bundle.signed_head();
  if (absl::Status s = CheckSignedHead(head, trusted_public_key); !s.ok()) {
    return Bad(r, 0, std::string(s.message()));
  }
  if (head.case_id() != bundle.case_id()) {
    return Bad(r, 0, absl::StrCat("the signed head is of case ", head.case_id(),
                                  ", not of case ", bundle.case_id()));
  }
  const uint64_t last = r.events_checked;
  if (last < head.sequence()) {
    return Bad(r, last + 1,
               absl::StrCat("events were removed from the end: the case log "
                            "signed a head at event ",
                            head.sequence(), " but the bundle ends at event ", last));
  }
  if (last > head.sequence() || head.head_hash() != prev) {
    return Bad(r, head.sequence(),
               absl::StrCat("the bundle does not end at the signed head (event ",
                            head.sequence(), "): its history differs from the one "
                            "the case log signed"));
  }
  r.head_signed = true;
  r.signing_key_id = head.key_id();
  r.signature_trusted = !trusted_public_key.empty();
  r.intact = true;
  return r;
}

absl::Status CheckExtends(const v1::EvidenceBundle& later,
                          const v1::EvidenceBundle& earlier) {
  if (later.case_id() != earlier.case_id()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the bundles are of different cases (", later.case_id(), ", ",
                     earlier.case_id(), ")"));
  }
  const int n = earlier.events_size();
  if (n == 0) return absl::OkStatus();
  if (later.events_size() < n) {
    return absl::FailedPreconditionError(absl::StrCat(
        "events were removed since the earlier export: it ends at event ", n,
        ", the later one at event ", later.events_size()));
  }
  if (later.events(n - 1).hash() != earlier.events(n - 1).hash()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the history was rewritten since the earlier export: event ", n,
        " (and so some event up to it) differs between the two"));
  }
  return absl::OkStatus();
}

}  // namespace referral::storage
