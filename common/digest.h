// SHA-256 and the deterministic protobuf serialization digests are taken
// over. Shared by the event store's hash chain and the services' request
// digests.

#ifndef REFERRAL_COMMON_DIGEST_H_
#define REFERRAL_COMMON_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace referral {

// SHA-256 of `data`, 32 bytes.
std::string Sha256(absl::string_view data);

// Deterministic serialization (map entries sorted), stable within a build.
std::string SerializeDeterministic(const google::protobuf::Message& message);

// Lower-case hex.
std::string HexOf(absl::string_view bytes);

}  // namespace referral

#endif  // REFERRAL_COMMON_DIGEST_H_
