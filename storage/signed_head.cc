#include "storage/signed_head.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/errors.h"
#include "common/timestamps.h"

namespace referral::storage {
namespace {

constexpr size_t kRawKeyBytes = 32;
constexpr size_t kSignatureBytes = 64;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

absl::Status BadKey(std::string what) {
  return MakeError(ErrorReason::kConfigInvalid, std::move(what), "签名密钥无效");
}

Bio MemBio(absl::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string RawPublicKey(EVP_PKEY* key) {
  std::string raw(kRawKeyBytes, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()),
                                  &len) != 1 ||
      len != kRawKeyBytes) {
    return "";
  }
  return raw;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return BadKey(absl::StrCat("cannot read the key file ", path,
                               " (make one with: openssl genpkey -algorithm ed25519 -out ",
                               path, ")"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status Unverified(std::string what) {
  return absl::FailedPreconditionError(std::move(what));
}

}  // namespace

struct HeadSigner::Key {
  Pkey pkey;
};

HeadSigner::HeadSigner(std::unique_ptr<Key> key)
    : key_(std::move(key)),
      public_key_(RawPublicKey(key_->pkey.get())),
      key_id_(KeyIdOf(public_key_)) {}

HeadSigner::~HeadSigner() = default;

absl::StatusOr<std::unique_ptr<HeadSigner>> HeadSigner::FromPem(absl::string_view pem) {
  Bio bio = MemBio(pem);
  Pkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (pkey == nullptr) return BadKey("not a PEM private key");
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return BadKey("the signing key must be Ed25519 (openssl genpkey -algorithm ed25519)");
  }
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return std::unique_ptr<HeadSigner>(new HeadSigner(std::move(key)));
}

absl::StatusOr<std::unique_ptr<HeadSigner>> HeadSigner::FromPemFile(
    const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<std::unique_ptr<HeadSigner>> signer = FromPem(*pem);
  if (!signer.ok()) {
    return BadKey(absl::StrCat(path, ": ", signer.status().message()));
  }
  return signer;
}

std::unique_ptr<HeadSigner> HeadSigner::Generate() {
  auto key = std::make_unique<Key>();
  key->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return std::unique_ptr<HeadSigner>(new HeadSigner(std::move(key)));
}

std::string HeadSigner::PublicKeyPem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_->pkey.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<v1::SignedHead> HeadSigner::Sign(absl::string_view case_id,
                                                uint64_t sequence,
                                                absl::string_view head_hash,
                                                absl::Time now) const {
  if (!TimeInSignedRange(now)) {
    return absl::InvalidArgumentError("a signed head's time must fall in years 1678 to 2261");
  }
  v1::SignedHead head;
  head.set_case_id(std::string(case_id));
  head.set_sequence(sequence);
  head.set_head_hash(std::string(head_hash));
  *head.mutable_signed_at() = ProtoTime(now);
  head.set_key_id(key_id_);
  head.set_public_key(public_key_);
  const std::string text = SignedText(head);
  std::string signature(kSignatureBytes, '\0');
  size_t len = signature.size();
  MdCtx ctx(EVP_MD_CTX_new());
  // Ed25519 signs the message itself: no separate digest.
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) != 1 ||
      len != kSignatureBytes) {
    return absl::InternalError(
        absl::StrCat("cannot sign the head of case ", case_id, " with key ", key_id_));
  }
  head.set_signature(std::move(signature));
  return head;
}

bool TimeInSignedRange(absl::Time t) {
  return t >= absl::FromUnixNanos(std::numeric_limits<int64_t>::min() + 1) &&
         t <= absl::FromUnixNanos(std::numeric_limits<int64_t>::max() - 1);
}

std::string KeyIdOf(absl::string_view raw_public_key) {
  return HexOf(Sha256(raw_public_key)).substr(0, 16);
}

std::string SignedText(const v1::SignedHead& head) {
  return absl::StrCat("referral.v1.SignedHead/1\n", head.case_id(), "\n", head.sequence(),
                      "\n", HexOf(head.head_hash()), "\n",
                      absl::ToUnixNanos(TimeOf(head.signed_at())), "\n", head.key_id());
}

absl::StatusOr<std::string> PublicKeyFromPem(absl::string_view pem) {
  Bio bio = MemBio(pem);
  Pkey pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    Bio again = MemBio(pem);
    pkey.reset(PEM_read_bio_PrivateKey(again.get(), nullptr, nullptr, nullptr));
  }
  if (pkey == nullptr) return BadKey("not a PEM public key");
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return BadKey("not an Ed25519 key (the case log signs with Ed25519)");
  }
  return RawPublicKey(pkey.get());
}

absl::StatusOr<std::string> PublicKeyFromPemFile(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<std::string> key = PublicKeyFromPem(*pem);
  if (!key.ok()) return BadKey(absl::StrCat(path, ": ", key.status().message()));
  return key;
}

absl::Status CheckSignedHead(const v1::SignedHead& head,
                             absl::string_view trusted_public_key) {
  if (head.public_key().size() != kRawKeyBytes) {
    return Unverified("the signed head carries no Ed25519 public key (32 bytes)");
  }
  if (head.key_id() != KeyIdOf(head.public_key())) {
    return Unverified(absl::StrCat("the signed head's key id ", head.key_id(),
                                   " does not name its public key (",
                                   KeyIdOf(head.public_key()), ")"));
  }
  if (!IsValidTimestamp(head.signed_at()) || !TimeInSignedRange(TimeOf(head.signed_at()))) {
    return Unverified("the signed head's signing time is not a valid time");
  }
  if (!trusted_public_key.empty() && head.public_key() != trusted_public_key) {
    return Unverified(absl::StrCat("signed by key ", head.key_id(),
                                   ", not by the trusted key ",
                                   KeyIdOf(trusted_public_key)));
  }
  Pkey pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(head.public_key().data()),
      head.public_key().size()));
  if (pkey == nullptr) return Unverified("the signed head's public key is not usable");
  const std::string text = SignedText(head);
  MdCtx ctx(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestVerify(ctx.get(),
                       reinterpret_cast<const unsigned char*>(head.signature().data()),
                       head.signature().size(),
                       reinterpret_cast<const unsigned char*>(text.data()),
                       text.size()) != 1) {
    return Unverified(absl::StrCat("the signature over case ", head.case_id(),
                                   "'s head (sequence ", head.sequence(),
                                   ") does not verify with key ", head.key_id(),
                                   ": the signed head was altered or forged"));
  }
  return absl::OkStatus();
}

}  // namespace referral::storage
