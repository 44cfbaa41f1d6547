#include "services/referral/search_index.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/timestamps.h"
#include "common/digest.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/referral/privacy.h"

namespace referral::broker {
namespace {

constexpr int kPage = 1000;

// The claimant side of a case; every other role is "a party" to search by.
bool IsWorkerRole(v1::PartyRole role) {
  return role == v1::PARTY_ROLE_WORKER || role == v1::PARTY_ROLE_WORKER_GROUP ||
         role == v1::PARTY_ROLE_WORKER_REPRESENTATIVE;
}

std::string Fold(absl::string_view s) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
}


bool EqualsOrStartsWith(const std::vector<std::string>& names, absl::string_view q) {
  for (const std::string& n : names) {
    if (absl::StartsWith(n, q)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> SearchIndex::ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("cannot read the search key file ", path,
                                  ": check --search_key, or make one with "
                                  "`head -c 32 /dev/urandom > ",
                                  path, " && chmod 600 ", path, "`"),
                     absl::StrCat("无法读取检索密钥文件 ", path));
  }
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() < kMinKeyBytes) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("the search key file ", path, " holds ", key.size(),
                                  " bytes; it needs at least ", kMinKeyBytes,
                                  " random bytes: `head -c 32 /dev/urandom > ", path,
                                  "`"),
                     absl::StrCat("检索密钥文件 ", path, " 过短，至少需要 ",
                                  kMinKeyBytes, " 字节随机数"));
  }
  return key;
}

std::string SearchIndex::RandomKey() {
  std::string key(kMinKeyBytes, '\0');
  // RAND_bytes fails only without an entropy source, which OpenSSL treats as
  // fatal elsewhere too; a zero key would still never hold a number in clear.
  (void)RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                   static_cast<int>(key.size()));
  return key;
}

SearchIndex::SearchIndex(CaseLogPort* log, std::string key)
    : log_(log), key_(std::move(key)) {}

std::string SearchIndex::IdDigest(absl::string_view id_number) const {
  const std::string normal = NormalizeIdNumber(id_number);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(normal.data()), normal.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

absl::Status SearchIndex::Refresh() {
  absl::MutexLock refreshing(&refresh_mu_);
  v1::ReadAllRequest req;
  {
    absl::ReaderMutexLock l(&mu_);
    req.set_from_position(position_ + 1);
  }
  req.set_page_size(kPage);
  for (;;) {
    ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(req));
    {
      absl::MutexLock l(&mu_);
      for (const v1::Event& e : page.events()) Apply(e);
      if (page.next_position() > 0) position_ = page.next_position() - 1;
    }
    if (page.events_size() < kPage) return absl::OkStatus();
    req.set_from_position(page.next_position());
  }
}

void SearchIndex::Apply(const v1::Event& e) {
  if (e.has_case_opened()) {
    if (cases_.count(e.subject())) return;
    const v1::CaseOpened& o = e.case_opened();
    Entry entry;
    entry.at = Cursor{TimeOf(e.recorded_time()), e.subject()};
    for (const v1::Party& p : o.parties()) {
      if (IsWorkerRole(p.role())) {
        entry.worker_names.push_back(Fold(p.name()));
        if (!p.id_number().empty()) entry.worker_ids.push_back(IdDigest(p.id_number()));
      } else {
        entry.other_names.push_back(Fold(p.name()));
      }
    }
    entry.project = Fold(o.project());
    // The projection never sees the parties: what it keeps is free of
    // personal data by construction.
    v1::Event opened = e;
    opened.mutable_case_opened()->clear_parties();
    entry.projection.Apply(opened);
    all_.insert(entry.at);
    for (const std::string& d : entry.worker_ids) by_id_[d].insert(entry.at);
    auto it = cases_.emplace(e.subject(), std::move(entry)).first;
    for (const std::string& n : it->second.projection.parties()) {
      by_node_[n].insert(it->second.at);
    }
    it->second.parties_indexed = it->second.projection.parties().size();
    return;
  }
  auto it = cases_.find(e.subject());
  if (it == cases_.end()) return;  // counters, rosters, audit streams
  Entry& entry = it->second;
  // Only CaseOpened carries parties the projection keeps; other bodies
  // advance its version, referrals and party nodes.
  entry.projection.Apply(e);
  if (entry.projection.parties().size() != entry.parties_indexed) {
    for (const std::string& n : entry.projection.parties()) by_node_[n].insert(entry.at);
    entry.parties_indexed = entry.projection.parties().size();
  }
}

bool SearchIndex::Matches(const Entry& entry, const v1::SearchCasesRequest& q,
                          absl::string_view scope, absl::string_view id_digest) const {
  const CaseProjection& p = entry.projection;
  const v1::CaseOpened& o = p.state().opened();
  if (!scope.empty() && !p.IsParty(scope)) return false;
  if (!q.node().empty() && !p.IsParty(q.node())) return false;
  if (!id_digest.empty()) {
    bool found = false;
    for (const std::string& d : entry.worker_ids) found = found || d == id_digest;
    if (!found) return false;
  }
  if (!q.worker_name().empty() &&
      !EqualsOrStartsWith(entry.worker_names, Fold(q.worker_name()))) {
    return false;
  }
  if (!q.party_name().empty() &&
      !EqualsOrStartsWith(entry.other_names, Fold(q.party_name()))) {
    return false;
  }
  if (!q.project().empty() && !absl::StrContains(entry.project, Fold(q.project()))) {
    return false;
  }
  if (q.matter() != v1::MATTER_UNSPECIFIED && o.matter() != q.matter()) return false;
  if (q.state() != v1::REFERRAL_STATE_UNSPECIFIED) {
    bool found = false;
    for (const v1::Referral& r : p.state().referrals()) {
      found = found || r.state() == q.state();
    }
    if (!found) return false;
  }
  if (q.has_opened_from() && entry.at.opened < TimeOf(q.opened_from())) return false;
  if (q.has_opened_to() && entry.at.opened >= TimeOf(q.opened_to())) return false;
  return true;
}

SearchIndex::Page SearchIndex::Search(const v1::SearchCasesRequest& q,
                                      absl::string_view scope,
                                      const std::optional<Cursor>& after,
                                      int limit) const {
  const std::string id_digest =
      q.worker_id_number().empty() ? "" : IdDigest(q.worker_id_number());
  absl::ReaderMutexLock l(&mu_);
  // Walk the narrowest list that every match must be in.
  static const Order kNone;
  auto list = [&](const absl::flat_hash_map<std::string, Order>& m,
                  absl::string_view k) -> const Order* {
    auto it = m.find(k);
    return it == m.end() ? &kNone : &it->second;
  };
  const Order* walk = &all_;
  for (const Order* o :
       {id_digest.empty() ? nullptr : list(by_id_, id_digest),
        scope.empty() ? nullptr : list(by_node_, scope),
        q.node().empty() ? nullptr : list(by_node_, q.node())}) {
    if (o != nullptr && o->size() < walk->size()) walk = o;
  }
  Page page;
  if (limit <= 0) return page;
  const Cursor* last = nullptr;
  auto it = after ? walk->upper_bound(*after) : walk->begin();
  for (; it != walk->end(); ++it) {
    auto e = cases_.find(it->case_id);
    if (e == cases_.end() || !Matches(e->second, q, scope, id_digest)) continue;
    if (static_cast<int>(page.case_ids.size()) == limit) {
      // One more match: there is a next page, after the last one taken.
      page.next = *last;
      break;
    }
    page.case_ids.push_back(it->case_id);
    last = &*it;
  }
  return page;
}

size_t SearchIndex::size() const {
  absl::ReaderMutexLock l(&mu_);
  return cases_.size();
}

uint64_t SearchIndex::position() const {
  absl::ReaderMutexLock l(&mu_);
  return position_;
}

size_t SearchIndex::ApproximateBytes() const {
  absl::ReaderMutexLock l(&mu_);
  size_t bytes = 0;
  for (const auto& [id, e] : cases_) {
    bytes += sizeof(Entry) + id.capacity() + e.at.case_id.capacity() +
             e.project.capacity() + e.projection.state().SpaceUsedLong();
    for (const auto* list : {&e.worker_names, &e.other_names, &e.worker_ids}) {
      for (const std::string& s : *list) bytes += sizeof(std::string) + s.capacity();
    }
    // Each party node's set entry, and the order lists.
    bytes += (e.projection.parties().size() * 2 + 2 + e.worker_ids.size()) *
             (sizeof(Cursor) + 32 + e.at.case_id.capacity());
  }
  return bytes;
}

std::string SearchIndex::DebugDump() const {
  absl::ReaderMutexLock l(&mu_);
  std::string out = absl::StrCat("position ", position_, ", ", cases_.size(), " cases\n");
  for (const auto& [id, e] : cases_) {
    std::vector<std::string> ids;
    for (const std::string& d : e.worker_ids) ids.push_back(HexOf(d));
    std::vector<std::string> parties(e.projection.parties().begin(),
                                     e.projection.parties().end());
    absl::StrAppend(&out, id, " opened ", absl::FormatTime(e.at.opened), "\n",
                    "  workers: ", absl::StrJoin(e.worker_names, " | "), "\n",
                    "  worker id digests: ", absl::StrJoin(ids, " "), "\n",
                    "  other parties: ", absl::StrJoin(e.other_names, " | "), "\n",
                    "  project: ", e.project, "\n",
                    "  party nodes: ", absl::StrJoin(parties, " "), "\n",
                    "  projection: ", e.projection.state().ShortDebugString(), "\n");
  }
  for (const auto& [digest, order] : by_id_) {
    absl::StrAppend(&out, "by id ", HexOf(digest), ": ", order.size(), " cases\n");
  }
  for (const auto& [node, order] : by_node_) {
    absl::StrAppend(&out, "by node ", node, ": ", order.size(), " cases\n");
  }
  return out;
}

}  // namespace referral::broker
