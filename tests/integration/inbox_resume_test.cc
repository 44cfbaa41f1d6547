// A node's inbox across restarts of the referral and caselog services: the
// client library resumes from the durable cursor, the wire may repeat what
// was not acknowledged, and the application sees every referral exactly
// once.

#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "clients/cpp/referral_client.h"
#include "common/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/integration/referral_fixture.h"

namespace referral {
namespace {

using ::referral::testing::IsOk;
using ::referral::testing::ReferralSystem;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kLabor[] = "qinzhou.labor-inspection";

struct Received {
  absl::Mutex mu;
  std::vector<std::string> event_ids ABSL_GUARDED_BY(mu);
  std::vector<std::string> referral_ids ABSL_GUARDED_BY(mu);
  size_t count() {
    absl::MutexLock l(&mu);
    return referral_ids.size();
  }
};

TEST(InboxResume, NothingLostNothingTwiceAcrossRestartsOfBothServices) {
  constexpr int kBefore = 12, kBetween = 10, kAfter = 12;
  constexpr int kTotal = kBefore + kBetween + kAfter;
  ReferralSystem s;
  client::ReferralClientOptions patient;
  patient.max_attempts = 40;  // ride out the restarts
  patient.initial_backoff = absl::Milliseconds(20);
  patient.max_backoff = absl::Milliseconds(200);
  ASSERT_OK_AND_ASSIGN(auto justice, client::ReferralClient::Connect(
                                         s.referral_address(), kJustice,
                                         std::nullopt, patient));
  ASSERT_OK_AND_ASSIGN(auto labor, client::ReferralClient::Connect(
                                       s.referral_address(), kLabor,
                                       std::nullopt, patient));

  v1::OpenCaseRequest open;
  open.set_request_id("open-1");
  open.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
  open.set_title("wages");
  open.set_matter(v1::MATTER_WAGE_ARREARS);
  ASSERT_OK_AND_ASSIGN(v1::OpenCaseResponse opened, justice->OpenCase(open));
  std::set<std::string> sent;
  auto send = [&](int i) {
    v1::SendReferralRequest r;
    r.set_request_id(absl::StrCat("send-", i));
    r.set_case_id(opened.case_().case_id());
    r.set_to_node(kLabor);
    r.set_purpose(absl::StrCat("referral ", i));
    auto resp = justice->SendReferral(r);
    ASSERT_THAT(resp, IsOk());
    sent.insert(resp->referral().referral_id());
  };

  Received got;
  std::thread follower([&] {
    int handled = 0;
    absl::Status st = labor->FollowInbox(0, [&](const v1::InboxItem& item) {
      {
        absl::MutexLock l(&got.mu);
        got.event_ids.push_back(item.event().event_id());
        got.referral_ids.push_back(item.referral_id());
      }
      // Acknowledge only every third item, so a restart leaves some
      // delivered-but-unacknowledged items for the wire to repeat.
      if (++handled % 3 == 0) {
        EXPECT_THAT(labor->Ack(item.event().global_position()), IsOk());
      }
      return got.count() < static_cast<size_t>(kTotal);
    });
    EXPECT_THAT(st, IsOk());
  });

  auto wait_for = [&](size_t n) {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (got.count() < n && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  };
  for (int i = 0; i < kBefore; ++i) send(i);
  wait_for(kBefore);

  s.StopReferral();  // the broker goes away under the open stream
  s.StartReferral();
  for (int i = kBefore; i < kBefore + kBetween; ++i) send(i);
  wait_for(kBefore + kBetween);

  s.StopReferral();  // and then the case log and the broker together
  s.StopCaselog();
  s.StartCaselog();
  s.StartReferral();
  for (int i = kBefore + kBetween; i < kTotal; ++i) send(i);
  wait_for(kTotal);
  labor->StopFollowing();
  follower.join();

  absl::MutexLock l(&got.mu);
  std::set<std::string> unique_events(got.event_ids.begin(), got.event_ids.end());
  EXPECT_EQ(unique_events.size(), got.event_ids.size()) << "an item came twice";
  std::set<std::string> referrals(got.referral_ids.begin(), got.referral_ids.end());
  EXPECT_EQ(referrals, sent) << "an item was lost";
  EXPECT_EQ(got.referral_ids.size(), static_cast<size_t>(kTotal));
}

}  // namespace
}  // namespace referral
