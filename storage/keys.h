// Key and record encodings of the event store's column families. The layout
// is described in storage/README.md; this file is its single implementation.
// Integers in keys are big-endian so that byte order is numeric order.

#ifndef REFERRAL_STORAGE_KEYS_H_
#define REFERRAL_STORAGE_KEYS_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

namespace referral::storage::keys {

// Column families.
inline constexpr char kEventsCf[] = "events";
inline constexpr char kPositionsCf[] = "positions";
inline constexpr char kIndexCf[] = "index";
inline constexpr char kEventIdsCf[] = "event_ids";
inline constexpr char kStreamsCf[] = "streams";
inline constexpr char kCheckpointsCf[] = "checkpoints";

// The on-disk format version, stored under kFormatKey in the default family.
inline constexpr char kFormatKey[] = "format";
inline constexpr char kFormatVersion[] = "referral-event-store/1";

void PutBigEndian64(std::string* out, uint64_t v);
uint64_t GetBigEndian64(absl::string_view in);  // reads the first 8 bytes

// events: case_id \0 seq(8) -> event record.
std::string EventKey(absl::string_view case_id, uint64_t sequence);
std::string CasePrefix(absl::string_view case_id);      // case_id \0
std::string CaseUpperBound(absl::string_view case_id);  // case_id \1
// Splits an events key; false when malformed.
bool ParseEventKey(absl::string_view key, absl::string_view* case_id,
                   uint64_t* sequence);

// positions: position(8) -> events key.
std::string PositionKey(uint64_t position);

// index: <prefix> position(8) -> events key, with prefixes
//   'T' type \0           every event of a type
//   'N' node \0           every event whose source or involved nodes name it
//   'X' node \0 type \0   both
std::string TypeIndexPrefix(absl::string_view type);
std::string NodeIndexPrefix(absl::string_view node);
std::string NodeTypeIndexPrefix(absl::string_view node, absl::string_view type);
std::string IndexKey(absl::string_view prefix, uint64_t position);

// Event record: hash(32) | deterministic serialization of the Event with
// `hash` empty. The hash is kept outside the body so that verification hashes
// the stored bytes as they are, never a re-serialization.
std::string EncodeEventRecord(absl::string_view hash, absl::string_view body);
bool DecodeEventRecord(absl::string_view record, absl::string_view* hash,
                       absl::string_view* body);

// event_ids: event_id -> what the first append of that id produced. A retry
// is recognised by it, and Verify uses it as a second witness of each
// event's hash and place.
struct IdRecord {
  std::string digest;  // SHA-256 of the event as sent, less time and assigned fields
  std::string hash;    // the event's chain hash
  uint64_t sequence = 0;
  uint64_t position = 0;
  std::string case_id;
};
std::string EncodeIdRecord(const IdRecord& r);
bool DecodeIdRecord(absl::string_view in, IdRecord* r);

// streams: case_id -> head (version, hash of the last event).
struct HeadRecord {
  uint64_t version = 0;
  std::string hash;
};
std::string EncodeHeadRecord(const HeadRecord& r);
bool DecodeHeadRecord(absl::string_view in, HeadRecord* r);

// checkpoints: name -> position(8) | update time in unix micros(8).
std::string EncodeCheckpoint(uint64_t position, int64_t unix_micros);
bool DecodeCheckpoint(absl::string_view in, uint64_t* position,
                      int64_t* unix_micros);

}  // namespace referral::storage::keys

#endif  // REFERRAL_STORAGE_KEYS_H_
