#include "storage/keys.h"

namespace referral::storage::keys {
namespace {
constexpr size_t kHashSize = 32;
}

void PutBigEndian64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

uint64_t GetBigEndian64(absl::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string EventKey(absl::string_view case_id, uint64_t sequence) {
  std::string k = CasePrefix(case_id);
  PutBigEndian64(&k, sequence);
  return k;
}

std::string CasePrefix(absl::string_view case_id) {
  std::string k(case_id);
  k.push_back('\0');
  return k;
}

std::string CaseUpperBound(absl::string_view case_id) {
  std::string k(case_id);
  k.push_back('\1');
  return k;
}

bool ParseEventKey(absl::string_view key, absl::string_view* case_id,
                   uint64_t* sequence) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return false;
  *case_id = key.substr(0, key.size() - 9);
  *sequence = GetBigEndian64(key.substr(key.size() - 8));
  return true;
}

std::string PositionKey(uint64_t position) {
  std::string k;
  PutBigEndian64(&k, position);
  return k;
}

std::string TypeIndexPrefix(absl::string_view type) {
  std::string k = "T";
  k.append(type.data(), type.size());
  k.push_back('\0');
  return k;
}

std::string NodeIndexPrefix(absl::string_view node) {
  std::string k = "N";
  k.append(node.data(), node.size());
  k.push_back('\0');
  return k;
}

std::string NodeTypeIndexPrefix(absl::string_view node, absl::string_view type) {
  std::string k = "X";
  k.append(node.data(), node.size());
  k.push_back('\0');
  k.append(type.data(), type.size());
  k.push_back('\0');
  return k;
}

std::string IndexKey(absl::string_view prefix, uint64_t position) {
  std::string k(prefix.data(), prefix.size());
  PutBigEndian64(&k, position);
  return k;
}

std::string EncodeEventRecord(absl::string_view hash, absl::string_view body) {
  std::string r(hash.data(), hash.size());
  r.append(body.data(), body.size());
  return r;
}

bool DecodeEventRecord(absl::string_view record, absl::string_view* hash,
                       absl::string_view* body) {
  if (record.size() < kHashSize) return false;
  *hash = record.substr(0, kHashSize);
  *body = record.substr(kHashSize);
  return true;
}

std::string EncodeIdRecord(const IdRecord& r) {
  std::string out = r.digest;
  out.append(r.hash);
  PutBigEndian64(&out, r.sequence);
  PutBigEndian64(&out, r.position);
  out.append(r.case_id);
  return out;
}

bool DecodeIdRecord(absl::string_view in, IdRecord* r) {
  if (in.size() < 2 * kHashSize + 16) return false;
  r->digest = std::string(in.substr(0, kHashSize));
  r->hash = std::string(in.substr(kHashSize, kHashSize));
  r->sequence = GetBigEndian64(in.substr(2 * kHashSize));
  r->position = GetBigEndian64(in.substr(2 * kHashSize + 8));
  r->case_id = std::string(in.substr(2 * kHashSize + 16));
  return true;
}

std::string EncodeHeadRecord(const HeadRecord& r) {
  std::string out;
  PutBigEndian64(&out, r.version);
  out.append(r.hash);
  return out;
}

bool DecodeHeadRecord(absl::string_view in, HeadRecord* r) {
  if (in.size() != 8 + kHashSize) return false;
  r->version = GetBigEndian64(in);
  r->hash = std::string(in.substr(8));
  return true;
}

std::string EncodeCheckpoint(uint64_t position, int64_t unix_micros) {
  std::string out;
  PutBigEndian64(&out, position);
  PutBigEndian64(&out, static_cast<uint64_t>(unix_micros));
  return out;
}

bool DecodeCheckpoint(absl::string_view in, uint64_t* position,
                      int64_t* unix_micros) {
  if (in.size() != 16) return false;
  *position = GetBigEndian64(in);
  *unix_micros = static_cast<int64_t>(GetBigEndian64(in.substr(8)));
  return true;
}

}  // namespace referral::storage::keys
