#include "services/caselog/caselog_service.h"

#include <filesystem>

#include "common/status_matchers.h"
#include "gtest/gtest.h"

namespace referral::caselog {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;

class CaseLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("caselog_core_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    storage::EventStoreOptions options;
    options.path = dir_.string();
    auto store = storage::EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    core_.Attach(std::move(*store));
  }
  void TearDown() override {
    core_.Detach().reset();
    std::filesystem::remove_all(dir_);
  }

  static v1::AppendRequest Note(const std::string& case_id,
                                const std::string& id) {
    v1::AppendRequest r;
    r.set_case_id(case_id);
    auto* e = r.add_events();
    e->set_event_id(id);
    e->set_source("qinzhou.justice");
    e->mutable_case_note_recorded()->set_note("n");
    return r;
  }

  std::filesystem::path dir_;
  CaseLog core_;
};

TEST_F(CaseLogTest, EveryCallIsUnavailableWhileNoStoreIsAttached) {
  CaseLog opening;
  EXPECT_THAT(opening.Append(Note("c1", "e1")),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(opening.ReadAll({}), HasReason("UNAVAILABLE"));
  EXPECT_THAT(opening.ParseSubscribe({}),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(CaseLogTest, ExpectedVersionEnumMapsToTheStoreCheck) {
  v1::AppendRequest first = Note("c1", "e1");
  first.set_expected(v1::EXPECTED_VERSION_NO_STREAM);
  ASSERT_THAT(core_.Append(first), IsOk());

  v1::AppendRequest again = Note("c1", "e2");
  again.set_expected(v1::EXPECTED_VERSION_NO_STREAM);
  EXPECT_THAT(core_.Append(again), HasReason("CONCURRENT_MODIFICATION"));

  again.set_expected(v1::EXPECTED_VERSION_EXACT);
  again.set_expected_version(1);
  ASSERT_OK_AND_ASSIGN(v1::AppendResponse r, core_.Append(again));
  EXPECT_EQ(r.last_sequence(), 2u);

  v1::AppendRequest unspecified = Note("c1", "e3");  // = ANY
  ASSERT_OK_AND_ASSIGN(r, core_.Append(unspecified));
  EXPECT_EQ(r.last_sequence(), 3u);

  v1::AppendRequest bogus = Note("c1", "e4");
  bogus.set_expected(static_cast<v1::ExpectedVersion>(42));
  EXPECT_THAT(core_.Append(bogus), HasReason("INVALID_FIELD"));
}

TEST_F(CaseLogTest, PageSizeDefaultsClampsAndRefusesNegatives) {
  for (int i = 0; i < 150; ++i) {
    ASSERT_THAT(core_.Append(Note("c1", "e" + std::to_string(i))), IsOk());
  }
  v1::ReadCaseRequest req;
  req.set_case_id("c1");
  ASSERT_OK_AND_ASSIGN(v1::ReadCaseResponse page, core_.ReadCase(req));
  EXPECT_EQ(page.events_size(), kDefaultPageSize);
  EXPECT_EQ(page.next_sequence(), 101u);
  EXPECT_EQ(page.case_version(), 150u);

  req.set_page_size(-1);
  EXPECT_THAT(core_.ReadCase(req), StatusIs(absl::StatusCode::kInvalidArgument));

  v1::ReadAllRequest all;
  all.set_page_size(100000);
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse everything, core_.ReadAll(all));
  EXPECT_EQ(everything.events_size(), 150);  // clamped to 1000, 150 exist
  EXPECT_EQ(everything.next_position(), 151u);
}

TEST_F(CaseLogTest, BackwardReadStartsAtTheEnd) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(core_.Append(Note("c1", "e" + std::to_string(i))), IsOk());
  }
  v1::ReadCaseRequest req;
  req.set_case_id("c1");
  req.set_direction(v1::READ_DIRECTION_BACKWARD);
  req.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ReadCaseResponse page, core_.ReadCase(req));
  ASSERT_EQ(page.events_size(), 2);
  EXPECT_EQ(page.events(0).sequence(), 5u);
  EXPECT_EQ(page.events(1).sequence(), 4u);
  EXPECT_EQ(page.next_sequence(), 3u);
}

TEST_F(CaseLogTest, SubscribeRequestWithBadFilterIsRefused) {
  v1::SubscribeRequest req;
  req.mutable_filter()->set_event_type("NoSuchType");
  EXPECT_THAT(core_.ParseSubscribe(req), HasReason("INVALID_FIELD"));
}

TEST_F(CaseLogTest, WithASigningKeyVerifyCaseSignsTheIntactHeadItFound) {
  ASSERT_THAT(core_.Append(Note("c1", "e1")), IsOk());
  ASSERT_THAT(core_.Append(Note("c1", "e2")), IsOk());
  std::shared_ptr<storage::HeadSigner> signer = storage::HeadSigner::Generate();
  CaseLog signing(signer);
  signing.Attach(core_.store().value());
  v1::VerifyCaseRequest r;
  r.set_case_id("c1");
  auto v = signing.VerifyCase(r);
  ASSERT_THAT(v, IsOk());
  EXPECT_TRUE(v->intact());
  ASSERT_TRUE(v->has_signed_head());
  EXPECT_EQ(v->signed_head().case_id(), "c1");
  EXPECT_EQ(v->signed_head().sequence(), 2u);
  EXPECT_EQ(v->signed_head().head_hash(), v->head_hash());
  EXPECT_THAT(storage::CheckSignedHead(v->signed_head(), signer->public_key()), IsOk());
  signing.Detach();

  // Without a key: the same verdict, unsigned.
  auto unsigned_verdict = core_.VerifyCase(r);
  ASSERT_THAT(unsigned_verdict, IsOk());
  EXPECT_TRUE(unsigned_verdict->intact());
  EXPECT_FALSE(unsigned_verdict->has_signed_head());
}

}  // namespace
}  // namespace referral::caselog
