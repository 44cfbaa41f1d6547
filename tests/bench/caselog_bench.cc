// caselog_bench: how close the case log's durable append comes to what the
// disk allows. One run measures, side by side:
//
//   raw_rocksdb_sync_w{1,8,32}   a synced WriteBatch of one 300-byte Put per
//                                write, N writer threads, fresh DB each;
//   store_append_w{1,8,32}       EventStore::Append of one CaseNoteRecorded
//                                (ExpectedVersion::Any, 64 cases), fresh store;
//   caselog_grpc_append_c{8,32}  CaseLogService.Append over loopback gRPC to an
//                                in-process server on a fresh store, one
//                                client and one channel per client thread;
//
// and the ratios store/raw and grpc/raw with the targets (store >= 0.9x raw at
// 32 writers, gRPC >= 0.7x raw at 32 clients). Each figure runs a warm-up,
// then counts the operations acknowledged within a fixed window.
//
// Besides throughput and p50/p99 latency, each row shows what explains them:
//   syncs/s, ops/sync  WAL syncs in the window and operations per sync (the
//                      commit group size), counted by a file system wrapper
//                      under every database;
//   sync us            mean wall time of one WAL sync, including the wait for
//                      a CPU after the disk answers (it grows when the process
//                      or the machine is short of CPU);
//   cores, cpu us/op   the process's CPU time over the window;
//   store p50, in store  gRPC rows only: EventStore::Append as the server saw
//                      it, and how many calls were inside the store on
//                      average (Little's law); the rest of a call is gRPC.
// --diagnose adds variants that each change one thing (no sync; gRPC's
// synchronous server with more pollers kept alive; Abseil's mutex deadlock
// detection off) to show what the gaps are made of. --only picks figures.
//
// Output: the table, the ratios with their targets, then one line per figure
// `BENCH <name> <value> <unit>` and per ratio `RATIO <name> <value>`. A missed
// target is reported, not an error: the exit status is 1 only when the bench
// could not run or an operation failed. The machine is measured as it is:
// run it on an otherwise idle machine for figures worth comparing.

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
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "clients/cpp/caselog_client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "services/caselog/caselog_grpc_service.h"
#include "services/caselog/caselog_service.h"
#include "services/runtime/service_host.h"
#include "storage/event_store.h"
#include "tests/bench/wal_sync_counter.h"

ABSL_FLAG(double, seconds, 3.0, "measured duration of each figure, seconds");
ABSL_FLAG(double, warmup, 0.5, "warm-up before each figure, seconds");
ABSL_FLAG(std::string, dir, "/tmp",
          "parent directory for the benchmark databases (a fresh "
          "subdirectory is created and removed)");
ABSL_FLAG(int, cases, 64, "cases the appends are spread over");
ABSL_FLAG(int, value_bytes, 300,
          "raw Put value size and CaseNoteRecorded note size, bytes");
ABSL_FLAG(bool, diagnose, false,
          "after the figures, run variants that explain the gaps (no sync, "
          "more gRPC pollers, Abseil deadlock detection off); adds ~30 s");
ABSL_FLAG(int, diagnose_pollers, 64,
          "with --diagnose: MAX_POLLERS of the tuned synchronous gRPC server");
ABSL_FLAG(std::string, only, "",
          "when set, run only the figures whose name contains this (e.g. "
          "\"_w32\" or \"grpc\"); ratios missing a figure are not printed");

namespace referral::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kStoreTarget = 0.9;  // store / raw at 32 writers
constexpr double kGrpcTarget = 0.7;   // gRPC / raw at 32 clients
constexpr char kSource[] = "qinzhou.justice";

// ------------------------------------------------------------ sync counting

// ------------------------------------------------------------ measurement

struct Figure {
  std::string name;  // e.g. raw_rocksdb_sync_w32
  int threads = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  double ops_per_sec = 0;
  double p50_us = 0;
  double p99_us = 0;
  uint64_t syncs = 0;
  double mean_sync_us = 0;
  double cpu_seconds = 0;
  // gRPC figures: EventStore::Append as the server saw it.
  bool has_store_latency = false;
  double store_p50_us = 0;
  double store_p99_us = 0;
  double store_mean_us = 0;
};

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
    size_t b = std::min<size_t>(static_cast<size_t>(nanos / kBucketNanos),
                                kBuckets - 1);
    buckets_[b].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_nanos_.fetch_add(static_cast<uint64_t>(nanos),
                         std::memory_order_relaxed);
  }

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
  double MeanUs() const {
    const uint64_t n = count_;
    return n == 0 ? 0
                  : static_cast<double>(sum_nanos_.load()) / 1e3 /
                        static_cast<double>(n);
  }

 private:
  static constexpr int64_t kBucketNanos = 10'000;
  static constexpr size_t kBuckets = 20'000;
  std::vector<std::atomic<uint64_t>> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
  std::atomic<bool> on_{false};
};

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
    const auto t0 = Clock::now();
    auto r = base_->Append(case_id, expected, std::move(events));
    appends_->Record(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
            .count());
    return r;
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

// One operation by worker `thread`; `seq` counts that worker's operations
// from 0 (warm-up included), so (thread, seq) is unique within a figure.
using Op = std::function<absl::Status(int thread, uint64_t seq)>;

// Runs `op` on `threads` workers: warm-up, then the measured window. An
// operation counts when it is acknowledged inside the window. `store_appends`
// (may be null) records the store's own Append latency over the window.
Figure Measure(std::string name, int threads, const Op& op, SyncStats* stats,
               LatencyHistogram* store_appends = nullptr) {
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
        absl::Status s = op(t, seq);
        const auto t1 = Clock::now();
        if (t1 < start || t1 >= end) continue;
        if (s.ok()) {
          w.latencies.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)
                  .count());
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
  const uint64_t syncs0 = stats->syncs, sync_ns0 = stats->sync_nanos;
  const double cpu0 = CpuSeconds();
  if (store_appends != nullptr) store_appends->Start();
  std::this_thread::sleep_until(end);
  if (store_appends != nullptr) store_appends->Stop();
  const uint64_t syncs1 = stats->syncs, sync_ns1 = stats->sync_nanos;
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
  f.syncs = syncs1 - syncs0;
  f.mean_sync_us = f.syncs == 0 ? 0
                                : static_cast<double>(sync_ns1 - sync_ns0) /
                                      1000.0 / static_cast<double>(f.syncs);
  f.cpu_seconds = cpu1 - cpu0;
  if (store_appends != nullptr) {
    f.has_store_latency = true;
    f.store_p50_us = store_appends->PercentileUs(0.50);
    f.store_p99_us = store_appends->PercentileUs(0.99);
    f.store_mean_us = store_appends->MeanUs();
  }
  return f;
}

// ------------------------------------------------------------ workloads

// A fresh directory under the run's directory, one per figure.
class ScratchDirs {
 public:
  explicit ScratchDirs(const std::filesystem::path& parent)
      : root_(parent / ("caselog_bench_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~ScratchDirs() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::string Fresh(const std::string& tag) {
    auto p = root_ / tag;
    std::filesystem::remove_all(p);
    return p.string();
  }
  void Remove(const std::string& p) {
    std::error_code ec;
    std::filesystem::remove_all(p, ec);
  }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

struct Setup {
  ScratchDirs* dirs;
  rocksdb::Env* env;  // counts WAL syncs
  SyncStats* stats;
  int cases;
  std::string payload;
};

std::string CaseId(const Setup& s, int thread, uint64_t seq) {
  // Round-robin over the cases, offset per thread so concurrent writers
  // start on different cases.
  return absl::StrCat("bench-case-", (thread * 7 + seq) % s.cases);
}

// Synced (or, for --diagnose, unsynced) WriteBatches of one Put each.
absl::StatusOr<Figure> RawRocksDb(const Setup& s, const std::string& name,
                                  int threads, bool sync) {
  const std::string path = s.dirs->Fresh(name);
  rocksdb::Options options;
  options.create_if_missing = true;
  // As the store opens its database (storage/rocksdb_event_store.cc).
  options.keep_log_file_num = 4;
  options.max_background_jobs = 2;
  options.env = s.env;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(options, path, &raw);
  if (!st.ok()) return absl::InternalError(st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);

  Op op = [&](int thread, uint64_t seq) -> absl::Status {
    char key[40];
    std::snprintf(key, sizeof key, "t%03d-%012llu", thread,
                  static_cast<unsigned long long>(seq));
    rocksdb::WriteBatch batch;
    rocksdb::Status ps = batch.Put(key, s.payload);
    if (!ps.ok()) return absl::InternalError(ps.ToString());
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status ws = db->Write(wo, &batch);
    if (!ws.ok()) return absl::InternalError(ws.ToString());
    return absl::OkStatus();
  };
  Figure f = Measure(name, threads, op, s.stats);
  st = db->Close();
  db.reset();
  s.dirs->Remove(path);
  if (!st.ok()) return absl::InternalError(st.ToString());
  return f;
}

storage::Event Note(const Setup& s, int thread, uint64_t seq) {
  storage::Event e;
  e.set_event_id(absl::StrCat("bench-t", thread, "-", seq));
  e.set_source(kSource);
  e.mutable_case_note_recorded()->set_note(s.payload);
  return e;
}

// EventStore::Append of one note each; `sync` false only for --diagnose.
absl::StatusOr<Figure> StoreAppend(const Setup& s, const std::string& name,
                                   int threads, bool sync) {
  storage::EventStoreOptions options;
  options.path = s.dirs->Fresh(name);
  options.env = s.env;
  options.sync = sync;
  auto store = storage::EventStore::Open(options);
  if (!store.ok()) return store.status();

  Op op = [&](int thread, uint64_t seq) -> absl::Status {
    std::vector<storage::Event> events;
    events.push_back(Note(s, thread, seq));
    return (*store)
        ->Append(CaseId(s, thread, seq), storage::ExpectedVersion::Any(),
                 std::move(events))
        .status();
  };
  Figure f = Measure(name, threads, op, s.stats);
  store->reset();
  s.dirs->Remove(options.path);
  return f;
}

// A server for the caselog service on 127.0.0.1:0. By default it is a
// ServiceHost, exactly as the caselog binary serves; with `max_pollers` > 0
// (--diagnose) it is a plain ServerBuilder whose synchronous server keeps up
// to that many polling threads alive instead of gRPC's default of 2.
class BenchServer {
 public:
  static absl::StatusOr<std::unique_ptr<BenchServer>> Start(
      caselog::CaseLogGrpcService* service, int max_pollers) {
    auto server = std::unique_ptr<BenchServer>(new BenchServer);
    if (max_pollers == 0) {
      ServiceHostOptions options;  // 127.0.0.1:0
      options.health_names = {"referral.v1.CaseLogService"};
      auto host = ServiceHost::Start(options, {service});
      if (!host.ok()) return host.status();
      server->host_ = std::move(*host);
      server->host_->SetServing(true);
      server->address_ = server->host_->address();
      return server;
    }
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    grpc::ResourceQuota quota("caselog-bench");
    quota.SetMaxThreads(ServiceHostOptions().max_threads);
    builder.SetResourceQuota(quota);
    builder.SetSyncServerOption(grpc::ServerBuilder::MAX_POLLERS, max_pollers);
    builder.RegisterService(service);
    server->server_ = builder.BuildAndStart();
    if (server->server_ == nullptr || port == 0) {
      return absl::UnavailableError("cannot listen on 127.0.0.1:0");
    }
    server->address_ = absl::StrCat("127.0.0.1:", port);
    return server;
  }

  ~BenchServer() {
    if (host_ != nullptr) host_->Shutdown(absl::Seconds(2));
    if (server_ != nullptr) {
      server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      server_->Wait();
    }
  }

  const std::string& address() const { return address_; }

 private:
  BenchServer() = default;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

// CaseLogService.Append of one note each, one client and channel per thread.
absl::StatusOr<Figure> GrpcAppend(const Setup& s, const std::string& name,
                                  int clients, int max_pollers) {
  storage::EventStoreOptions options;
  options.path = s.dirs->Fresh(name);
  options.env = s.env;
  auto store = storage::EventStore::Open(options);
  if (!store.ok()) return store.status();

  LatencyHistogram store_appends;
  caselog::CaseLog core;
  caselog::CaseLogGrpcService service(&core);
  auto server = BenchServer::Start(&service, max_pollers);
  if (!server.ok()) return server.status();
  core.Attach(
      std::make_shared<TimedEventStore>(std::move(*store), &store_appends));

  // A local subchannel pool and a distinct argument keep gRPC from sharing
  // one connection among the channels.
  std::vector<std::unique_ptr<client::CaseLogClient>> stubs;
  client::ClientOptions client_options;
  client_options.max_attempts = 1;  // a failure is counted, not retried away
  absl::Status ready = absl::OkStatus();
  for (int i = 0; i < clients; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("referral.bench.client", i);
    auto channel = grpc::CreateCustomChannel(
        (*server)->address(), grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(
            absl::ToChronoTime(absl::Now() + absl::Seconds(5)))) {
      ready = absl::UnavailableError(absl::StrCat(
          "client ", i, " could not connect to ", (*server)->address()));
      break;
    }
    stubs.push_back(
        std::make_unique<client::CaseLogClient>(channel, client_options));
  }

  std::optional<Figure> f;
  if (ready.ok()) {
    Op op = [&](int thread, uint64_t seq) -> absl::Status {
      v1::AppendRequest request;
      request.set_case_id(CaseId(s, thread, seq));
      request.set_expected(v1::EXPECTED_VERSION_ANY);
      *request.add_events() = Note(s, thread, seq);
      return stubs[thread]->Append(request).status();
    };
    f = Measure(name, clients, op, s.stats, &store_appends);
  }
  stubs.clear();
  server->reset();
  core.Detach().reset();
  s.dirs->Remove(options.path);
  if (!ready.ok()) return ready;
  return *f;
}

// ------------------------------------------------------------ report

constexpr char kHeader[] =
    "%-37s %4s %9s %7s %7s %7s %8s %7s %5s %9s %9s %8s %6s\n";
constexpr char kRow[] =
    "%-37s %4d %9.1f %7.0f %7.0f %7.0f %8.2f %7.0f %5.2f %9.0f %9s %8s "
    "%6llu\n";

void PrintHeader() {
  std::printf(kHeader, "figure", "thr", "ops/s", "p50 us", "p99 us", "syncs/s",
              "ops/sync", "sync us", "cores", "cpu us/op", "store p50",
              "in store", "errors");
}

void PrintFigure(const Figure& f) {
  const double ops_per_sync =
      f.syncs == 0 ? 0
                   : static_cast<double>(f.ops) / static_cast<double>(f.syncs);
  // For gRPC figures: the server's EventStore::Append p50, and how many
  // calls were inside the store on average (Little's law).
  std::string store_p50 = "-", in_store = "-";
  if (f.has_store_latency) {
    store_p50 = absl::StrCat(static_cast<int64_t>(f.store_p50_us));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f",
                  f.ops_per_sec * f.store_mean_us / 1e6);
    in_store = buf;
  }
  std::printf(kRow, f.name.c_str(), f.threads, f.ops_per_sec, f.p50_us,
              f.p99_us, static_cast<double>(f.syncs) / f.seconds, ops_per_sync,
              f.mean_sync_us, f.cpu_seconds / f.seconds,
              f.ops == 0 ? 0 : f.cpu_seconds * 1e6 / static_cast<double>(f.ops),
              store_p50.c_str(), in_store.c_str(),
              static_cast<unsigned long long>(f.errors));
  std::fflush(stdout);
}

struct Step {
  std::string name;
  std::function<absl::StatusOr<Figure>()> run;
};

struct Ratio {
  std::string name;
  std::string numerator;
  std::string denominator;
  std::optional<double> target;
  double value = 0;
};

// Runs the steps whose name contains --only; false when one could not run.
bool RunSteps(const std::vector<Step>& steps, std::vector<Figure>* figures,
              bool* op_failed) {
  const std::string only = absl::GetFlag(FLAGS_only);
  for (const Step& step : steps) {
    if (step.name.find(only) == std::string::npos) continue;
    absl::StatusOr<Figure> f = step.run();
    if (!f.ok()) {
      std::fprintf(stderr, "caselog_bench: %s could not run: %s\n",
                   step.name.c_str(), f.status().ToString().c_str());
      return false;
    }
    PrintFigure(*f);
    if (f->errors > 0) {
      std::fprintf(stderr,
                   "caselog_bench: %s: %llu operations failed; the first: %s\n",
                   f->name.c_str(), static_cast<unsigned long long>(f->errors),
                   f->first_error.c_str());
      *op_failed = true;
    }
    figures->push_back(std::move(*f));
  }
  return true;
}

int Run() {
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const double warmup = absl::GetFlag(FLAGS_warmup);
  const int cases = absl::GetFlag(FLAGS_cases);
  const int value_bytes = absl::GetFlag(FLAGS_value_bytes);
  if (seconds <= 0 || warmup < 0 || cases < 1 || value_bytes < 1) {
    std::fprintf(stderr,
                 "caselog_bench: needs --seconds > 0, --warmup >= 0, "
                 "--cases >= 1 and --value_bytes >= 1\n");
    return 2;
  }

  SyncStats stats;
  auto fs = std::make_shared<WalSyncCountingFileSystem>(&stats);
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  ScratchDirs dirs(absl::GetFlag(FLAGS_dir));
  const Setup setup{&dirs, env.get(), &stats, cases,
                    std::string(value_bytes, 'n')};

  std::printf(
      "caselog_bench: %.1f s per figure after %.1f s warm-up; %d cases; "
      "%d-byte values and notes; %u CPUs; databases under %s\n\n",
      seconds, warmup, cases, value_bytes, std::thread::hardware_concurrency(),
      dirs.root().c_str());
  PrintHeader();

  auto raw = [&](int n, bool sync = true) {
    std::string name =
        absl::StrCat("raw_rocksdb_", sync ? "sync" : "nosync", "_w", n);
    return Step{name, [&setup, name, n, sync] {
                  return RawRocksDb(setup, name, n, sync);
                }};
  };
  auto store = [&](int n, bool sync = true, const char* tag = "") {
    std::string name =
        absl::StrCat("store_append", sync ? "" : "_nosync", tag, "_w", n);
    return Step{name, [&setup, name, n, sync] {
                  return StoreAppend(setup, name, n, sync);
                }};
  };
  auto grpc = [&](int n, int max_pollers = 0, const char* tag = "") {
    std::string name = absl::StrCat(
        "caselog_grpc_append", max_pollers > 0 ? "_pollers" : "", tag, "_c", n);
    return Step{name, [&setup, name, n, max_pollers] {
                  return GrpcAppend(setup, name, n, max_pollers);
                }};
  };

  // Interleaved by concurrency, so a slow drift of the disk (the machine may
  // be shared) hits a ratio's numerator and denominator alike.
  std::vector<Figure> figures;
  bool op_failed = false;
  if (!RunSteps({raw(1), store(1), raw(8), store(8), grpc(8), raw(32),
                 store(32), grpc(32)},
                &figures, &op_failed)) {
    return 1;
  }

  std::vector<Ratio> ratios = {
      {"store_vs_raw_w1", "store_append_w1", "raw_rocksdb_sync_w1", {}},
      {"store_vs_raw_w8", "store_append_w8", "raw_rocksdb_sync_w8", {}},
      {"store_vs_raw_w32", "store_append_w32", "raw_rocksdb_sync_w32",
       kStoreTarget},
      {"grpc_vs_raw_w8", "caselog_grpc_append_c8", "raw_rocksdb_sync_w8", {}},
      {"grpc_vs_raw_w32", "caselog_grpc_append_c32", "raw_rocksdb_sync_w32",
       kGrpcTarget},
  };

  if (absl::GetFlag(FLAGS_diagnose)) {
    // What the two gaps are made of: each path without the sync (its CPU
    // ceiling), gRPC's synchronous server with more pollers kept alive, and
    // everything again with Abseil's mutex deadlock detection off (Debian's
    // Abseil is built without NDEBUG, so it is on in every binary here and
    // cannot be turned back on safely once off: these run last).
    std::printf("\n--diagnose: not product figures; each changes one thing\n");
    PrintHeader();
    const int pollers = absl::GetFlag(FLAGS_diagnose_pollers);
    if (!RunSteps({raw(32, false), store(32, false), grpc(32, pollers)},
                  &figures, &op_failed)) {
      return 1;
    }
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    if (!RunSteps({raw(32), store(32, true, "_nodld"), grpc(32, 0, "_nodld"),
                   grpc(32, pollers, "_nodld")},
                  &figures, &op_failed)) {
      return 1;
    }
    ratios.push_back({"diag_store_nodld_vs_raw_w32",
                      "store_append_nodld_w32",
                      "raw_rocksdb_sync_w32",
                      {}});
    ratios.push_back({"diag_grpc_pollers_vs_raw_w32",
                      "caselog_grpc_append_pollers_c32",
                      "raw_rocksdb_sync_w32",
                      {}});
    ratios.push_back({"diag_grpc_nodld_vs_raw_w32",
                      "caselog_grpc_append_nodld_c32",
                      "raw_rocksdb_sync_w32",
                      {}});
    ratios.push_back({"diag_grpc_pollers_nodld_vs_raw_w32",
                      "caselog_grpc_append_pollers_nodld_c32",
                      "raw_rocksdb_sync_w32",
                      {}});
  }

  // The latest figure of a name: with --diagnose, raw_rocksdb_sync_w32 is
  // measured again right before the figures compared with it.
  auto rate = [&](const std::string& name) -> std::optional<double> {
    for (auto it = figures.rbegin(); it != figures.rend(); ++it) {
      if (it->name == name) return it->ops_per_sec;
    }
    return std::nullopt;
  };
  std::vector<Ratio> measured;
  for (Ratio r : ratios) {
    auto num = rate(r.numerator), den = rate(r.denominator);
    if (!num || !den || *den == 0) continue;  // left out by --only
    if (!absl::StartsWith(r.name, "diag_")) {
      // The product ratios compare figures of the main pass only.
      for (const Figure& f : figures) {
        if (f.name == r.denominator) {
          den = f.ops_per_sec;
          break;
        }
      }
    }
    r.value = *num / *den;
    measured.push_back(std::move(r));
  }

  std::printf("\n%-36s %8s %8s %6s\n", "ratio", "value", "target", "result");
  for (const Ratio& r : measured) {
    std::printf("%-36s %8.3f %8s %6s\n", r.name.c_str(), r.value,
                r.target ? absl::StrCat(">= ", *r.target).c_str() : "-",
                !r.target              ? "-"
                : r.value >= *r.target ? "PASS"
                                       : "MISS");
  }

  std::printf("\n");
  for (const Figure& f : figures) {
    std::printf("BENCH %s %.1f ops/s\n", f.name.c_str(), f.ops_per_sec);
    std::printf("BENCH %s_p50 %.0f us\n", f.name.c_str(), f.p50_us);
    std::printf("BENCH %s_p99 %.0f us\n", f.name.c_str(), f.p99_us);
    if (f.has_store_latency) {
      std::printf("BENCH %s_store_p50 %.0f us\n", f.name.c_str(),
                  f.store_p50_us);
      std::printf("BENCH %s_store_p99 %.0f us\n", f.name.c_str(),
                  f.store_p99_us);
    }
  }
  for (const Ratio& r : measured) {
    std::printf("RATIO %s %.3f\n", r.name.c_str(), r.value);
  }
  std::fflush(stdout);
  return op_failed ? 1 : 0;
}

}  // namespace
}  // namespace referral::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures raw synced RocksDB writes, EventStore::Append and caselog "
      "Append over gRPC side by side; prints a table, then BENCH and RATIO "
      "lines.");
  absl::ParseCommandLine(argc, argv);
  // Measure the process as the services run it (main() of every service).
  referral::TuneProcessForServing();
  return referral::bench::Run();
}
