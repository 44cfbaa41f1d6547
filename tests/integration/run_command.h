// Runs a shell command for end-to-end tests and returns its exit code and its
// combined stdout and stderr.

#ifndef REFERRAL_TESTS_INTEGRATION_RUN_COMMAND_H_
#define REFERRAL_TESTS_INTEGRATION_RUN_COMMAND_H_

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace referral::testing {

// refctl reads a saved context (~/.config/refctl/context.json); tests must
// not depend on what a developer saved there, so the command sees none.
inline std::pair<int, std::string> RunCommand(const std::string& cmd) {
  FILE* p = popen(("REFCTL_CONTEXT=/nonexistent/refctl-context.json " + cmd +
                   " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace referral::testing

#endif  // REFERRAL_TESTS_INTEGRATION_RUN_COMMAND_H_
