// An in-process caselog server on a loopback port, over a real RocksDB store
// in a fresh temporary directory, for integration tests.

#ifndef REFERRAL_TESTS_INTEGRATION_CASELOG_FIXTURE_H_
#define REFERRAL_TESTS_INTEGRATION_CASELOG_FIXTURE_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "clients/cpp/caselog_client.h"
#include "gtest/gtest.h"
#include "services/caselog/caselog_grpc_service.h"
#include "services/caselog/caselog_service.h"
#include "services/runtime/service_host.h"
#include "storage/event_store.h"

namespace referral::testing {

inline std::filesystem::path FreshDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::path(::testing::TempDir()) /
             (tag + "_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

class CaseLogServer {
 public:
  // Starts listening (NOT_SERVING); Open() attaches the store and serves.
  explicit CaseLogServer(storage::EventStoreOptions options = {})
      : dir_(FreshDir("caselog")), options_(std::move(options)) {
    options_.path = (dir_ / "data").string();
    ServiceHostOptions host;
    host.health_names = {"referral.v1.CaseLogService"};
    auto h = ServiceHost::Start(host, {&service_});
    EXPECT_TRUE(h.ok()) << h.status();
    host_ = std::move(*h);
  }
  ~CaseLogServer() {
    Stop();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto store = storage::EventStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    core_.Attach(std::move(*store));
    host_->SetServing(true);
  }

  void Stop() {
    if (host_ != nullptr) host_->Shutdown(absl::Seconds(2));
    core_.Detach().reset();
  }

  std::string address() const { return host_->address(); }
  ServiceHost& host() { return *host_; }
  std::unique_ptr<client::CaseLogClient> Client(
      client::ClientOptions options = {}) const {
    return client::CaseLogClient::Connect(address(), options);
  }

 private:
  std::filesystem::path dir_;
  storage::EventStoreOptions options_;
  caselog::CaseLog core_;
  caselog::CaseLogGrpcService service_{&core_};
  std::unique_ptr<ServiceHost> host_;
};

// An AppendRequest of `n` notes to `case_id`, ids "<prefix>-0".."<prefix>-n-1".
inline v1::AppendRequest Notes(const std::string& case_id,
                               const std::string& prefix, int n = 1,
                               const std::string& source = "qinzhou.justice") {
  v1::AppendRequest r;
  r.set_case_id(case_id);
  for (int i = 0; i < n; ++i) {
    auto* e = r.add_events();
    e->set_event_id(prefix + "-" + std::to_string(i));
    e->set_source(source);
    e->mutable_case_note_recorded()->set_note("note " + std::to_string(i));
  }
  return r;
}

}  // namespace referral::testing

#endif  // REFERRAL_TESTS_INTEGRATION_CASELOG_FIXTURE_H_
