// The real caselog executable, started as a child process, driven over gRPC
// and by refctl, stopped with SIGTERM and restarted on the same data.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/cpp/caselog_client.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/run_command.h"

namespace referral {
namespace {

using ::referral::testing::IsOk;
namespace fs = std::filesystem;

class CaselogProcess {
 public:
  // Starts `caselog` on a free loopback port with `data_dir`.
  CaselogProcess(const fs::path& data_dir, const fs::path& work)
      : port_file_(work / "port"), log_(work / "caselog.log") {
    fs::remove(port_file_);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::string data = "--data_dir=" + data_dir.string();
      std::string port = "--port_file=" + port_file_.string();
      execl(CASELOG_BINARY, CASELOG_BINARY, "--listen=127.0.0.1:0", "--plaintext", data.c_str(),
            port.c_str(), nullptr);
      _exit(127);
    }
  }
  ~CaselogProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // The address once the port file appears, or "" after `timeout`.
  std::string WaitForAddress(absl::Duration timeout = absl::Seconds(20)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) return absl::StrCat("127.0.0.1:", port);
      if (HasExited()) return "";
      absl::SleepFor(absl::Milliseconds(20));
    }
    return "";
  }

  bool HasExited() {
    if (exited_) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_status_ = status;
    }
    return exited_;
  }

  // Sends `sig` and waits up to `timeout`; returns the exit code, or -1.
  int StopWith(int sig, absl::Duration timeout = absl::Seconds(15)) {
    kill(pid_, sig);
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (HasExited()) return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return -1;
  }

  int WaitExit(absl::Duration timeout = absl::Seconds(15)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (HasExited()) return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return -1;
  }

  std::string Log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path port_file_, log_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = 0;
};

fs::path Workdir(const std::string& name) {
  fs::path p = fs::path(::testing::TempDir()) /
               absl::StrCat("caselog_e2e_", name, "_", getpid());
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

bool WaitServing(client::CaseLogClient& c) {
  for (int i = 0; i < 200; ++i) {
    auto s = c.Healthy("referral.v1.CaseLogService");
    if (s.ok() && *s) return true;
    absl::SleepFor(absl::Milliseconds(25));
  }
  return false;
}

// Runs refctl with `args`; returns its exit code and stdout+stderr.
std::pair<int, std::string> Refctl(const std::string& address, const std::string& args) {
  return referral::testing::RunCommand(
      absl::StrCat(REFCTL_BINARY, " --caselog ", address, " ", args));
}

v1::AppendRequest Note(const std::string& id) {
  v1::AppendRequest r;
  r.set_case_id("qinzhou.justice:2026-000001");
  auto* e = r.add_events();
  e->set_event_id(id);
  e->set_source("qinzhou.justice");
  e->mutable_case_note_recorded()->set_note("工资拖欠");
  return r;
}

TEST(CaselogBinary, ServesStopsCleanlyOnSigtermAndKeepsDataAcrossRestarts) {
  fs::path work = Workdir("restart");
  fs::path data = work / "data";
  for (int run = 0; run < 2; ++run) {
    CaselogProcess proc(data, work);
    std::string address = proc.WaitForAddress();
    ASSERT_FALSE(address.empty()) << proc.Log();
    auto client = client::CaseLogClient::Connect(address);
    ASSERT_TRUE(WaitServing(*client)) << proc.Log();
    ASSERT_OK_AND_ASSIGN(auto r, client->Append(Note(absl::StrCat("run", run))));
    EXPECT_EQ(r.last_sequence(), uint64_t(run + 1)) << "run " << run;
    EXPECT_EQ(proc.StopWith(SIGTERM), 0) << proc.Log();
    EXPECT_THAT(proc.Log(), ::testing::HasSubstr("stopped"));
  }
  fs::remove_all(work);
}

TEST(CaselogBinary, ASecondInstanceOnTheSameDataRefusesClearly) {
  fs::path work = Workdir("lock");
  CaselogProcess first(work / "data", work);
  ASSERT_FALSE(first.WaitForAddress().empty()) << first.Log();
  auto client = client::CaseLogClient::Connect(first.WaitForAddress());
  ASSERT_TRUE(WaitServing(*client));

  fs::path work2 = work / "second";
  fs::create_directories(work2);
  CaselogProcess second(work / "data", work2);
  EXPECT_EQ(second.WaitExit(), 1) << second.Log();
  EXPECT_THAT(second.Log(), ::testing::HasSubstr("open in another process"));
  EXPECT_EQ(first.StopWith(SIGTERM), 0);
  fs::remove_all(work);
}

TEST(CaselogBinary, RefctlOpensNotesReadsVerifiesAndExplainsErrors) {
  fs::path work = Workdir("refctl");
  CaselogProcess proc(work / "data", work);
  std::string address = proc.WaitForAddress();
  ASSERT_FALSE(address.empty()) << proc.Log();
  auto client = client::CaseLogClient::Connect(address);
  ASSERT_TRUE(WaitServing(*client));

  auto [code, out] = Refctl(address, "health");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("SERVING"));

  std::tie(code, out) = Refctl(
      address, "log open qinzhou.justice:2026-000007 --owner qinzhou.justice "
               "--channel hotline --title 'wages owed to 23 workers'");
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = Refctl(address,
                               "log note qinzhou.justice:2026-000007 --source "
                               "qinzhou.justice --note 转劳动监察 --event-id n-1");
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = Refctl(address,
                               "log note qinzhou.justice:2026-000007 --source "
                               "qinzhou.justice --note 转劳动监察 --event-id n-1");
  EXPECT_THAT(out, ::testing::HasSubstr("already recorded"));

  std::tie(code, out) = Refctl(address, "log read qinzhou.justice:2026-000007");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("referral.v1.CaseOpened"));
  EXPECT_THAT(out, ::testing::HasSubstr("转劳动监察"));

  std::tie(code, out) = Refctl(address, "log read qinzhou.justice:2026-000007 -o json");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("\"case_version\": \"2\""));

  std::tie(code, out) = Refctl(address, "log verify qinzhou.justice:2026-000007");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("intact: 2 events"));

  std::tie(code, out) = Refctl(address,
                               "log note qinzhou.justice:2026-000007 --source "
                               "qinzhou.justice --note x --expect 9");
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, ::testing::HasSubstr("CONCURRENT_MODIFICATION"));
  EXPECT_THAT(out, ::testing::HasSubstr("当前版本 2"));

  std::tie(code, out) = Refctl("127.0.0.1:1", "--timeout 300ms health");
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, ::testing::HasSubstr("./dev up"));
  EXPECT_EQ(proc.StopWith(SIGTERM), 0);
  fs::remove_all(work);
}

}  // namespace
}  // namespace referral
