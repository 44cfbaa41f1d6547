// Signed heads: the case log's signature over "case C had S events, the last
// with hash H, and the chain verified intact, at time T" (SignedHead in
// evidence.proto). A hash chain proves that nothing inside a history was
// altered, but not that its end is the real end: cutting the last events
// leaves a shorter chain that still verifies. A signed head fixes the end.
// The case log signs the head each time it verifies a case; an evidence
// bundle carries the head its events must reach, and anyone holding the
// published public key checks both offline.
//
// Keys are Ed25519 (RFC 8032) in PEM files, as `openssl genpkey -algorithm
// ed25519` writes them; `./dev` makes the development key once
// (var/secrets/caselog-head.key) and publishes its public half
// (var/pki/caselog-head.pub.pem).
//
// Thread safety: a HeadSigner is immutable after construction and may sign
// from many threads; the free functions are stateless.

#ifndef REFERRAL_STORAGE_SIGNED_HEAD_H_
#define REFERRAL_STORAGE_SIGNED_HEAD_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "referral/v1/evidence.pb.h"

namespace referral::storage {

class HeadSigner {
 public:
  // From a PEM private key file / text. INVALID_ARGUMENT (CONFIG_INVALID)
  // naming the file when it cannot be read or is not an Ed25519 private key.
  static absl::StatusOr<std::unique_ptr<HeadSigner>> FromPemFile(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<HeadSigner>> FromPem(absl::string_view pem);
  // A fresh random key (tests).
  static std::unique_ptr<HeadSigner> Generate();

  ~HeadSigner();
  HeadSigner(const HeadSigner&) = delete;
  HeadSigner& operator=(const HeadSigner&) = delete;

  // The signed statement about a head `sequence`/`head_hash` of `case_id`.
  // INTERNAL when OpenSSL cannot sign, or INVALID_ARGUMENT for a time
  // outside what the signed text can carry (TimeInSignedRange).
  absl::StatusOr<v1::SignedHead> Sign(absl::string_view case_id, uint64_t sequence,
                      absl::string_view head_hash, absl::Time now) const;

  // The raw 32-byte public key, its id (KeyIdOf) and its PEM form.
  const std::string& public_key() const { return public_key_; }
  const std::string& key_id() const { return key_id_; }
  std::string PublicKeyPem() const;

 private:
  struct Key;
  explicit HeadSigner(std::unique_ptr<Key> key);

  std::unique_ptr<Key> key_;
  std::string public_key_;
  std::string key_id_;
};

// The first 16 lowercase hex digits of SHA-256 over a raw public key.
std::string KeyIdOf(absl::string_view raw_public_key);

// Whether `t` is a time a signed head can state: Unix nanoseconds in an
// int64 (years 1678 to 2261), so the signed text names exactly one time.
bool TimeInSignedRange(absl::Time t);

// The exact text a SignedHead's signature covers (see evidence.proto).
std::string SignedText(const v1::SignedHead& head);

// The raw 32-byte Ed25519 public key in a PEM public key (or PEM private
// key: its public half). INVALID_ARGUMENT (CONFIG_INVALID) otherwise.
absl::StatusOr<std::string> PublicKeyFromPem(absl::string_view pem);
absl::StatusOr<std::string> PublicKeyFromPemFile(const std::string& path);

// OK when `head` is well formed (signing time in TimeInSignedRange), its
// key_id names its public_key, and its
// signature verifies over SignedText(head) with that key; and, when
// `trusted_public_key` (raw 32 bytes) is not empty, that key is the trusted
// one. Otherwise FAILED_PRECONDITION saying, in English, what is wrong.
absl::Status CheckSignedHead(const v1::SignedHead& head,
                             absl::string_view trusted_public_key);

}  // namespace referral::storage

#endif  // REFERRAL_STORAGE_SIGNED_HEAD_H_
