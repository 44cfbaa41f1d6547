// SIGKILL of a process appending under load: every append it acknowledged is
// in the store after reopening, at the place it was acknowledged, and the log
// is whole.
//
// The appender is a separate executable (crash_append_child) that reports
// each acknowledged event on a pipe the moment its Append returns OK. The test
// reads the reports, kills the child at a chosen moment, and reopens the store
// in this process. The same store is killed several times, at different
// moments, each round appending under a new tag, so later rounds also prove
// that a store recovered from a kill takes writes and survives the next kill.
//
// A SIGKILL loses the process, not the machine: data the store handed to the
// kernel survives it even unsynced. The power-loss tests cover what this
// cannot.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_store.h"
#include "tests/crash/crash_workload.h"
#include "tests/crash/durability_audit.h"
#include "tests/crash/scratch_dir.h"

#ifndef CRASH_APPEND_CHILD_PATH
#error "CRASH_APPEND_CHILD_PATH must name the crash_append_child executable"
#endif

namespace referral::crash {
namespace {

using ::testing::IsEmpty;

// When to kill the child: once `min_acks` acknowledgements are read and it
// has run for `min_age`; or as soon as `max_acks` are read; or at `max_age`
// whatever has been read. Then, unless `then_audit` is false, reopen the store
// here and check it.
struct KillMoment {
  const char* name;
  size_t min_acks = 0;
  absl::Duration min_age = absl::ZeroDuration();
  size_t max_acks = SIZE_MAX;
  absl::Duration max_age = absl::Seconds(5);
  bool then_audit = true;
};

// The rounds, in order, all on one store.
const KillMoment kMoments[] = {
    {.name = "15 ms after start, most likely while it creates the store",
     .min_age = absl::Milliseconds(15)},
    {.name = "right after the first acknowledgement", .min_acks = 1},
    {.name = "after 500 acknowledgements", .min_acks = 500},
    {.name = "after 2000 acknowledgements", .min_acks = 2000},
    // Not audited: reopening here would recover and flush this round's log,
    // and the next round is to be killed while it does that. The cap on
    // acknowledgements keeps the audits short on a fast disk.
    {.name = "after 2 s of load or 20000 acknowledgements",
     .min_acks = 1,
     .min_age = absl::Seconds(2),
     .max_acks = 20000,
     .then_audit = false},
    // Replaying the log of thousands of appends takes longer than this, so
    // the kill most likely lands in recovery or its flush.
    {.name = "150 ms after start, most likely while it recovers the last "
             "round's log",
     .min_age = absl::Milliseconds(150)},
    {.name = "after 500 acknowledgements on the twice-recovered store",
     .min_acks = 500},
};

struct KilledRun {
  bool opened = false;  // the child reported its store open
  std::vector<Ack> acks;
  int wait_status = 0;
  absl::Duration age;  // how long the child ran before the kill
};

// Splits complete lines off the front of `buffer` into `run`.
absl::Status TakeReports(std::string& buffer, KilledRun& run) {
  size_t start = 0;
  for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    absl::string_view line(buffer.data() + start, nl - start);
    if (line == "open") {
      run.opened = true;
      continue;
    }
    Ack ack;
    if (!ParseAck(line, &ack)) {
      return absl::DataLossError(absl::StrCat("malformed report: ", line));
    }
    run.acks.push_back(std::move(ack));
  }
  buffer.erase(0, start);
  return absl::OkStatus();
}

// Starts crash_append_child on `db_path`, reads its acknowledgements until
// `moment`, SIGKILLs it, reads what it reported before dying, and reaps it.
// With `acknowledge_from_memory`, the child runs as the negative control.
absl::StatusOr<KilledRun> RunAndKill(const std::string& db_path,
                                     const std::string& tag,
                                     const KillMoment& moment,
                                     bool acknowledge_from_memory = false) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  // Everything the child needs is prepared before fork: between fork and
  // exec only async-signal-safe calls are allowed.
  std::string program = CRASH_APPEND_CHILD_PATH;
  std::string flag = "--acknowledge-from-memory";
  std::vector<char*> argv = {program.data(), const_cast<char*>(db_path.c_str()),
                             const_cast<char*>(tag.c_str())};
  if (acknowledge_from_memory) argv.push_back(flag.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const absl::Time start = absl::Now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Dies with the test, whatever happens to it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    if (::dup2(fds[1], STDOUT_FILENO) < 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);

  KilledRun run;
  std::string buffer;
  char chunk[1 << 16];
  bool eof = false;
  absl::Status parsed;
  while (!eof && parsed.ok()) {
    const absl::Duration age = absl::Now() - start;
    if ((run.acks.size() >= moment.min_acks && age >= moment.min_age) ||
        run.acks.size() >= moment.max_acks || age >= moment.max_age) {
      break;
    }
    absl::Duration wait = std::min(absl::Milliseconds(5), moment.max_age - age);
    if (age < moment.min_age) wait = std::min(wait, moment.min_age - age);
    pollfd p{fds[0], POLLIN, 0};
    int ready = ::poll(&p, 1,
                       static_cast<int>(absl::ToInt64Milliseconds(
                           std::max(wait, absl::Milliseconds(1)))));
    if (ready <= 0) continue;
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;  // the child died by itself; its exit status says why
      break;
    }
    buffer.append(chunk, static_cast<size_t>(n));
    parsed = TakeReports(buffer, run);
  }
  run.age = absl::Now() - start;
  ::kill(pid, SIGKILL);

  // Whatever reached the pipe before the kill was acknowledged: read it all.
  for (;;) {
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  while (::waitpid(pid, &run.wait_status, 0) < 0 && errno == EINTR) {
  }
  if (parsed.ok()) parsed = TakeReports(buffer, run);
  if (!parsed.ok()) return parsed;
  // Each batch is reported with one write(2) below PIPE_BUF, which a kill
  // cannot split; a partial line means the reporting is broken.
  if (!buffer.empty()) {
    return absl::DataLossError(absl::StrCat("a partial report: ", buffer));
  }
  return run;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exited with code ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status));
  }
  return absl::StrCat("wait status ", status);
}

TEST(EventStoreCrash, EveryAcknowledgedAppendSurvivesSigkillUnderLoad) {
  ScratchDir dir("sigkill");
  const std::string db_path = dir.Sub("store");
  std::vector<Ack> acknowledged;  // over every round so far

  for (size_t round = 0; round < std::size(kMoments); ++round) {
    const KillMoment& moment = kMoments[round];
    SCOPED_TRACE(absl::StrCat("round ", round, ": killed ", moment.name));

    ASSERT_OK_AND_ASSIGN(KilledRun run,
                         RunAndKill(db_path, absl::StrCat("r", round), moment));
    ASSERT_TRUE(WIFSIGNALED(run.wait_status) &&
                WTERMSIG(run.wait_status) == SIGKILL)
        << "the child was to die by SIGKILL but "
        << DescribeWaitStatus(run.wait_status) << " (its stderr is above)";
    if (moment.min_acks > 0) {
      // Otherwise this round killed nothing under load and proves little.
      ASSERT_GE(run.acks.size(), 1u)
          << "no append was acknowledged in " << run.age;
    }
    std::cout << "round " << round << " (" << moment.name << "): killed after "
              << run.age << ", "
              << (run.opened ? "with the store open"
                             : "before the store opened")
              << ", acknowledged events: " << run.acks.size() << "\n";
    acknowledged.insert(acknowledged.end(), run.acks.begin(), run.acks.end());
    if (!moment.then_audit) continue;

    storage::EventStoreOptions options;
    options.path = db_path;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::EventStore> store,
                         storage::EventStore::Open(options));

    DurabilityAudit audit = AuditStore(*store, acknowledged);
    std::cout << "  reopened: " << audit.present << " of "
              << acknowledged.size() << " acknowledged events present, "
              << store->LastPosition() << " in the store\n";
    EXPECT_TRUE(audit.ok()) << audit.Summary();
    EXPECT_EQ(audit.present, acknowledged.size()) << audit.Summary();
    EXPECT_GE(store->LastPosition(), acknowledged.size());
    EXPECT_EQ(audit.feed_events, store->LastPosition());
    EXPECT_EQ(audit.cases_intact, audit.cases_examined);

    // A client that saw no answer retries; one that did and retries anyway
    // must get the first answer back, not a second copy.
    EXPECT_THAT(RetryAcknowledged(*store, acknowledged), IsEmpty());
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(acknowledged.size(), 0u);
}

// Negative control: a child whose store acknowledges appends that are still
// in its own memory (no sync, and a file system that passes bytes to the
// kernel only when synced). The kill must be seen to lose them, or the test
// above could not see a store that does this.
TEST(EventStoreCrash, NegativeControlAcknowledgingFromMemoryIsCaught) {
  ScratchDir dir("sigkill_control");
  const std::string db_path = dir.Sub("store");
  ASSERT_OK_AND_ASSIGN(
      KilledRun run,
      RunAndKill(db_path, "control", {.name = "control", .min_acks = 500},
                 /*acknowledge_from_memory=*/true));
  ASSERT_TRUE(WIFSIGNALED(run.wait_status) &&
              WTERMSIG(run.wait_status) == SIGKILL)
      << DescribeWaitStatus(run.wait_status);
  ASSERT_GE(run.acks.size(), 500u);

  storage::EventStoreOptions options;
  options.path = db_path;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::EventStore> store,
                       storage::EventStore::Open(options));
  DurabilityAudit audit = AuditStore(*store, run.acks);
  std::cout << "negative control: " << run.acks.size() - audit.present << " of "
            << run.acks.size() << " acknowledged events lost to the kill\n";
  EXPECT_LT(audit.present, audit.acknowledged);
  EXPECT_FALSE(audit.ok());
}

}  // namespace
}  // namespace referral::crash
