#include "storage/hash_chain.h"

#include <openssl/evp.h>
#include <openssl/sha.h>


namespace referral::storage {
namespace {
constexpr absl::string_view kDomainTag = "referral.v1.Event";
}

const std::string& GenesisHash() {
  static const std::string* zero = new std::string(kHashSize, '\0');
  return *zero;
}

std::string ChainHash(absl::string_view prev_hash, absl::string_view body) {
  // One EVP context per thread: appends hash on many threads at once.
  thread_local EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, kDomainTag.data(), kDomainTag.size());
  EVP_DigestUpdate(ctx, prev_hash.data(), prev_hash.size());
  EVP_DigestUpdate(ctx, body.data(), body.size());
  std::string out(kHashSize, '\0');
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &len);
  return out;
}

}  // namespace referral::storage
