// referral_bench: what a referral costs end to end, next to the floor of a
// unary call and the case log's own Append. The caselog, directory and
// referral services run in this process on loopback ports, plaintext (nodes
// named by metadata), wired as the service binaries wire them (main.cc of
// each), over a real RocksDB store under --dir. One run measures, side by
// side at 1, 16 and 64 requests in flight (closed loop: N client threads,
// one channel each):
//
//   grpc_health_ping_c{1,16,64}     grpc.health.v1.Health/Check against the
//                                   referral server: the floor of a unary
//                                   call on this machine;
//   caselog_grpc_append_c{1,16,64}  CaseLogService.Append of one small note
//                                   (unique event id) to the same caselog
//                                   server the broker uses;
//   referral_e2e_c{1,16,64}         one SendReferral as qinzhou.justice,
//                                   done when its item arrives on
//                                   qinzhou.labor-inspection's StreamInbox
//                                   (one stream, opened before the figures
//                                   and read by a dedicated thread that
//                                   timestamps arrivals by referral id);
//                                   latency = arrival - send start;
//
// then referral_e2e_paced50: an open-loop load paced at 50% (--paced_fraction)
// of the peak end-to-end throughput just measured, latency from each send's
// scheduled time (so a sender that falls behind counts against it), target
// p99 <= 10 ms. Ratios: end-to-end / caselog Append at the same
// concurrency (target >= 0.7 each).
//
// Besides throughput and latency the tables show where a referral's time
// goes, measured inside the process over the same window:
//   cores, cpu us/op  the process's CPU time (clients and servers together:
//                     they share the machine, as they would on one host);
//   store p50         EventStore::Append as the caselog server saw it
//                     (includes the WAL sync);
//   send p50/p99      the SendReferral unary call as the client saw it;
//   read/append/dir   the broker's calls to its ports (caselog ReadCase,
//                     whole or from a sequence on: the case cache's
//                     catch-up; caselog Append; directory GetNode) as the
//                     broker saw them: each is one loopback gRPC round trip;
//   deliver p50/p99   item arrival - SendReferral response, 0 when the item
//                     came first (shown as 10, the first bucket): how far
//                     the feed (caselog Subscribe -> referral StreamInbox ->
//                     the client's reader thread) trails the command's answer;
//   ev/case           mean events per case when the figure ends;
//   ops/sync, sync us operations per WAL sync of the case log's store (the
//                     commit group size; a referral is one Append) and the
//                     mean wall time of one sync, counted by a file system
//                     wrapper under the store (as caselog_bench does).
// --diagnose adds the end-to-end figures with the broker's ports in process
// (no caselog/directory gRPC hop) to show what those hops cost.
//
// Output: the tables, the targets with PASS/MISS, then `BENCH <name> <value>
// <unit>` per figure and `RATIO <name> <value>` per ratio. A missed target is
// reported, not an error: the exit status is 1 only when the bench could not
// run or an operation failed. Run it on an otherwise idle machine for
// figures worth comparing.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "clients/cpp/caselog_client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "referral/v1/referral_service.grpc.pb.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "services/caselog/caselog_grpc_service.h"
#include "services/caselog/caselog_service.h"
#include "services/directory/directory.h"
#include "services/directory/directory_grpc_service.h"
#include "services/referral/broker.h"
#include "services/referral/grpc_ports.h"
#include "services/referral/local_ports.h"
#include "services/referral/ports.h"
#include "services/referral/referral_grpc_service.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"
#include "services/runtime/grpc_status.h"
#include "storage/event_store.h"
#include "tests/bench/wal_sync_counter.h"

ABSL_FLAG(double, seconds, 3.0, "measured duration of each figure, seconds");
ABSL_FLAG(double, warmup, 0.5, "warm-up before each figure, seconds");
ABSL_FLAG(std::string, dir, "/tmp",
          "parent directory for the case log database (a fresh subdirectory "
          "is created and removed)");
ABSL_FLAG(int, cases, 64,
          "cases opened afresh for each end-to-end figure, referrals "
          "round-robin over them (and the Append figures' cases)");
ABSL_FLAG(std::string, concurrency, "1,16,64",
          "requests in flight of the closed-loop figures");
ABSL_FLAG(double, paced_fraction, 0.5,
          "the paced figure's rate as a fraction of the peak end-to-end "
          "throughput");
ABSL_FLAG(bool, diagnose, false,
          "after the figures, run the end-to-end figures again with the "
          "broker calling the case log and the directory in process (no gRPC "
          "hop; the inbox stream still subscribes over gRPC), on a second "
          "system with its own store, to show what those hops cost; adds "
          "~15 s. Not a product figure");
ABSL_FLAG(std::string, only, "",
          "when set, run only the closed-loop figures whose name contains "
          "this (e.g. \"e2e\" or \"_c64\"); the paced figure runs when an "
          "e2e figure ran");
ABSL_FLAG(int64_t, case_cache_mb,
          static_cast<int64_t>(referral::broker::CaseCache::kDefaultMaxBytes >> 20),
          "the broker's case cache, MiB (the referral service's flag); 0 = "
          "none: every command reads its case whole");

namespace referral::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kE2eVsAppendTarget = 0.7;  // e2e / caselog Append, each N
constexpr double kPacedP99TargetUs = 10'000;
constexpr char kSender[] = "qinzhou.justice";
constexpr char kAddressee[] = "qinzhou.labor-inspection";
// A closed-loop operation not delivered within this is an error.
constexpr absl::Duration kDeliveryTimeout = absl::Seconds(10);

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// ------------------------------------------------------------ probes

// Latencies recorded from any thread between Start() and Stop(), in 10 us
// buckets up to 200 ms (the last bucket holds everything slower).
class LatencyHistogram {
 public:
  LatencyHistogram() : buckets_(kBuckets) {}

  void Start() {
    for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
    count_ = 0;
    sum_nanos_ = 0;
    on_ = true;
  }
  void Stop() { on_ = false; }

  void Record(int64_t nanos) {
    if (!on_.load(std::memory_order_relaxed)) return;
    nanos = std::max<int64_t>(nanos, 0);
    size_t b = std::min<size_t>(static_cast<size_t>(nanos / kBucketNanos),
                                kBuckets - 1);
    buckets_[b].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_nanos_.fetch_add(static_cast<uint64_t>(nanos),
                         std::memory_order_relaxed);
  }

  uint64_t count() const { return count_; }

  // The upper edge of the bucket holding quantile q, in microseconds.
  double PercentileUs(double q) const {
    const uint64_t n = count_;
    if (n == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(n));
    uint64_t seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      seen += buckets_[b].load(std::memory_order_relaxed);
      if (seen > rank) return static_cast<double>((b + 1) * kBucketNanos) / 1e3;
    }
    return static_cast<double>(kBuckets * kBucketNanos) / 1e3;
  }

 private:
  static constexpr int64_t kBucketNanos = 10'000;
  static constexpr size_t kBuckets = 20'000;
  std::vector<std::atomic<uint64_t>> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
  std::atomic<bool> on_{false};
};

// Every histogram the in-process services feed. Measure() opens them for
// the measured window only.
struct Probes {
  LatencyHistogram store_append;   // EventStore::Append in the caselog
  LatencyHistogram broker_read;    // broker -> caselog ReadCase
  LatencyHistogram broker_append;  // broker -> caselog Append
  LatencyHistogram broker_dir;     // broker -> directory GetNode
  LatencyHistogram send_call;      // client SendReferral unary call
  LatencyHistogram deliver;        // arrival - SendReferral response
  SyncStats syncs;                 // WAL syncs of the case log's store

  std::vector<LatencyHistogram*> all() {
    return {&store_append, &broker_read, &broker_append,
            &broker_dir,   &send_call,   &deliver};
  }
  void Start() {
    for (auto* h : all()) h->Start();
  }
  void Stop() {
    for (auto* h : all()) h->Stop();
  }
};

template <typename F>
auto Timed(LatencyHistogram* h, const F& f) {
  const auto t0 = Clock::now();
  auto r = f();
  h->Record(Nanos(Clock::now() - t0));
  return r;
}

// An EventStore that times Append and forwards everything to `base`. Thread
// safety: as the base store's.
class TimedEventStore final : public storage::EventStore {
 public:
  TimedEventStore(std::unique_ptr<storage::EventStore> base,
                  LatencyHistogram* appends)
      : base_(std::move(base)), appends_(appends) {}

  absl::StatusOr<storage::AppendResult> Append(
      absl::string_view case_id, storage::ExpectedVersion expected,
      std::vector<storage::Event> events) override {
    return Timed(appends_, [&] {
      return base_->Append(case_id, expected, std::move(events));
    });
  }
  absl::StatusOr<storage::ReadCaseResult> ReadCase(absl::string_view case_id,
                                                   uint64_t from_sequence,
                                                   storage::Direction direction,
                                                   size_t limit) override {
    return base_->ReadCase(case_id, from_sequence, direction, limit);
  }
  absl::StatusOr<uint64_t> CaseVersion(absl::string_view case_id) override {
    return base_->CaseVersion(case_id);
  }
  absl::StatusOr<storage::ReadAllResult> ReadAll(
      uint64_t from_position, const storage::EventFilter& filter,
      size_t limit) override {
    return base_->ReadAll(from_position, filter, limit);
  }
  uint64_t LastPosition() const override { return base_->LastPosition(); }
  absl::StatusOr<std::unique_ptr<storage::Subscription>> Subscribe(
      uint64_t from_position, const storage::EventFilter& filter) override {
    return base_->Subscribe(from_position, filter);
  }
  uint64_t WatchBeyond(uint64_t position,
                       std::function<void()> callback) override {
    return base_->WatchBeyond(position, std::move(callback));
  }
  bool CancelWatch(uint64_t watch_id) override {
    return base_->CancelWatch(watch_id);
  }
  absl::StatusOr<storage::VerifyResult> Verify(
      absl::string_view case_id) override {
    return base_->Verify(case_id);
  }
  absl::StatusOr<storage::Checkpoint> SetCheckpoint(
      absl::string_view name, uint64_t position) override {
    return base_->SetCheckpoint(name, position);
  }
  absl::StatusOr<storage::Checkpoint> GetCheckpoint(
      absl::string_view name) override {
    return base_->GetCheckpoint(name);
  }

 private:
  std::unique_ptr<storage::EventStore> base_;
  LatencyHistogram* appends_;
};

// The broker's case log port (over gRPC, as in the service), timing the
// calls a command makes.
class TimedCaseLogPort final : public broker::CaseLogPort {
 public:
  TimedCaseLogPort(broker::CaseLogPort* base, Probes* probes)
      : base_(base), probes_(probes) {}
  absl::StatusOr<std::vector<v1::Event>> ReadCase(
      absl::string_view case_id) override {
    return Timed(&probes_->broker_read,
                 [&] { return base_->ReadCase(case_id); });
  }
  absl::StatusOr<broker::CaseTail> ReadCaseFrom(
      absl::string_view case_id, uint64_t after_sequence) override {
    return Timed(&probes_->broker_read, [&] {
      return base_->ReadCaseFrom(case_id, after_sequence);
    });
  }
  absl::StatusOr<v1::AppendResponse> Append(
      const v1::AppendRequest& request) override {
    return Timed(&probes_->broker_append,
                 [&] { return base_->Append(request); });
  }
  absl::StatusOr<v1::ReadAllResponse> ReadAll(
      const v1::ReadAllRequest& request) override {
    return base_->ReadAll(request);
  }
  absl::StatusOr<uint64_t> GetCheckpoint(absl::string_view name) override {
    return base_->GetCheckpoint(name);
  }
  absl::Status SetCheckpoint(absl::string_view name,
                             uint64_t position) override {
    return base_->SetCheckpoint(name, position);
  }

 private:
  broker::CaseLogPort* base_;
  Probes* probes_;
};

class TimedDirectoryPort final : public broker::DirectoryPort {
 public:
  TimedDirectoryPort(broker::DirectoryPort* base, Probes* probes)
      : base_(base), probes_(probes) {}
  absl::StatusOr<v1::Node> GetNode(absl::string_view name) override {
    return Timed(&probes_->broker_dir, [&] { return base_->GetNode(name); });
  }

 private:
  broker::DirectoryPort* base_;
  Probes* probes_;
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

double Percentile(std::vector<int64_t>& nanos, double q) {
  if (nanos.empty()) return 0;
  size_t k =
      std::min(nanos.size() - 1,
               static_cast<size_t>(q * static_cast<double>(nanos.size())));
  std::nth_element(nanos.begin(), nanos.begin() + k, nanos.end());
  return static_cast<double>(nanos[k]) / 1000.0;
}

// ------------------------------------------------------------ the system

// caselog + directory + referral in this process on 127.0.0.1:0, plaintext,
// wired as the binaries wire them (services/*/main.cc), with the probes
// spliced in at the store and at the broker's ports. As
// tests/integration/referral_fixture.h's ReferralSystem, without gtest and
// with the caselog's address exposed.
class System {
 public:
  // `local_ports` (--diagnose): the broker calls the caselog and directory
  // cores in process instead of over gRPC.
  static absl::StatusOr<std::unique_ptr<System>> Start(
      const std::filesystem::path& parent, Probes* probes,
      bool local_ports = false) {
    auto s = std::unique_ptr<System>(new System);
    s->dir_ = parent / ("referral_bench_" + std::to_string(::getpid()) +
                        (local_ports ? "_local" : ""));
    std::filesystem::remove_all(s->dir_);
    std::filesystem::create_directories(s->dir_);

    // caselog
    storage::EventStoreOptions store_options;
    store_options.path = (s->dir_ / "caselog").string();
    s->env_ = rocksdb::NewCompositeEnv(
        std::make_shared<WalSyncCountingFileSystem>(&probes->syncs));
    store_options.env = s->env_.get();
    auto store = storage::EventStore::Open(store_options);
    if (!store.ok()) return store.status();
    s->caselog_core_.Attach(std::make_shared<TimedEventStore>(
        std::move(*store), &probes->store_append));
    ServiceHostOptions caselog_options;
    caselog_options.health_names = {"referral.v1.CaseLogService"};
    auto caselog_host =
        ServiceHost::Start(caselog_options, {&s->caselog_service_});
    if (!caselog_host.ok()) return caselog_host.status();
    s->caselog_host_ = std::move(*caselog_host);
    s->caselog_host_->SetServing(true);

    // directory
    auto directory = directory::Directory::LoadFile(QINZHOU_TOML);
    if (!directory.ok()) return directory.status();
    s->directory_ =
        std::make_unique<directory::Directory>(std::move(*directory));
    s->directory_service_ =
        std::make_unique<directory::DirectoryGrpcService>(s->directory_.get());
    ServiceHostOptions directory_options;
    directory_options.health_names = {"referral.v1.DirectoryService"};
    auto directory_host =
        ServiceHost::Start(directory_options, {s->directory_service_.get()});
    if (!directory_host.ok()) return directory_host.status();
    s->directory_host_ = std::move(*directory_host);
    s->directory_host_->SetServing(true);

    // referral, as services/referral/main.cc builds it
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    auto credentials = grpc::InsecureChannelCredentials();
    s->caselog_channel_ =
        grpc::CreateCustomChannel(s->caselog_address(), credentials, args);
    s->caselog_client_ = std::make_unique<client::CaseLogClient>(
        s->caselog_channel_, client::ClientOptions{});
    s->remote_log_ =
        std::make_unique<broker::RemoteCaseLog>(s->caselog_client_.get());
    s->remote_directory_ =
        std::make_unique<broker::RemoteDirectory>(grpc::CreateCustomChannel(
            s->directory_host_->address(), credentials, args));
    s->local_log_ = std::make_unique<broker::LocalCaseLog>(&s->caselog_core_);
    s->local_directory_ =
        std::make_unique<broker::LocalDirectory>(s->directory_.get());
    s->timed_log_ = std::make_unique<TimedCaseLogPort>(
        local_ports ? static_cast<broker::CaseLogPort*>(s->local_log_.get())
                    : s->remote_log_.get(),
        probes);
    s->timed_directory_ = std::make_unique<TimedDirectoryPort>(
        local_ports
            ? static_cast<broker::DirectoryPort*>(s->local_directory_.get())
            : s->remote_directory_.get(),
        probes);
    broker::BrokerOptions broker_options;
    broker_options.case_cache_bytes =
        static_cast<size_t>(std::max<int64_t>(absl::GetFlag(FLAGS_case_cache_mb), 0))
        << 20;
    s->broker_ = std::make_unique<broker::Broker>(
        s->timed_log_.get(), s->timed_directory_.get(), broker_options);
    s->referral_service_ = std::make_unique<broker::ReferralGrpcService>(
        s->broker_.get(), s->caselog_channel_);
    ServiceHostOptions referral_options;
    referral_options.health_names = {"referral.v1.ReferralService"};
    auto referral_host =
        ServiceHost::Start(referral_options, {s->referral_service_.get()});
    if (!referral_host.ok()) return referral_host.status();
    s->referral_host_ = std::move(*referral_host);
    s->referral_host_->SetServing(true);
    return s;
  }

  ~System() {
    // The store goes before the Env it writes through (declared after it).
    if (referral_host_) referral_host_->Shutdown(absl::Seconds(1));
    referral_host_.reset();
    referral_service_.reset();
    broker_.reset();
    if (directory_host_) directory_host_->Shutdown(absl::ZeroDuration());
    if (caselog_host_) caselog_host_->Shutdown(absl::Seconds(1));
    caselog_core_.Detach().reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string caselog_address() const { return caselog_host_->address(); }
  std::string referral_address() const { return referral_host_->address(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  System() = default;
  std::filesystem::path dir_;
  std::unique_ptr<rocksdb::Env> env_;  // counts WAL syncs; outlives the store
  caselog::CaseLog caselog_core_;
  caselog::CaseLogGrpcService caselog_service_{&caselog_core_};
  std::unique_ptr<ServiceHost> caselog_host_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<directory::DirectoryGrpcService> directory_service_;
  std::unique_ptr<ServiceHost> directory_host_;
  std::shared_ptr<grpc::Channel> caselog_channel_;
  std::unique_ptr<client::CaseLogClient> caselog_client_;
  std::unique_ptr<broker::RemoteCaseLog> remote_log_;
  std::unique_ptr<broker::RemoteDirectory> remote_directory_;
  std::unique_ptr<broker::LocalCaseLog> local_log_;
  std::unique_ptr<broker::LocalDirectory> local_directory_;
  std::unique_ptr<TimedCaseLogPort> timed_log_;
  std::unique_ptr<TimedDirectoryPort> timed_directory_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<broker::ReferralGrpcService> referral_service_;
  std::unique_ptr<ServiceHost> referral_host_;
};

// `n` channels to `address`, each its own connection: a local subchannel
// pool and a distinct argument keep gRPC from sharing one among them.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> Channels(
    const std::string& address, int n) {
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("referral.bench.client", i);
    args.SetMaxReceiveMessageSize(64 << 20);
    auto channel = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(
            absl::ToChronoTime(absl::Now() + absl::Seconds(5)))) {
      return absl::UnavailableError(
          absl::StrCat("client ", i, " could not connect to ", address));
    }
    out.push_back(std::move(channel));
  }
  return out;
}

std::unique_ptr<grpc::ClientContext> ContextFor(const std::string& node,
                                                absl::Duration timeout) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ActAs(c.get(), node);
  return c;
}


// ------------------------------------------------------------ the inbox

// qinzhou.labor-inspection's StreamInbox, read by a dedicated thread that
// timestamps each REQUESTED item by referral id the moment it is read.
class InboxWatcher {
 public:
  explicit InboxWatcher(const std::string& referral_address) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = v1::ReferralService::NewStub(grpc::CreateCustomChannel(
        referral_address, grpc::InsecureChannelCredentials(), args));
    context_ = ContextFor(kAddressee, absl::Hours(1));
    reader_ = stub_->StreamInbox(context_.get(), v1::StreamInboxRequest());
    thread_ = std::thread([this] { Run(); });
  }
  ~InboxWatcher() {
    context_->TryCancel();
    thread_.join();
  }

  // Blocks until the backlog has been delivered (the stream is live).
  absl::Status WaitLive(absl::Duration timeout) {
    absl::MutexLock l(&mu_);
    auto ready = [this] { return caught_up_ || ended_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) {
      return absl::DeadlineExceededError("StreamInbox did not catch up");
    }
    if (ended_) return absl::UnavailableError(end_status_);
    return absl::OkStatus();
  }

  // When `referral_id` arrived, waiting up to `timeout` for it.
  std::optional<Clock::time_point> Await(const std::string& referral_id,
                                         absl::Duration timeout) {
    absl::MutexLock l(&mu_);
    auto arrived = [&] { return ended_ || arrivals_.contains(referral_id); };
    mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
    auto it = arrivals_.find(referral_id);
    if (it == arrivals_.end()) return std::nullopt;
    return it->second;
  }

  // Waits until every id in `ids` arrived or `deadline` passes.
  void AwaitAll(const std::vector<std::string>& ids, absl::Time deadline) {
    absl::MutexLock l(&mu_);
    size_t next = 0;  // ids before it have arrived
    auto all = [&] {
      while (next < ids.size() && arrivals_.contains(ids[next])) ++next;
      return ended_ || next == ids.size();
    };
    mu_.AwaitWithDeadline(absl::Condition(&all), deadline);
  }

  std::optional<Clock::time_point> ArrivalOf(const std::string& referral_id) {
    absl::MutexLock l(&mu_);
    auto it = arrivals_.find(referral_id);
    if (it == arrivals_.end()) return std::nullopt;
    return it->second;
  }

  std::string end_status() {
    absl::MutexLock l(&mu_);
    return ended_ ? end_status_ : "";
  }

 private:
  void Run() {
    v1::StreamInboxResponse m;
    while (reader_->Read(&m)) {
      const auto now = Clock::now();
      absl::MutexLock l(&mu_);
      if (m.has_caught_up()) {
        caught_up_ = true;
      } else if (m.has_item() &&
                 m.item().state() == v1::REFERRAL_STATE_REQUESTED) {
        arrivals_.try_emplace(m.item().referral_id(), now);  // first wins
      }
    }
    grpc::Status s = reader_->Finish();
    absl::MutexLock l(&mu_);
    ended_ = true;
    end_status_ = absl::StrCat("StreamInbox ended: ", s.error_code(), " ",
                               s.error_message());
  }

  std::unique_ptr<v1::ReferralService::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<v1::StreamInboxResponse>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Clock::time_point> arrivals_
      ABSL_GUARDED_BY(mu_);
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::string end_status_ ABSL_GUARDED_BY(mu_);
};

// ------------------------------------------------------------ measurement

struct Figure {
  std::string name;
  int threads = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  double ops_per_sec = 0;
  double p50_us = 0;
  double p99_us = 0;
  double cpu_seconds = 0;
  // What the probes saw over the window: (suffix, microseconds), e.g.
  // ("store_p50", 830). Only histograms that recorded something.
  std::vector<std::pair<std::string, double>> probes_us;
  uint64_t syncs = 0;  // WAL syncs in the window
  double mean_sync_us = 0;
  double events_per_case = 0;  // e2e figures: mean case size at the end
  double target_rate = 0;      // paced figure: the offered rate
};

// One operation by worker `thread`; `seq` counts that worker's operations
// from 0 (warm-up included), so (thread, seq) is unique within a figure.
// It may set `*done` to when it completed (default: when it returned).
using Op = std::function<absl::Status(int thread, uint64_t seq,
                                      Clock::time_point* done)>;

void ReadProbes(Probes* probes, Figure* f) {
  const std::pair<const char*, LatencyHistogram*> named[] = {
      {"store", &probes->store_append}, {"send", &probes->send_call},
      {"read", &probes->broker_read},   {"append", &probes->broker_append},
      {"dir", &probes->broker_dir},     {"deliver", &probes->deliver}};
  for (const auto& [n, h] : named) {
    if (h->count() == 0) continue;
    f->probes_us.emplace_back(absl::StrCat(n, "_p50"), h->PercentileUs(0.5));
    f->probes_us.emplace_back(absl::StrCat(n, "_p99"), h->PercentileUs(0.99));
  }
}

double ProbeUs(const Figure& f, const std::string& suffix) {
  for (const auto& [n, v] : f.probes_us) {
    if (n == suffix) return v;
  }
  return -1;
}

// Runs `op` on `threads` workers in a closed loop: warm-up, then the
// measured window. An operation counts when it completes inside the window.
Figure Measure(std::string name, int threads, const Op& op, Probes* probes) {
  const auto warmup = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(absl::GetFlag(FLAGS_warmup)));
  const auto window = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds)));

  struct Worker {
    std::vector<int64_t> latencies;
    uint64_t errors = 0;
    std::string first_error;
  };
  std::vector<Worker> workers(threads);
  absl::Notification go;
  Clock::time_point start, end;  // written before `go`, read after

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Worker& w = workers[t];
      w.latencies.reserve(1 << 16);
      go.WaitForNotification();
      for (uint64_t seq = 0;; ++seq) {
        const auto t0 = Clock::now();
        if (t0 >= end) break;
        Clock::time_point done{};
        absl::Status s = op(t, seq, &done);
        if (done == Clock::time_point{}) done = Clock::now();
        if (done < start || done >= end) continue;
        if (s.ok()) {
          w.latencies.push_back(Nanos(done - t0));
        } else {
          if (w.errors++ == 0) w.first_error = s.ToString();
        }
      }
    });
  }
  start = Clock::now() + warmup;
  end = start + window;
  go.Notify();

  std::this_thread::sleep_until(start);
  const uint64_t syncs0 = probes->syncs.syncs,
                 sync_ns0 = probes->syncs.sync_nanos;
  const double cpu0 = CpuSeconds();
  probes->Start();
  std::this_thread::sleep_until(end);
  probes->Stop();
  const uint64_t syncs1 = probes->syncs.syncs,
                 sync_ns1 = probes->syncs.sync_nanos;
  const double cpu1 = CpuSeconds();
  for (auto& th : pool) th.join();

  Figure f;
  f.name = std::move(name);
  f.threads = threads;
  f.seconds = std::chrono::duration<double>(window).count();
  std::vector<int64_t> all;
  for (Worker& w : workers) {
    all.insert(all.end(), w.latencies.begin(), w.latencies.end());
    f.errors += w.errors;
    if (f.first_error.empty()) f.first_error = w.first_error;
  }
  f.ops = all.size();
  f.ops_per_sec = static_cast<double>(f.ops) / f.seconds;
  f.p50_us = Percentile(all, 0.50);
  f.p99_us = Percentile(all, 0.99);
  f.cpu_seconds = cpu1 - cpu0;
  f.syncs = syncs1 - syncs0;
  f.mean_sync_us = f.syncs == 0 ? 0
                                : static_cast<double>(sync_ns1 - sync_ns0) /
                                      1000.0 / static_cast<double>(f.syncs);
  ReadProbes(probes, &f);
  return f;
}

// ------------------------------------------------------------ workloads

struct Setup {
  System* system;
  Probes* probes;
  InboxWatcher* inbox;
  int cases;
};

// Health/Check of the referral server ("" = the whole server).
absl::StatusOr<Figure> HealthPing(const Setup& s, int clients) {
  auto channels = Channels(s.system->referral_address(), clients);
  if (!channels.ok()) return channels.status();
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> stubs;
  for (auto& c : *channels)
    stubs.push_back(grpc::health::v1::Health::NewStub(c));
  Op op = [&](int thread, uint64_t, Clock::time_point*) -> absl::Status {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    absl::Status st =
        FromGrpcStatus(stubs[thread]->Check(&context, request, &response));
    if (st.ok() &&
        response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::UnavailableError("not SERVING");
    }
    return st;
  };
  return Measure(absl::StrCat("grpc_health_ping_c", clients), clients, op,
                 s.probes);
}

// The case a worker's seq-th operation goes to: worker t of n takes cases
// t, t+n, t+2n, ... in turn, so with n dividing --cases no two operations in
// flight share a case. A SendReferral to a case another is writing would
// lose the expected-version race and re-read and retry inside the broker:
// that is contention, which this bench does not set out to measure.
int CaseIndex(int cases, int thread, int threads, uint64_t seq) {
  return static_cast<int>(
      (static_cast<uint64_t>(thread) + static_cast<uint64_t>(threads) * seq) %
      static_cast<uint64_t>(cases));
}

// CaseLogService.Append of one small note each (unique event ids), to the
// same caselog server the broker writes to.
absl::StatusOr<Figure> CaselogAppend(const Setup& s, int clients) {
  const std::string name = absl::StrCat("caselog_grpc_append_c", clients);
  auto channels = Channels(s.system->caselog_address(), clients);
  if (!channels.ok()) return channels.status();
  client::ClientOptions options;
  options.max_attempts = 1;  // a failure is counted, not retried away
  std::vector<std::unique_ptr<client::CaseLogClient>> stubs;
  for (auto& c : *channels) {
    stubs.push_back(std::make_unique<client::CaseLogClient>(c, options));
  }
  Op op = [&](int thread, uint64_t seq, Clock::time_point*) -> absl::Status {
    v1::AppendRequest request;
    request.set_case_id(absl::StrCat("bench-append-c", clients, "-",
                                     CaseIndex(s.cases, thread, clients, seq)));
    request.set_expected(v1::EXPECTED_VERSION_ANY);
    v1::Event* e = request.add_events();
    e->set_event_id(absl::StrCat("bench-c", clients, "-t", thread, "-", seq));
    e->set_source(kSender);
    e->mutable_case_note_recorded()->set_note("called the contractor");
    return stubs[thread]->Append(request).status();
  };
  return Measure(name, clients, op, s.probes);
}

// Opens `n` cases as the sender, named by `tag`.
absl::StatusOr<std::vector<std::string>> OpenCases(const Setup& s,
                                                   const std::string& tag,
                                                   int n) {
  auto channels = Channels(s.system->referral_address(), 1);
  if (!channels.ok()) return channels.status();
  auto stub = v1::ReferralService::NewStub((*channels)[0]);
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    v1::OpenCaseRequest req;
    req.set_request_id(absl::StrCat("rb-open-", tag, "-", i));
    req.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
    req.set_title("23 workers owed wages");
    req.set_matter(v1::MATTER_WAGE_ARREARS);
    req.set_green_channel(true);
    v1::OpenCaseResponse resp;
    auto context = ContextFor(kSender, absl::Seconds(10));
    absl::Status st = FromGrpcStatus(stub->OpenCase(context.get(), req, &resp));
    if (!st.ok()) return st;
    ids.push_back(resp.case_().case_id());
  }
  return ids;
}

v1::SendReferralRequest Referral(const std::string& case_id,
                                 std::string request_id) {
  v1::SendReferralRequest req;
  req.set_request_id(std::move(request_id));
  req.set_case_id(case_id);
  req.set_to_node(kAddressee);
  req.set_purpose("order the contractor to pay");
  return req;
}

// Opens a fresh set of --cases cases for one figure. Why fresh, and why
// many: a case grows by an event with every referral, and every command
// reads (and folds) the whole case before it appends, so a command's cost
// grows with the case. Referrals to one case, or to the same few cases
// figure after figure, would measure ever larger cases: thousands of events
// where a real case holds a few dozen. Spread over 64 fresh cases, a figure
// of ~1000 referrals/s for 3.5 s ends near 55 events a case (ev/case).
absl::StatusOr<std::vector<std::string>> FreshCases(const Setup& s,
                                                    const std::string& tag) {
  return OpenCases(s, tag, s.cases);
}

// SendReferral as the sender; done when the item arrives in the addressee's
// inbox.
absl::StatusOr<Figure> EndToEnd(const Setup& s, int clients,
                                const std::string& tag = "") {
  const std::string name = absl::StrCat("referral_e2e", tag, "_c", clients);
  auto cases = FreshCases(s, name);
  if (!cases.ok()) return cases.status();
  auto channels = Channels(s.system->referral_address(), clients);
  if (!channels.ok()) return channels.status();
  std::vector<std::unique_ptr<v1::ReferralService::Stub>> stubs;
  for (auto& c : *channels) stubs.push_back(v1::ReferralService::NewStub(c));
  std::atomic<uint64_t> sent{0};

  Op op = [&](int thread, uint64_t seq,
              Clock::time_point* done) -> absl::Status {
    const std::string& case_id =
        (*cases)[CaseIndex(s.cases, thread, clients, seq)];
    v1::SendReferralRequest req =
        Referral(case_id, absl::StrCat("rb-", name, "-t", thread, "-", seq));
    v1::SendReferralResponse resp;
    auto context = ContextFor(kSender, absl::Seconds(10));
    const auto t0 = Clock::now();
    absl::Status st =
        FromGrpcStatus(stubs[thread]->SendReferral(context.get(), req, &resp));
    const auto t1 = Clock::now();
    s.probes->send_call.Record(Nanos(t1 - t0));
    if (!st.ok()) return st;
    ++sent;
    const std::string& id = resp.referral().referral_id();
    std::optional<Clock::time_point> arrived =
        s.inbox->Await(id, kDeliveryTimeout);
    if (!arrived) {
      return absl::DeadlineExceededError(absl::StrCat(
          id, " not delivered within ", absl::FormatDuration(kDeliveryTimeout),
          " ", s.inbox->end_status()));
    }
    s.probes->deliver.Record(Nanos(*arrived - t1));
    *done = *arrived;
    return absl::OkStatus();
  };
  Figure f = Measure(name, clients, op, s.probes);
  f.events_per_case =
      1.0 + static_cast<double>(sent.load()) / static_cast<double>(s.cases);
  return f;
}

// Open loop: sends paced at `rate` per second by a pool of senders that do
// not wait for delivery; latency = arrival - scheduled send time.
absl::StatusOr<Figure> Paced(const Setup& s, const std::string& name,
                             double rate, int senders) {
  auto cases = FreshCases(s, name);
  if (!cases.ok()) return cases.status();
  auto channels = Channels(s.system->referral_address(), senders);
  if (!channels.ok()) return channels.status();
  std::vector<std::unique_ptr<v1::ReferralService::Stub>> stubs;
  for (auto& c : *channels) stubs.push_back(v1::ReferralService::NewStub(c));

  const auto warmup = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(absl::GetFlag(FLAGS_warmup)));
  const auto window = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds)));
  const auto first = Clock::now() + std::chrono::milliseconds(20);
  const auto start = first + warmup;
  const auto end = start + window;
  auto scheduled = [&](uint64_t k) {
    return first +
           std::chrono::duration_cast<Clock::duration>(
               std::chrono::duration<double>(static_cast<double>(k) / rate));
  };

  struct Sent {
    std::string referral_id;
    Clock::time_point scheduled, response;
  };
  struct Sender {
    std::vector<Sent> sent;
    std::vector<int64_t> lag;  // actual send start - scheduled
    uint64_t errors = 0;
    std::string first_error;
  };
  std::vector<Sender> workers(senders);
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> sent{0};  // warm-up included, for ev/case
  std::vector<std::thread> pool;
  for (int t = 0; t < senders; ++t) {
    pool.emplace_back([&, t] {
      Sender& w = workers[t];
      for (;;) {
        const uint64_t k = next++;
        const auto at = scheduled(k);
        if (at >= end) break;
        std::this_thread::sleep_until(at);
        const auto t0 = Clock::now();
        v1::SendReferralRequest req =
            Referral((*cases)[k % static_cast<uint64_t>(s.cases)],
                     absl::StrCat("rb-", name, "-", k));
        v1::SendReferralResponse resp;
        auto context = ContextFor(kSender, absl::Seconds(10));
        absl::Status st =
            FromGrpcStatus(stubs[t]->SendReferral(context.get(), req, &resp));
        const auto t1 = Clock::now();
        if (st.ok()) ++sent;
        if (at < start) continue;
        s.probes->send_call.Record(Nanos(t1 - t0));
        w.lag.push_back(Nanos(t0 - at));
        if (!st.ok()) {
          if (w.errors++ == 0) w.first_error = st.ToString();
          continue;
        }
        w.sent.push_back({resp.referral().referral_id(), at, t1});
      }
    });
  }
  std::this_thread::sleep_until(start);
  const uint64_t syncs0 = s.probes->syncs.syncs,
                 sync_ns0 = s.probes->syncs.sync_nanos;
  const double cpu0 = CpuSeconds();
  s.probes->Start();
  std::this_thread::sleep_until(end);
  const uint64_t syncs1 = s.probes->syncs.syncs,
                 sync_ns1 = s.probes->syncs.sync_nanos;
  const double cpu1 = CpuSeconds();
  for (auto& th : pool) th.join();

  std::vector<std::string> ids;
  for (const Sender& w : workers) {
    for (const Sent& x : w.sent) ids.push_back(x.referral_id);
  }
  s.inbox->AwaitAll(ids, absl::Now() + absl::Seconds(3));
  s.probes->Stop();

  Figure f;
  f.name = name;
  f.threads = senders;
  f.seconds = std::chrono::duration<double>(window).count();
  f.target_rate = rate;
  f.cpu_seconds = cpu1 - cpu0;
  f.syncs = syncs1 - syncs0;
  f.mean_sync_us = f.syncs == 0 ? 0
                                : static_cast<double>(sync_ns1 - sync_ns0) /
                                      1000.0 / static_cast<double>(f.syncs);
  std::vector<int64_t> latencies, lag;
  uint64_t lost = 0;
  for (const Sender& w : workers) {
    f.errors += w.errors;
    if (f.first_error.empty()) f.first_error = w.first_error;
    lag.insert(lag.end(), w.lag.begin(), w.lag.end());
    for (const Sent& x : w.sent) {
      std::optional<Clock::time_point> arrived =
          s.inbox->ArrivalOf(x.referral_id);
      if (!arrived) {
        ++lost;
        continue;
      }
      latencies.push_back(Nanos(*arrived - x.scheduled));
    }
  }
  // Delivery after the response, from the same samples.
  LatencyHistogram deliver;
  deliver.Start();
  for (const Sender& w : workers) {
    for (const Sent& x : w.sent) {
      if (auto a = s.inbox->ArrivalOf(x.referral_id)) {
        deliver.Record(Nanos(*a - x.response));
      }
    }
  }
  if (lost > 0) {
    f.errors += lost;
    if (f.first_error.empty()) {
      f.first_error = absl::StrCat(lost,
                                   " referrals not delivered within 3 s "
                                   "after the window ",
                                   s.inbox->end_status());
    }
  }
  f.ops = latencies.size();
  f.ops_per_sec = static_cast<double>(f.ops) / f.seconds;
  f.p50_us = Percentile(latencies, 0.50);
  f.p99_us = Percentile(latencies, 0.99);
  ReadProbes(s.probes, &f);
  // The probes' deliver histogram was not fed by this open loop; replace it.
  std::erase_if(f.probes_us, [](const auto& p) {
    return p.first.rfind("deliver_", 0) == 0;
  });
  f.probes_us.emplace_back("deliver_p50", deliver.PercentileUs(0.5));
  f.probes_us.emplace_back("deliver_p99", deliver.PercentileUs(0.99));
  f.probes_us.emplace_back("start_lag_p99", Percentile(lag, 0.99));
  f.events_per_case =
      1.0 + static_cast<double>(sent.load()) / static_cast<double>(s.cases);
  return f;
}

// ------------------------------------------------------------ report

constexpr char kHeader[] = "%-28s %4s %9s %8s %8s %5s %9s %6s\n";
constexpr char kRow[] = "%-28s %4d %9.1f %8.0f %8.0f %5.2f %9.0f %6llu\n";

void PrintHeader() {
  std::printf(kHeader, "figure", "thr", "ops/s", "p50 us", "p99 us", "cores",
              "cpu us/op", "errors");
}

void PrintFigure(const Figure& f) {
  std::printf(kRow, f.name.c_str(), f.threads, f.ops_per_sec, f.p50_us,
              f.p99_us, f.cpu_seconds / f.seconds,
              f.ops == 0 ? 0 : f.cpu_seconds * 1e6 / static_cast<double>(f.ops),
              static_cast<unsigned long long>(f.errors));
  std::fflush(stdout);
}

// Where the time of the Append and end-to-end figures goes (p50s, us).
void PrintBreakdown(const std::vector<Figure>& figures) {
  std::printf(
      "\nwhere the time goes (p50 us unless marked; -: not on this path)\n");
  std::printf("%-28s %7s %7s %7s %8s %7s %7s %7s %9s %7s %8s %7s\n", "figure",
              "store", "send", "send99", "read", "append", "dir", "deliver",
              "deliver99", "ev/case", "ops/sync", "sync us");
  for (const Figure& f : figures) {
    if (f.probes_us.empty()) continue;
    auto cell = [&](const char* suffix) {
      double v = ProbeUs(f, suffix);
      return v < 0 ? std::string("-") : absl::StrCat(static_cast<int64_t>(v));
    };
    char per_sync[32], sync_us[32];
    std::snprintf(per_sync, sizeof per_sync, "%.2f",
                  f.syncs == 0 ? 0.0
                               : static_cast<double>(f.ops) /
                                     static_cast<double>(f.syncs));
    std::snprintf(sync_us, sizeof sync_us, "%.0f", f.mean_sync_us);
    std::printf(
        "%-28s %7s %7s %7s %8s %7s %7s %7s %9s %7s %8s %7s\n", f.name.c_str(),
        cell("store_p50").c_str(), cell("send_p50").c_str(),
        cell("send_p99").c_str(), cell("read_p50").c_str(),
        cell("append_p50").c_str(), cell("dir_p50").c_str(),
        cell("deliver_p50").c_str(), cell("deliver_p99").c_str(),
        f.events_per_case > 0
            ? absl::StrCat(static_cast<int64_t>(f.events_per_case)).c_str()
            : "-",
        per_sync, sync_us);
  }
}

std::vector<int> ParseConcurrency(const std::string& text) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    int n = std::atoi(text.substr(pos, comma - pos).c_str());
    if (n > 0) out.push_back(n);
    pos = comma + 1;
  }
  return out;
}

int Run() {
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const double warmup = absl::GetFlag(FLAGS_warmup);
  const int cases = absl::GetFlag(FLAGS_cases);
  const double fraction = absl::GetFlag(FLAGS_paced_fraction);
  const std::vector<int> levels =
      ParseConcurrency(absl::GetFlag(FLAGS_concurrency));
  const std::string only = absl::GetFlag(FLAGS_only);
  if (seconds <= 0 || warmup < 0 || cases < 1 || levels.empty() ||
      fraction <= 0) {
    std::fprintf(stderr,
                 "referral_bench: needs --seconds > 0, --warmup >= 0, "
                 "--cases >= 1, --paced_fraction > 0 and --concurrency "
                 "like 1,16,64\n");
    return 2;
  }

  Probes probes;
  auto system = System::Start(absl::GetFlag(FLAGS_dir), &probes);
  if (!system.ok()) {
    std::fprintf(stderr, "referral_bench: cannot start the services: %s\n",
                 system.status().ToString().c_str());
    return 1;
  }
  InboxWatcher inbox((*system)->referral_address());
  if (absl::Status live = inbox.WaitLive(absl::Seconds(10)); !live.ok()) {
    std::fprintf(stderr, "referral_bench: %s\n", live.ToString().c_str());
    return 1;
  }
  const Setup setup{system->get(), &probes, &inbox, cases};

  std::printf(
      "referral_bench: %.1f s per figure after %.1f s warm-up; %d fresh "
      "cases per e2e figure; %u CPUs; case log under %s\n"
      "caselog %s, referral %s (plaintext, one process); broker case cache "
      "%lld MiB\n\n",
      seconds, warmup, cases, std::thread::hardware_concurrency(),
      (*system)->dir().c_str(), (*system)->caselog_address().c_str(),
      (*system)->referral_address().c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_case_cache_mb)));
  PrintHeader();

  std::vector<Figure> figures;
  bool op_failed = false;
  auto run = [&](const std::string& name,
                 const std::function<absl::StatusOr<Figure>()>& step) {
    if (name.find(only) == std::string::npos) return true;
    absl::StatusOr<Figure> f = step();
    if (!f.ok()) {
      std::fprintf(stderr, "referral_bench: %s could not run: %s\n",
                   name.c_str(), f.status().ToString().c_str());
      return false;
    }
    PrintFigure(*f);
    if (f->errors > 0) {
      std::fprintf(
          stderr, "referral_bench: %s: %llu operations failed; the first: %s\n",
          f->name.c_str(), static_cast<unsigned long long>(f->errors),
          f->first_error.c_str());
      op_failed = true;
    }
    figures.push_back(std::move(*f));
    return true;
  };

  // Interleaved by concurrency, so a drift of the disk or the machine hits
  // a ratio's numerator and denominator alike.
  for (int n : levels) {
    if (!run(absl::StrCat("grpc_health_ping_c", n),
             [&] { return HealthPing(setup, n); }) ||
        !run(absl::StrCat("caselog_grpc_append_c", n),
             [&] { return CaselogAppend(setup, n); }) ||
        !run(absl::StrCat("referral_e2e_c", n),
             [&] { return EndToEnd(setup, n); })) {
      return 1;
    }
  }

  // Delivery latency at a fraction of the peak end-to-end throughput.
  double peak = 0;
  for (const Figure& f : figures) {
    if (f.name.rfind("referral_e2e_c", 0) == 0)
      peak = std::max(peak, f.ops_per_sec);
  }
  std::optional<double> paced_p99;
  if (peak > 0) {
    const int senders = *std::max_element(levels.begin(), levels.end());
    const double rate = peak * fraction;
    absl::StatusOr<Figure> f = Paced(
        setup,
        absl::StrCat("referral_e2e_paced", static_cast<int>(fraction * 100)),
        rate, senders);
    if (!f.ok()) {
      std::fprintf(stderr, "referral_bench: paced figure could not run: %s\n",
                   f.status().ToString().c_str());
      return 1;
    }
    PrintFigure(*f);
    if (f->errors > 0) {
      std::fprintf(
          stderr, "referral_bench: %s: %llu operations failed; the first: %s\n",
          f->name.c_str(), static_cast<unsigned long long>(f->errors),
          f->first_error.c_str());
      op_failed = true;
    }
    paced_p99 = f->p99_us;
    figures.push_back(std::move(*f));
  }

  if (absl::GetFlag(FLAGS_diagnose)) {
    // The same end-to-end figures with the broker's two gRPC hops (caselog
    // ReadCase/Append, directory GetNode) replaced by in-process calls: what
    // is left is the SendReferral hop, the broker, the store and the feed.
    std::printf(
        "\n--diagnose: not product figures; the broker's ports in "
        "process (no caselog/directory gRPC hop)\n");
    PrintHeader();
    auto local = System::Start(absl::GetFlag(FLAGS_dir), &probes, true);
    if (!local.ok()) {
      std::fprintf(stderr, "referral_bench: cannot start the services: %s\n",
                   local.status().ToString().c_str());
      return 1;
    }
    InboxWatcher local_inbox((*local)->referral_address());
    if (absl::Status live = local_inbox.WaitLive(absl::Seconds(10));
        !live.ok()) {
      std::fprintf(stderr, "referral_bench: %s\n", live.ToString().c_str());
      return 1;
    }
    const Setup local_setup{local->get(), &probes, &local_inbox, cases};
    for (int n : levels) {
      if (!run(absl::StrCat("referral_e2e_localports_c", n),
               [&] { return EndToEnd(local_setup, n, "_localports"); })) {
        return 1;
      }
    }
  }

  PrintBreakdown(figures);

  auto rate_of = [&](const std::string& name) -> std::optional<double> {
    for (const Figure& f : figures) {
      if (f.name == name) return f.ops_per_sec;
    }
    return std::nullopt;
  };
  struct Ratio {
    std::string name;
    double value;
    std::optional<double> target;
  };
  std::vector<Ratio> ratios;
  for (int n : levels) {
    auto e2e = rate_of(absl::StrCat("referral_e2e_c", n));
    auto append = rate_of(absl::StrCat("caselog_grpc_append_c", n));
    auto ping = rate_of(absl::StrCat("grpc_health_ping_c", n));
    if (e2e && append && *append > 0) {
      ratios.push_back({absl::StrCat("e2e_vs_append_c", n), *e2e / *append,
                        kE2eVsAppendTarget});
    }
    if (append && ping && *ping > 0) {
      ratios.push_back(
          {absl::StrCat("append_vs_ping_c", n), *append / *ping, std::nullopt});
    }
  }

  std::printf("\n%-36s %10s %10s %6s\n", "target", "value", "target", "result");
  for (int n : levels) {
    auto local = rate_of(absl::StrCat("referral_e2e_localports_c", n));
    auto append = rate_of(absl::StrCat("caselog_grpc_append_c", n));
    if (local && append && *append > 0) {
      ratios.push_back({absl::StrCat("diag_e2e_localports_vs_append_c", n),
                        *local / *append, std::nullopt});
    }
  }
  for (const Ratio& r : ratios) {
    std::printf("%-36s %10.3f %10s %6s\n", r.name.c_str(), r.value,
                r.target ? absl::StrCat(">= ", *r.target).c_str() : "-",
                !r.target              ? "-"
                : r.value >= *r.target ? "PASS"
                                       : "MISS");
  }
  if (paced_p99) {
    std::printf(
        "%-36s %10.0f %10s %6s\n",
        absl::StrCat("paced", static_cast<int>(fraction * 100),
                     "_delivery_p99_us (",
                     static_cast<int64_t>(peak * fraction), "/s)")
            .c_str(),
        *paced_p99,
        absl::StrCat("<= ", static_cast<int64_t>(kPacedP99TargetUs)).c_str(),
        *paced_p99 <= kPacedP99TargetUs ? "PASS" : "MISS");
  }

  std::printf("\n");
  for (const Figure& f : figures) {
    std::printf("BENCH %s %.1f ops/s\n", f.name.c_str(), f.ops_per_sec);
    std::printf("BENCH %s_p50 %.0f us\n", f.name.c_str(), f.p50_us);
    std::printf("BENCH %s_p99 %.0f us\n", f.name.c_str(), f.p99_us);
    if (f.target_rate > 0) {
      std::printf("BENCH %s_offered %.1f ops/s\n", f.name.c_str(),
                  f.target_rate);
    }
    for (const auto& [suffix, us] : f.probes_us) {
      std::printf("BENCH %s_%s %.0f us\n", f.name.c_str(), suffix.c_str(), us);
    }
    if (f.syncs > 0) {
      std::printf("BENCH %s_syncs %.1f syncs/s\n", f.name.c_str(),
                  static_cast<double>(f.syncs) / f.seconds);
      std::printf("BENCH %s_sync_mean %.0f us\n", f.name.c_str(),
                  f.mean_sync_us);
    }
  }
  if (peak > 0) std::printf("BENCH referral_e2e_peak %.1f ops/s\n", peak);
  for (const Ratio& r : ratios) {
    std::printf("RATIO %s %.3f\n", r.name.c_str(), r.value);
  }
  std::fflush(stdout);
  return op_failed ? 1 : 0;
}

}  // namespace
}  // namespace referral::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures a unary gRPC ping, caselog Append over gRPC and SendReferral "
      "delivered to the addressee's inbox, side by side at 1/16/64 in "
      "flight, then delivery latency at half the peak; prints tables, then "
      "BENCH and RATIO lines.");
  absl::ParseCommandLine(argc, argv);
  // Measure the process as the services run it (main() of every service).
  referral::TuneProcessForServing();
  return referral::bench::Run();
}
