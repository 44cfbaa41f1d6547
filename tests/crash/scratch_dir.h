// A fresh directory under the test temp dir, removed with everything in it
// when the object goes. For the crash tests.
//
// Thread safety: thread-compatible.

#ifndef REFERRAL_TESTS_CRASH_SCRATCH_DIR_H_
#define REFERRAL_TESTS_CRASH_SCRATCH_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace referral::crash {

class ScratchDir {
 public:
  explicit ScratchDir(absl::string_view label) {
    std::string pattern =
        absl::StrCat(::testing::TempDir(), "referral_", label, "_XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory.
  std::string Sub(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

}  // namespace referral::crash

#endif  // REFERRAL_TESTS_CRASH_SCRATCH_DIR_H_
