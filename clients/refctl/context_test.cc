#include "clients/refctl/context.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::refctl {
namespace {

namespace fs = std::filesystem;

class ContextFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("refctl_context_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ContextFile, MissingFileIsAnEmptyContext) {
  auto c = LoadContext((dir_ / "none.json").string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, Context{});
}

TEST_F(ContextFile, RoundTripCreatingTheDirectory) {
  const std::string path = (dir_ / "deep" / "refctl" / "context.json").string();
  Context c;
  c.node = "qinzhou.justice";
  c.referral = "127.0.0.1:50103";
  c.pki = "/srv/pki";
  c.plaintext = false;
  ASSERT_TRUE(SaveContext(path, c).ok());
  auto back = LoadContext(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(back->caselog.has_value());
  // No temporary file left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(ContextFile, MergeKeepsWhatIsNotGiven) {
  Context saved;
  saved.node = "qinzhou.justice";
  saved.referral = "10.0.0.1:50103";
  Context given;
  given.node = "qinzhou.arbitration";
  given.plaintext = true;
  Context m = Merge(saved, given);
  EXPECT_EQ(m.node, "qinzhou.arbitration");
  EXPECT_EQ(m.referral, "10.0.0.1:50103");
  EXPECT_EQ(m.plaintext, true);
  EXPECT_FALSE(m.pki.has_value());
}

TEST_F(ContextFile, EmptyStringClearsAField) {
  const std::string path = (dir_ / "c.json").string();
  Context c;
  c.node = "";
  c.caselog = "127.0.0.1:1";
  ASSERT_TRUE(SaveContext(path, c).ok());
  auto back = LoadContext(path);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->node.has_value());
  EXPECT_EQ(back->caselog, "127.0.0.1:1");
}

TEST_F(ContextFile, RefusesMalformedFiles) {
  fs::create_directories(dir_);
  const std::string path = (dir_ / "c.json").string();
  auto write = [&](const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  };
  write("not json");
  EXPECT_THAT(std::string(LoadContext(path).status().message()),
              ::testing::HasSubstr("not a JSON object"));
  write(R"({"node": 5})");
  EXPECT_THAT(std::string(LoadContext(path).status().message()),
              ::testing::HasSubstr("\"node\" must be a string"));
  write(R"({"plaintext": "yes"})");
  EXPECT_FALSE(LoadContext(path).ok());
  write(R"({"nodes": "qinzhou.justice"})");
  EXPECT_THAT(std::string(LoadContext(path).status().message()),
              ::testing::HasSubstr("unknown field \"nodes\""));
  write(R"({"node": "qinzhou.union", "plaintext": true})");
  auto ok = LoadContext(path);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->node, "qinzhou.union");
  EXPECT_EQ(ok->plaintext, true);
}

TEST_F(ContextFile, PathFollowsTheEnvironment) {
  ::setenv("REFCTL_CONTEXT", "/x/ctx.json", 1);
  EXPECT_EQ(ContextPath(), "/x/ctx.json");
  ::unsetenv("REFCTL_CONTEXT");
  ::setenv("XDG_CONFIG_HOME", "/cfg", 1);
  EXPECT_EQ(ContextPath(), "/cfg/refctl/context.json");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/desk", 1);
  EXPECT_EQ(ContextPath(), "/home/desk/.config/refctl/context.json");
}

}  // namespace
}  // namespace referral::refctl
