// The per-case SHA-256 hash chain.
//
//   hash(e_n) = SHA-256("referral.v1.Event" || hash(e_{n-1}) || body(e_n))
//
// where hash(e_0) is 32 zero bytes and body(e_n) is the deterministic
// protobuf serialization of e_n with its `hash` field empty (its prev_hash
// holds hash(e_{n-1})). The domain tag keeps these hashes from colliding with
// any other SHA-256 use.

#ifndef REFERRAL_STORAGE_HASH_CHAIN_H_
#define REFERRAL_STORAGE_HASH_CHAIN_H_

#include <string>
#include "absl/strings/string_view.h"

#include "common/digest.h"

namespace referral::storage {

inline constexpr size_t kHashSize = 32;

// 32 zero bytes: the hash before a case's first event.
const std::string& GenesisHash();

// The chain hash of an event whose serialized body is `body`.
std::string ChainHash(absl::string_view prev_hash, absl::string_view body);

using ::referral::HexOf;
using ::referral::SerializeDeterministic;
using ::referral::Sha256;

}  // namespace referral::storage

#endif  // REFERRAL_STORAGE_HASH_CHAIN_H_
