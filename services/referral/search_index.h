// SearchIndex: the cases in memory, for SearchCases. Built by following the
// case log from a position it remembers: every Refresh() reads from the
// position after the last event it applied up to the head, so a search sees
// every case committed before it started. It is rebuilt from the log at
// start (nothing is stored) and holds, per case:
//
//   - the case projection (case_projection.h) of its events with the
//     parties removed from CaseOpened: matter, project, opening time, the
//     referrals and their states, and the nodes party to the case by the
//     projection's own rule (owner, senders, addressees, every involved
//     node: invited to a meeting, escalated to);
//   - the names of its worker parties (worker, worker group, workers'
//     representative) and of its other parties, folded to lower case;
//   - for each worker party's ID number, its HMAC-SHA-256 under a secret key
//     (OpenSSL HMAC): never the number. The key comes from a file
//     (--search_key); without one the broker makes a random key per process,
//     which loses nothing since the index dies with the process too.
//
// Contacts are not indexed at all. Reads of the log go through the port, so
// the index costs one pass over the log at start and then the new events.
//
// Order: newest opened first, ties by case id; a Cursor is a place in that
// order. A case never moves in it (its opening is immutable), so paging by
// cursor neither repeats nor skips a case while new ones are opened.
//
// Thread safety: all methods may be called concurrently; refreshes run one
// at a time and searches read a consistent snapshot of what was applied.

#ifndef REFERRAL_SERVICES_REFERRAL_SEARCH_INDEX_H_
#define REFERRAL_SERVICES_REFERRAL_SEARCH_INDEX_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "referral/v1/referral_service.pb.h"
#include "services/referral/case_projection.h"
#include "services/referral/ports.h"

namespace referral::broker {

// A place in the search order.
struct Cursor {
  absl::Time opened;
  std::string case_id;
};

// Newest first, then by case id.
struct NewerFirst {
  bool operator()(const Cursor& a, const Cursor& b) const {
    if (a.opened != b.opened) return a.opened > b.opened;
    return a.case_id < b.case_id;
  }
};

class SearchIndex {
 public:
  static constexpr size_t kMinKeyBytes = 32;

  // The key in `path`, all its bytes. INVALID_ARGUMENT (CONFIG_INVALID) when
  // it cannot be read or holds fewer than kMinKeyBytes bytes.
  static absl::StatusOr<std::string> ReadKeyFile(const std::string& path);
  // kMinKeyBytes random bytes.
  static std::string RandomKey();

  // `log` is not owned and must outlive the index. `key` must hold at least
  // kMinKeyBytes bytes.
  SearchIndex(CaseLogPort* log, std::string key);

  // Applies the events from the position after the last applied one up to
  // the log's head. Errors: the log's, and then nothing is lost: the next
  // refresh reads again from the last page applied.
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(refresh_mu_, mu_);

  struct Page {
    // At most `limit` case ids, in order.
    std::vector<std::string> case_ids;
    // Where the next page starts; nullopt when there is no more.
    std::optional<Cursor> next;
  };
  // The cases that meet every criterion of `criteria` (its paging fields are
  // ignored; worker_id_number must be a valid ID number), in order, after
  // `after`. `scope`: only cases that node is party to; empty = every case.
  Page Search(const v1::SearchCasesRequest& criteria, absl::string_view scope,
              const std::optional<Cursor>& after, int limit) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // What the index keeps of an ID number: HMAC-SHA-256 of its normal form
  // (privacy.h NormalizeIdNumber) under the key, 32 bytes.
  std::string IdDigest(absl::string_view id_number) const;

  // Cases indexed, the last log position applied, and roughly the bytes the
  // entries take.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t position() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t ApproximateBytes() const ABSL_LOCKS_EXCLUDED(mu_);

  // Everything the index holds, one block per case, digests in hex: for
  // tests and debugging.
  std::string DebugDump() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    Cursor at;
    CaseProjection projection;  // CaseOpened without its parties
    std::vector<std::string> worker_names;  // folded
    std::vector<std::string> other_names;   // folded
    std::vector<std::string> worker_ids;    // IdDigest()s
    std::string project;                    // folded
    size_t parties_indexed = 0;
  };
  using Order = std::set<Cursor, NewerFirst>;

  void Apply(const v1::Event& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Matches(const Entry& entry, const v1::SearchCasesRequest& q,
               absl::string_view scope, absl::string_view id_digest) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  CaseLogPort* log_;
  const std::string key_;

  // Held for a whole refresh, so refreshes do not interleave.
  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  uint64_t position_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Entry, std::less<>> cases_ ABSL_GUARDED_BY(mu_);
  Order all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Order> by_node_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Order> by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_SEARCH_INDEX_H_
