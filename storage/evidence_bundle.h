// Evidence bundles: a case's history in a form that proves itself offline.
// MakeBundle packs the events a reader got from the case log (each with its
// stored hash) and checks, while packing, that each hash recomputes from the
// event's bytes; VerifyBundle checks a bundle with nothing but the bundle:
// the chain from genesis, gapless sequences, each body naming the case and
// its own sequence, and the manifest digest. Neither needs a server or a
// store, so a court's expert can run `refctl verify --bundle` on a laptop.

#ifndef REFERRAL_STORAGE_EVIDENCE_BUNDLE_H_
#define REFERRAL_STORAGE_EVIDENCE_BUNDLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/evidence.pb.h"

namespace referral::storage {

inline constexpr absl::string_view kBundleFormat = "referral.v1.EvidenceBundle/1";

// Packs a whole case (events in order, as read, hashes included).
// CASE_LOG_CORRUPT when an event's hash does not recompute from its bytes or
// does not link to its predecessor: such a history is not exported.
absl::StatusOr<v1::EvidenceBundle> MakeBundle(absl::string_view case_id,
                                              const std::vector<v1::Event>& events,
                                              absl::string_view exported_by,
                                              absl::Time now);

struct BundleReport {
  bool intact = false;
  uint64_t events_checked = 0;
  // When not intact: the first sequence found wrong (0 = the bundle as a
  // whole: format, manifest) and what was wrong, in English.
  uint64_t first_bad_sequence = 0;
  std::string problem;
  std::string head_hash;  // 32 bytes
  // The bundle carries a signed head that its events reach exactly and
  // whose signature verifies; signature_trusted when it was checked against
  // a trusted key rather than only the key the bundle carries.
  bool head_signed = false;
  bool signature_trusted = false;
  std::string signing_key_id;
  // The events, parsed from their bodies, when intact.
  std::vector<v1::Event> events;
};

// Checks a bundle offline. Never fails for a bad bundle (that is a report
// with intact = false). When the bundle has a signed head (signed_head.h),
// its signature must verify and the events must end exactly at it: that is
// what catches a cut tail. With `trusted_public_key` (raw 32 bytes), the
// head must be signed by that key, and a bundle without a signed head is not
// intact.
BundleReport VerifyBundle(const v1::EvidenceBundle& bundle,
                          absl::string_view trusted_public_key = "");

// OK when `later` still holds `earlier`'s whole history unchanged: the same
// case, at least as many events, and at earlier's last sequence the same
// chain hash (the chain makes every event before it equal too). This is how
// an earlier export witnesses a later one: a history rewritten or cut
// between the two exports fails, even when the later bundle is
// self-consistent and freshly signed. Both bundles must verify on their own
// first (VerifyBundle). FAILED_PRECONDITION saying what differs otherwise.
absl::Status CheckExtends(const v1::EvidenceBundle& later,
                          const v1::EvidenceBundle& earlier);

// The manifest digest of a bundle's case id, sequences and hashes.
std::string ManifestDigest(const v1::EvidenceBundle& bundle);

}  // namespace referral::storage

#endif  // REFERRAL_STORAGE_EVIDENCE_BUNDLE_H_
