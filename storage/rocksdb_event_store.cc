// The RocksDB implementation of EventStore. The on-disk layout is in
// storage/README.md and storage/keys.h.
//
// Writes: Append validates and digests its events on the caller's thread,
// then joins a queue. The writer at the front becomes the leader: it takes
// the queue's current contents as a group, checks versions and idempotency
// for each in order, stages every accepted append into one WriteBatch, and
// writes it with one synced write. Positions are therefore assigned and made
// visible strictly in order, one group at a time, which is what lets a
// subscriber switch from catch-up to live reading without a gap.

#include <algorithm>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "storage/commit_notifier.h"
#include "storage/event_store.h"
#include "storage/hash_chain.h"
#include "storage/keys.h"

namespace referral::storage {
namespace {

using keys::HeadRecord;
using keys::IdRecord;

// A group stops growing past these, so one slow giant append cannot hold a
// crowd of small ones for long.
constexpr size_t kMaxGroupEvents = 4096;
constexpr size_t kMaxGroupBytes = 16 << 20;
// The stream-head cache is dropped wholesale when it grows past this; heads
// are re-read from the streams family on demand.
constexpr size_t kMaxCachedHeads = 200000;

rocksdb::Slice Sl(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

absl::Status StorageError(const rocksdb::Status& s, absl::string_view what) {
  return MakeError(ErrorReason::kStorageFailure,
                   absl::StrCat(what, ": ", s.ToString()),
                   "案件日志存储出错，结果未知；请稍后用相同的事件编号重试（不会重复写入）");
}

absl::Status Corrupt(absl::string_view what) {
  return MakeError(ErrorReason::kCaseLogCorrupt, std::string(what),
                   "案件日志记录已损坏，请联系管理员核查");
}

// An Append's event after validation: normalised as stored (minus the fields
// assigned at commit) and the digest a retry is compared by.
struct PreparedEvent {
  Event event;
  std::string digest;
  size_t bytes = 0;
};

class RocksDbEventStore;

class RocksSubscription final : public Subscription {
 public:
  RocksSubscription(RocksDbEventStore* store, CommitNotifier* notifier,
                    uint64_t from, EventFilter filter)
      : store_(store),
        notifier_(notifier),
        cursor_(std::max<uint64_t>(from, 1)),
        filter_(std::move(filter)) {}

  absl::StatusOr<std::vector<Event>> Next(size_t max_events,
                                          absl::Duration timeout) override;
  uint64_t next_position() const override { return cursor_; }

 private:
  RocksDbEventStore* store_;
  CommitNotifier* notifier_;
  uint64_t cursor_;
  EventFilter filter_;
};

class RocksDbEventStore final : public EventStore {
 public:
  RocksDbEventStore(EventStoreOptions options, std::unique_ptr<rocksdb::DB> db,
                    std::vector<rocksdb::ColumnFamilyHandle*> handles,
                    uint64_t last_position)
      : options_(std::move(options)),
        db_(std::move(db)),
        handles_(std::move(handles)),
        events_(handles_[1]),
        positions_(handles_[2]),
        index_(handles_[3]),
        ids_(handles_[4]),
        streams_(handles_[5]),
        checkpoints_(handles_[6]),
        next_position_(last_position + 1),
        notifier_(std::make_unique<CommitNotifier>(last_position)) {}

  ~RocksDbEventStore() override {
    notifier_.reset();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }

  absl::StatusOr<AppendResult> Append(absl::string_view case_id,
                                      ExpectedVersion expected,
                                      std::vector<Event> events) override;
  absl::StatusOr<ReadCaseResult> ReadCase(absl::string_view case_id,
                                          uint64_t from_sequence,
                                          Direction direction,
                                          size_t limit) override;
  absl::StatusOr<uint64_t> CaseVersion(absl::string_view case_id) override;
  absl::StatusOr<ReadAllResult> ReadAll(uint64_t from_position,
                                        const EventFilter& filter,
                                        size_t limit) override;
  uint64_t LastPosition() const override { return notifier_->position(); }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      uint64_t from_position, const EventFilter& filter) override;
  uint64_t WatchBeyond(uint64_t position,
                       std::function<void()> callback) override {
    return notifier_->WatchBeyond(position, std::move(callback));
  }
  bool CancelWatch(uint64_t watch_id) override {
    return notifier_->Cancel(watch_id);
  }
  absl::StatusOr<VerifyResult> Verify(absl::string_view case_id) override;
  absl::StatusOr<Checkpoint> SetCheckpoint(absl::string_view name,
                                           uint64_t position) override;
  absl::StatusOr<Checkpoint> GetCheckpoint(absl::string_view name) override;

 private:
  struct Writer {
    absl::string_view case_id;
    ExpectedVersion expected = ExpectedVersion::Any();
    std::vector<PreparedEvent>* events = nullptr;
    size_t bytes = 0;
    absl::StatusOr<AppendResult> result;
    bool done = false;
  };

  // What a group has staged so far, seen by later appends of the same group.
  struct GroupState {
    absl::flat_hash_map<std::string, HeadRecord> heads;
    absl::flat_hash_map<std::string, IdRecord> ids;
    uint64_t next_position = 0;
  };

  absl::Status Prepare(absl::string_view case_id, std::vector<Event>& events,
                       std::vector<PreparedEvent>* out) const;
  void CommitGroup(const std::vector<Writer*>& group);
  absl::StatusOr<AppendResult> Stage(const Writer& w, GroupState& g,
                                     rocksdb::WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_mu_);
  absl::StatusOr<HeadRecord> HeadFor(absl::string_view case_id, GroupState& g)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_mu_);
  absl::StatusOr<std::optional<HeadRecord>> LoadHead(absl::string_view case_id);
  absl::StatusOr<std::optional<IdRecord>> LoadId(absl::string_view event_id);
  absl::Status DecodeEvent(absl::string_view value, Event* event) const;
  absl::StatusOr<std::vector<Event>> FetchEvents(
      const std::vector<std::string>& event_keys);
  absl::Status ValidateFilter(const EventFilter& filter) const;

  const EventStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* const events_;
  rocksdb::ColumnFamilyHandle* const positions_;
  rocksdb::ColumnFamilyHandle* const index_;
  rocksdb::ColumnFamilyHandle* const ids_;
  rocksdb::ColumnFamilyHandle* const streams_;
  rocksdb::ColumnFamilyHandle* const checkpoints_;

  absl::Mutex queue_mu_;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(queue_mu_);

  // Held by the one leader while it commits a group.
  absl::Mutex leader_mu_;
  uint64_t next_position_ ABSL_GUARDED_BY(leader_mu_);
  absl::flat_hash_map<std::string, HeadRecord> heads_
      ABSL_GUARDED_BY(leader_mu_);

  std::unique_ptr<CommitNotifier> notifier_;
};

// ---------------------------------------------------------------- Append

absl::Status RocksDbEventStore::Prepare(absl::string_view case_id,
                                        std::vector<Event>& events,
                                        std::vector<PreparedEvent>* out) const {
  RETURN_IF_ERROR(ValidateCaseId(case_id, "case_id"));
  if (events.empty()) {
    return MakeError(ErrorReason::kInvalidField,
                     "events is empty: an append needs at least one event",
                     "至少需要一个事件", {.field = "events"});
  }
  if (events.size() > options_.max_events_per_append) {
    return MakeError(
        ErrorReason::kInvalidField,
        absl::StrCat("an append holds at most ", options_.max_events_per_append,
                     " events; this one has ", events.size(),
                     ": split it into several appends"),
        absl::StrCat("单次最多追加 ", options_.max_events_per_append, " 个事件"),
        {.field = "events"});
  }
  std::set<absl::string_view> seen;
  out->reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    Event& e = events[i];
    std::string at = absl::StrCat("events[", i, "]");
    RETURN_IF_ERROR(ValidateToken(e.event_id(), at + ".event_id"));
    if (!seen.insert(e.event_id()).second) {
      return MakeError(
          ErrorReason::kInvalidField,
          absl::StrCat(at, ".event_id \"", e.event_id(),
                       "\" appears twice in this append: give each event its "
                       "own id"),
          "同一批次中的事件编号重复", {.field = at + ".event_id"});
    }
    RETURN_IF_ERROR(ValidateNodeName(e.source(), at + ".source"));
    for (int j = 0; j < e.involved_nodes_size(); ++j) {
      RETURN_IF_ERROR(ValidateNodeName(
          e.involved_nodes(j), absl::StrCat(at, ".involved_nodes[", j, "]")));
    }
    if (!e.actor().node().empty()) {
      RETURN_IF_ERROR(ValidateNodeName(e.actor().node(), at + ".actor.node"));
    }
    if (!e.subject().empty() && e.subject() != case_id) {
      return MakeError(
          ErrorReason::kInvalidField,
          absl::StrCat(at, ".subject is \"", e.subject(),
                       "\" but the append is to case \"", case_id,
                       "\": leave subject empty or set it to the case id"),
          "事件所属案件与追加的案件不一致", {.field = at + ".subject"});
    }
    std::string type = EventTypeOf(e);
    if (type.empty()) {
      return MakeError(
          ErrorReason::kUnknownEventKind,
          absl::StrCat(at, " has no body this case log knows: set one of the "
                           "Event.body fields (e.g. case_opened)"),
          "事件类型未知或缺失", {.field = at + ".body"});
    }
    if (!e.type().empty() && e.type() != type) {
      return MakeError(
          ErrorReason::kInvalidField,
          absl::StrCat(at, ".type is \"", e.type(), "\" but its body is a ",
                       type, ": leave type empty"),
          "事件类型与事件内容不一致", {.field = at + ".type"});
    }
    size_t bytes = e.ByteSizeLong();
    if (bytes > options_.max_event_bytes) {
      return MakeError(
          ErrorReason::kEventTooLarge,
          absl::StrCat(at, " is ", bytes, " bytes; the limit is ",
                       options_.max_event_bytes,
                       ": store large material elsewhere and reference it by "
                       "SHA-256"),
          "单个事件过大，请将材料另存并以摘要引用",
          {.metadata = {{"event_bytes", absl::StrCat(bytes)},
                        {"limit_bytes", absl::StrCat(options_.max_event_bytes)}},
           .field = at});
    }
    // Fields the log assigns are not the writer's to set; a writer echoing
    // an event it read back gets the same digest as the original.
    e.clear_sequence();
    e.clear_global_position();
    e.clear_recorded_time();
    e.clear_prev_hash();
    e.clear_hash();
    e.set_subject(std::string(case_id));
    e.set_type(std::move(type));
    PreparedEvent p;
    {
      // `time` is left out of the digest: when the writer omits it the log
      // fills it in, and an event read back and sent again must still be
      // recognised as the same event.
      Event identity = e;
      identity.clear_time();
      p.digest = Sha256(SerializeDeterministic(identity));
    }
    p.bytes = bytes;
    p.event = std::move(e);
    out->push_back(std::move(p));
  }
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> RocksDbEventStore::Append(
    absl::string_view case_id, ExpectedVersion expected,
    std::vector<Event> events) {
  std::vector<PreparedEvent> prepared;
  RETURN_IF_ERROR(Prepare(case_id, events, &prepared));

  Writer w;
  w.case_id = case_id;
  w.expected = expected;
  w.events = &prepared;
  for (const auto& p : prepared) w.bytes += p.bytes;

  std::vector<Writer*> group;
  {
    absl::MutexLock l(&queue_mu_);
    writers_.push_back(&w);
    auto ready = [this, &w]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
      return w.done || writers_.front() == &w;
    };
    queue_mu_.Await(absl::Condition(&ready));
    if (w.done) return std::move(w.result);
    // Leader: take a group from the front of the queue.
    size_t events_in = 0, bytes_in = 0;
    for (Writer* x : writers_) {
      if (!group.empty() && (events_in + x->events->size() > kMaxGroupEvents ||
                             bytes_in + x->bytes > kMaxGroupBytes)) {
        break;
      }
      group.push_back(x);
      events_in += x->events->size();
      bytes_in += x->bytes;
    }
  }

  CommitGroup(group);

  {
    absl::MutexLock l(&queue_mu_);
    for (Writer* x : group) {
      writers_.pop_front();
      x->done = true;
    }
  }
  return std::move(w.result);
}

void RocksDbEventStore::CommitGroup(const std::vector<Writer*>& group) {
  absl::MutexLock leader(&leader_mu_);
  GroupState g;
  g.next_position = next_position_;
  rocksdb::WriteBatch batch;
  std::vector<Writer*> staged;
  for (Writer* w : group) {
    w->result = Stage(*w, g, batch);
    if (w->result.ok() && !w->result->deduplicated) staged.push_back(w);
  }
  if (staged.empty()) return;

  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) {
    absl::Status err = StorageError(s, "appending to the case log");
    // A deduplicated answer that leaned on an event staged in this failed
    // batch is not true either.
    for (Writer* w : group) {
      if (w->result.ok()) w->result = err;
    }
    return;
  }
  if (heads_.size() + g.heads.size() > kMaxCachedHeads) heads_.clear();
  for (auto& [case_id, head] : g.heads) heads_[case_id] = std::move(head);
  next_position_ = g.next_position;
  notifier_->Publish(next_position_ - 1);
}

absl::StatusOr<HeadRecord> RocksDbEventStore::HeadFor(absl::string_view case_id,
                                                      GroupState& g) {
  if (auto it = g.heads.find(case_id); it != g.heads.end()) return it->second;
  if (auto it = heads_.find(case_id); it != heads_.end()) return it->second;
  ASSIGN_OR_RETURN(std::optional<HeadRecord> loaded, LoadHead(case_id));
  if (loaded) return *loaded;
  return HeadRecord{0, GenesisHash()};
}

absl::StatusOr<AppendResult> RocksDbEventStore::Stage(
    const Writer& w, GroupState& g, rocksdb::WriteBatch& batch) {
  const std::vector<PreparedEvent>& events = *w.events;

  // Idempotency first: a retry of an append that succeeded must get its
  // first answer, whatever the case's version is now.
  std::vector<std::optional<IdRecord>> prior(events.size());
  size_t found = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& id = events[i].event.event_id();
    if (auto it = g.ids.find(id); it != g.ids.end()) {
      prior[i] = it->second;
    } else {
      ASSIGN_OR_RETURN(prior[i], LoadId(id));
    }
    if (prior[i]) ++found;
  }
  if (found > 0) {
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string& id = events[i].event.event_id();
      if (!prior[i]) {
        return MakeError(
            ErrorReason::kEventIdReused,
            absl::StrCat("this append mixes events already in the log with new "
                         "ones (events[", i, "] \"", id,
                         "\" is new): retry the original batch as it was, or "
                         "append the new events with their own ids"),
            "本批事件部分已写入：请原样重试原批次，或为新事件使用新编号",
            {.field = absl::StrCat("events[", i, "].event_id")});
      }
      const IdRecord& r = *prior[i];
      bool same_place = r.case_id == w.case_id &&
                        r.sequence == prior[0]->sequence + i &&
                        r.position == prior[0]->position + i;
      if (r.digest != events[i].digest || !same_place) {
        return MakeError(
            ErrorReason::kEventIdReused,
            absl::StrCat("event_id \"", id, "\" is already in the log (case ",
                         r.case_id, ", sequence ", r.sequence, ") with ",
                         r.digest != events[i].digest ? "different content"
                                                      : "a different batch",
                         ": use a new id for a new event"),
            "事件编号已被其他内容使用，请为新事件使用新编号",
            {.metadata = {{"case_id", r.case_id},
                          {"sequence", absl::StrCat(r.sequence)}},
             .field = absl::StrCat("events[", i, "].event_id")});
      }
    }
    AppendResult dup;
    dup.first_sequence = prior.front()->sequence;
    dup.last_sequence = prior.back()->sequence;
    dup.first_position = prior.front()->position;
    dup.last_position = prior.back()->position;
    dup.deduplicated = true;
    dup.head_hash = prior.back()->hash;
    return dup;
  }

  ASSIGN_OR_RETURN(HeadRecord head, HeadFor(w.case_id, g));
  const uint64_t current = head.version;
  bool matches = true;
  switch (w.expected.kind()) {
    case ExpectedVersion::Kind::kAny:
      break;
    case ExpectedVersion::Kind::kNoStream:
      matches = current == 0;
      break;
    case ExpectedVersion::Kind::kExact:
      matches = current == w.expected.version();
      break;
  }
  if (!matches) {
    std::string wanted =
        w.expected.kind() == ExpectedVersion::Kind::kNoStream
            ? "no events yet"
            : absl::StrCat("version ", w.expected.version());
    return MakeError(
        ErrorReason::kConcurrentModification,
        absl::StrCat("case ", w.case_id, " is at version ", current,
                     " but the append expected ", wanted,
                     ": read the case again and decide afresh"),
        absl::StrCat("案件已被更新（当前版本 ", current, "），请刷新后重试"),
        {.metadata = {{"case_id", std::string(w.case_id)},
                      {"current_version", absl::StrCat(current)}}});
  }

  const absl::Time now = options_.clock();
  const auto now_ts = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(now));
  AppendResult result;
  result.first_sequence = head.version + 1;
  result.first_position = g.next_position;
  std::string event_key;
  for (const PreparedEvent& p : events) {
    Event e = p.event;
    const uint64_t seq = ++head.version;
    const uint64_t pos = g.next_position++;
    e.set_sequence(seq);
    e.set_global_position(pos);
    *e.mutable_recorded_time() = now_ts;
    if (!e.has_time()) *e.mutable_time() = now_ts;
    e.set_prev_hash(head.hash);
    std::string body = SerializeDeterministic(e);
    head.hash = ChainHash(head.hash, body);

    event_key = keys::EventKey(w.case_id, seq);
    batch.Put(events_, event_key, keys::EncodeEventRecord(head.hash, body));
    batch.Put(positions_, keys::PositionKey(pos), event_key);
    batch.Put(index_, keys::IndexKey(keys::TypeIndexPrefix(e.type()), pos),
              event_key);
    std::set<absl::string_view> nodes = {e.source()};
    for (const auto& n : e.involved_nodes()) nodes.insert(n);
    for (absl::string_view n : nodes) {
      batch.Put(index_, keys::IndexKey(keys::NodeIndexPrefix(n), pos),
                event_key);
      batch.Put(index_,
                keys::IndexKey(keys::NodeTypeIndexPrefix(n, e.type()), pos),
                event_key);
    }
    IdRecord rec{p.digest, head.hash, seq, pos, std::string(w.case_id)};
    batch.Put(ids_, e.event_id(), keys::EncodeIdRecord(rec));
    g.ids[e.event_id()] = std::move(rec);
  }
  batch.Put(streams_, Sl(w.case_id), keys::EncodeHeadRecord(head));
  result.last_sequence = head.version;
  result.last_position = g.next_position - 1;
  result.head_hash = head.hash;
  g.heads[std::string(w.case_id)] = std::move(head);
  return result;
}

// ---------------------------------------------------------------- Reads

absl::StatusOr<std::optional<HeadRecord>> RocksDbEventStore::LoadHead(
    absl::string_view case_id) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), streams_, Sl(case_id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return StorageError(s, "reading a case head");
  HeadRecord head;
  if (!keys::DecodeHeadRecord(value, &head)) {
    return Corrupt(absl::StrCat("the head record of case ", case_id,
                                " does not decode"));
  }
  return head;
}

absl::StatusOr<std::optional<IdRecord>> RocksDbEventStore::LoadId(
    absl::string_view event_id) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ids_, Sl(event_id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return StorageError(s, "reading the event id index");
  IdRecord r;
  if (!keys::DecodeIdRecord(value, &r)) {
    return Corrupt(absl::StrCat("the id record of event ", event_id,
                                " does not decode"));
  }
  return r;
}

absl::Status RocksDbEventStore::DecodeEvent(absl::string_view value,
                                            Event* event) const {
  absl::string_view hash, body;
  if (!keys::DecodeEventRecord(value, &hash, &body) ||
      !event->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Corrupt("a stored event record does not parse");
  }
  event->set_hash(std::string(hash));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RocksDbEventStore::CaseVersion(
    absl::string_view case_id) {
  RETURN_IF_ERROR(ValidateCaseId(case_id, "case_id"));
  ASSIGN_OR_RETURN(std::optional<HeadRecord> head, LoadHead(case_id));
  return head ? head->version : 0;
}

absl::StatusOr<ReadCaseResult> RocksDbEventStore::ReadCase(
    absl::string_view case_id, uint64_t from_sequence, Direction direction,
    size_t limit) {
  RETURN_IF_ERROR(ValidateCaseId(case_id, "case_id"));
  if (limit == 0) {
    return MakeError(ErrorReason::kInvalidField, "limit must be at least 1",
                     "每页数量至少为 1", {.field = "page_size"});
  }
  ASSIGN_OR_RETURN(std::optional<HeadRecord> head, LoadHead(case_id));
  if (!head) {
    return MakeError(ErrorReason::kCaseNotFound,
                     absl::StrCat("case ", case_id, " has no events"),
                     "案件不存在", {.metadata = {{"case_id", std::string(case_id)}}});
  }
  ReadCaseResult result;
  result.case_version = head->version;

  const std::string lower = keys::CasePrefix(case_id);
  const std::string upper = keys::CaseUpperBound(case_id);
  rocksdb::Slice lower_slice(lower), upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  const bool forward = direction == Direction::kForward;
  if (forward) {
    it->Seek(keys::EventKey(case_id, std::max<uint64_t>(from_sequence, 1)));
  } else {
    it->SeekForPrev(keys::EventKey(
        case_id, from_sequence == 0 ? UINT64_MAX : from_sequence));
  }
  for (; it->Valid(); forward ? it->Next() : it->Prev()) {
    absl::string_view k(it->key().data(), it->key().size());
    absl::string_view cid;
    uint64_t seq = 0;
    if (!keys::ParseEventKey(k, &cid, &seq)) {
      return Corrupt(absl::StrCat("case ", case_id, " has a malformed key"));
    }
    if (result.events.size() == limit) {
      result.next_sequence = seq;
      break;
    }
    Event e;
    RETURN_IF_ERROR(DecodeEvent(
        absl::string_view(it->value().data(), it->value().size()), &e));
    result.events.push_back(std::move(e));
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading a case");
  return result;
}

absl::StatusOr<std::vector<Event>> RocksDbEventStore::FetchEvents(
    const std::vector<std::string>& event_keys) {
  std::vector<rocksdb::Slice> slices(event_keys.begin(), event_keys.end());
  std::vector<rocksdb::PinnableSlice> values(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  db_->MultiGet(rocksdb::ReadOptions(), events_, slices.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<Event> out(slices.size());
  for (size_t i = 0; i < slices.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return Corrupt("the global feed points at an event that is not there");
    }
    if (!statuses[i].ok()) return StorageError(statuses[i], "reading events");
    RETURN_IF_ERROR(DecodeEvent(
        absl::string_view(values[i].data(), values[i].size()), &out[i]));
  }
  return out;
}

absl::Status RocksDbEventStore::ValidateFilter(const EventFilter& f) const {
  if (!f.node.empty()) RETURN_IF_ERROR(ValidateNodeName(f.node, "filter.node"));
  if (!f.event_type.empty()) {
    const auto* oneof = Event::descriptor()->FindOneofByName("body");
    for (int i = 0; i < oneof->field_count(); ++i) {
      if (oneof->field(i)->message_type()->full_name() == f.event_type)
        return absl::OkStatus();
    }
    return MakeError(
        ErrorReason::kInvalidField,
        absl::StrCat("filter.event_type \"", f.event_type.substr(0, 60),
                     "\" is not an event type: use a full name such as "
                     "\"referral.v1.CaseOpened\""),
        "事件类型筛选条件无效", {.field = "filter.event_type"});
  }
  return absl::OkStatus();
}

absl::StatusOr<ReadAllResult> RocksDbEventStore::ReadAll(
    uint64_t from_position, const EventFilter& filter, size_t limit) {
  RETURN_IF_ERROR(ValidateFilter(filter));
  if (limit == 0) {
    return MakeError(ErrorReason::kInvalidField, "limit must be at least 1",
                     "每页数量至少为 1", {.field = "page_size"});
  }
  // Only what is committed is read: a group being written is invisible until
  // the notifier says so, so pages never skip a position.
  const uint64_t last = notifier_->position();
  const uint64_t from = std::max<uint64_t>(from_position, 1);
  ReadAllResult result;
  result.last_position = last;
  result.next_position = std::max(from, last + 1);
  if (from > last) return result;

  rocksdb::ColumnFamilyHandle* cf = positions_;
  std::string prefix;
  if (!filter.node.empty() && !filter.event_type.empty()) {
    prefix = keys::NodeTypeIndexPrefix(filter.node, filter.event_type);
  } else if (!filter.node.empty()) {
    prefix = keys::NodeIndexPrefix(filter.node);
  } else if (!filter.event_type.empty()) {
    prefix = keys::TypeIndexPrefix(filter.event_type);
  }
  if (!prefix.empty()) cf = index_;
  const std::string start = keys::IndexKey(prefix, from);
  const std::string upper = keys::IndexKey(prefix, last + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
  std::vector<std::string> event_keys;
  for (it->Seek(start); it->Valid() && event_keys.size() < limit; it->Next()) {
    event_keys.emplace_back(it->value().data(), it->value().size());
    absl::string_view k(it->key().data(), it->key().size());
    result.next_position = keys::GetBigEndian64(k.substr(k.size() - 8)) + 1;
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading the feed");
  if (event_keys.size() < limit) result.next_position = last + 1;
  ASSIGN_OR_RETURN(result.events, FetchEvents(event_keys));
  return result;
}

absl::StatusOr<std::unique_ptr<Subscription>> RocksDbEventStore::Subscribe(
    uint64_t from_position, const EventFilter& filter) {
  RETURN_IF_ERROR(ValidateFilter(filter));
  return std::make_unique<RocksSubscription>(this, notifier_.get(),
                                             from_position, filter);
}

absl::StatusOr<std::vector<Event>> RocksSubscription::Next(
    size_t max_events, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    ASSIGN_OR_RETURN(ReadAllResult page,
                     store_->ReadAll(cursor_, filter_, max_events));
    cursor_ = page.next_position;
    if (!page.events.empty()) return std::move(page.events);
    if (!notifier_->WaitBeyond(cursor_ - 1, deadline)) return page.events;
  }
}

// ---------------------------------------------------------------- Verify

absl::StatusOr<VerifyResult> RocksDbEventStore::Verify(
    absl::string_view case_id) {
  RETURN_IF_ERROR(ValidateCaseId(case_id, "case_id"));
  ASSIGN_OR_RETURN(std::optional<HeadRecord> head, LoadHead(case_id));
  if (!head) {
    return MakeError(ErrorReason::kCaseNotFound,
                     absl::StrCat("case ", case_id, " has no events"),
                     "案件不存在", {.metadata = {{"case_id", std::string(case_id)}}});
  }
  VerifyResult r;
  auto bad = [&r](uint64_t seq, std::string problem) {
    r.intact = false;
    r.first_bad_sequence = seq;
    r.problem = std::move(problem);
    return r;
  };

  const std::string lower = keys::CasePrefix(case_id);
  const std::string upper = keys::CaseUpperBound(case_id);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  std::string prev = GenesisHash();
  uint64_t expected = 1;
  for (it->Seek(lower); it->Valid(); it->Next(), ++expected) {
    absl::string_view k(it->key().data(), it->key().size());
    absl::string_view v(it->value().data(), it->value().size());
    absl::string_view cid, stored_hash, body;
    uint64_t seq = 0;
    if (!keys::ParseEventKey(k, &cid, &seq)) {
      return bad(expected, "a key in the case's range is malformed");
    }
    if (seq != expected) {
      return bad(expected, absl::StrCat("event ", expected,
                                        " is missing (the next stored is ", seq,
                                        ")"));
    }
    if (seq > head->version) {
      return bad(seq, absl::StrCat("event ", seq,
                                   " lies beyond the case's head (version ",
                                   head->version, "): inserted"));
    }
    Event e;
    if (!keys::DecodeEventRecord(v, &stored_hash, &body) ||
        !e.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return bad(seq, "the stored record does not parse");
    }
    if (e.sequence() != seq || e.subject() != case_id) {
      return bad(seq, absl::StrCat("the event stored at sequence ", seq,
                                   " says it is sequence ", e.sequence(),
                                   " of case ", e.subject(), ": moved"));
    }
    if (e.prev_hash() != prev) {
      return bad(seq, "its prev_hash does not match the previous event's hash");
    }
    std::string computed = ChainHash(prev, body);
    if (computed != stored_hash) {
      return bad(seq, "its content does not match its hash: altered");
    }
    // The id index is a second, independent witness: it catches an event
    // rewritten together with its stored hash, or one forged in place.
    ASSIGN_OR_RETURN(std::optional<IdRecord> witness, LoadId(e.event_id()));
    if (!witness || witness->case_id != case_id || witness->sequence != seq ||
        witness->hash != computed) {
      return bad(seq, "the event id index does not vouch for this event: "
                      "altered or inserted");
    }
    prev = std::move(computed);
    ++r.events_checked;
  }
  if (!it->status().ok()) return StorageError(it->status(), "verifying a case");
  if (r.events_checked < head->version) {
    return bad(r.events_checked + 1,
               absl::StrCat("the case's head says version ", head->version,
                            " but only ", r.events_checked,
                            " events are stored: removed"));
  }
  if (prev != head->hash) {
    return bad(head->version, "the last event's hash differs from the head's");
  }
  r.intact = true;
  r.head_hash = prev;
  return r;
}

// ---------------------------------------------------------------- Checkpoints

absl::StatusOr<Checkpoint> RocksDbEventStore::SetCheckpoint(
    absl::string_view name, uint64_t position) {
  RETURN_IF_ERROR(ValidateToken(name, "name"));
  const uint64_t last = notifier_->position();
  if (position > last) {
    return MakeError(
        ErrorReason::kInvalidField,
        absl::StrCat("position ", position,
                     " is beyond the last committed position ", last,
                     ": a checkpoint records a position already processed"),
        "检查点位置超出日志末尾", {.field = "position"});
  }
  Checkpoint cp{std::string(name), position, options_.clock()};
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status s = db_->Put(
      wo, checkpoints_, Sl(name),
      keys::EncodeCheckpoint(position, absl::ToUnixMicros(cp.update_time)));
  if (!s.ok()) return StorageError(s, "writing a checkpoint");
  return cp;
}

absl::StatusOr<Checkpoint> RocksDbEventStore::GetCheckpoint(
    absl::string_view name) {
  RETURN_IF_ERROR(ValidateToken(name, "name"));
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), checkpoints_, Sl(name), &value);
  if (s.IsNotFound()) {
    return MakeError(ErrorReason::kCheckpointNotFound,
                     absl::StrCat("checkpoint ", name, " was never set"),
                     "检查点不存在", {.metadata = {{"name", std::string(name)}}});
  }
  if (!s.ok()) return StorageError(s, "reading a checkpoint");
  Checkpoint cp;
  cp.name = std::string(name);
  int64_t micros = 0;
  if (!keys::DecodeCheckpoint(value, &cp.position, &micros)) {
    return Corrupt(absl::StrCat("checkpoint ", name, " does not decode"));
  }
  cp.update_time = absl::FromUnixMicros(micros);
  return cp;
}

}  // namespace

// ---------------------------------------------------------------- Open

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(
    const EventStoreOptions& options) {
  if (options.path.empty()) {
    return MakeError(ErrorReason::kInvalidField, "the store path is empty",
                     "存储路径不能为空", {.field = "path"});
  }
  if (options.max_event_bytes == 0 || options.max_events_per_append == 0) {
    return MakeError(ErrorReason::kInvalidField,
                     "max_event_bytes and max_events_per_append must be > 0",
                     "存储参数无效");
  }

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.keep_log_file_num = 4;
  db_options.max_background_jobs = 2;
  if (options.env != nullptr) db_options.env = options.env;

  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(64 << 20);
  // Keys arrive in increasing order within a prefix (a case's sequences, an
  // index's positions), so memtable inserts start from the last insert of
  // the same prefix instead of the top of the skiplist.
  auto cf_options = [&cache](bool point_lookups, size_t hint_prefix = 0) {
    rocksdb::ColumnFamilyOptions cf;
    if (hint_prefix > 0) {
      cf.memtable_insert_with_hint_prefix_extractor.reset(
          rocksdb::NewCappedPrefixTransform(hint_prefix));
    }
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    if (point_lookups) {
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    }
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    return cf;
  };
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options(false)},
      {keys::kEventsCf, cf_options(false, 24)},
      {keys::kPositionsCf, cf_options(false, 1)},
      {keys::kIndexCf, cf_options(false, 24)},
      {keys::kEventIdsCf, cf_options(true)},
      {keys::kStreamsCf, cf_options(true)},
      {keys::kCheckpointsCf, cf_options(true)},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, families, &handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return MakeError(ErrorReason::kUnavailable,
                       absl::StrCat("the store at ", options.path,
                                    " is open in another process: ",
                                    s.ToString()),
                       "案件日志正被其他进程使用");
    }
    if (s.IsCorruption()) {
      return Corrupt(absl::StrCat("opening ", options.path, ": ", s.ToString()));
    }
    return StorageError(s, absl::StrCat("opening ", options.path));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  auto close_on_error = [&](absl::Status err) {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db->Close().PermitUncheckedError();
    return err;
  };

  std::string format;
  s = db->Get(rocksdb::ReadOptions(), keys::kFormatKey, &format);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db->Put(wo, keys::kFormatKey, keys::kFormatVersion);
    if (!s.ok()) return close_on_error(StorageError(s, "writing the format"));
  } else if (!s.ok()) {
    return close_on_error(StorageError(s, "reading the format"));
  } else if (format != keys::kFormatVersion) {
    return close_on_error(absl::FailedPreconditionError(
        absl::StrCat("the store at ", options.path, " has format \"", format,
                     "\"; this build reads \"", keys::kFormatVersion, "\"")));
  }

  uint64_t last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles[2]));
    it->SeekToLast();
    if (it->Valid()) {
      last = keys::GetBigEndian64(
          absl::string_view(it->key().data(), it->key().size()));
    }
    if (!it->status().ok()) {
      return close_on_error(StorageError(it->status(), "recovering the feed"));
    }
  }
  return std::unique_ptr<EventStore>(new RocksDbEventStore(
      options, std::move(db), std::move(handles), last));
}

}  // namespace referral::storage
