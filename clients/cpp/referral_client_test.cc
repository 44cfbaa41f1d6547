// ReferralClient against a scripted in-process ReferralService: retries with
// the same request, the node in metadata, and the inbox follower's reconnects
// and de-duplication.

#include "clients/cpp/referral_client.h"

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace referral::client {
namespace {

using ::testing::ElementsAre;
using ::testing::Each;

// One StreamInbox connection's script.
struct Connection {
  std::vector<v1::StreamInboxResponse> messages;
  grpc::Status end = grpc::Status::OK;
  bool then_wait_for_cancel = false;
};

v1::StreamInboxResponse Item(uint64_t position, const std::string& event_id) {
  v1::StreamInboxResponse m;
  m.mutable_item()->mutable_event()->set_global_position(position);
  m.mutable_item()->mutable_event()->set_event_id(event_id);
  m.mutable_item()->set_referral_id("qinzhou.justice:2026-000001/r1");
  return m;
}

v1::StreamInboxResponse CaughtUp(uint64_t position) {
  v1::StreamInboxResponse m;
  m.mutable_caught_up()->set_position(position);
  return m;
}

class FakeReferralService final : public v1::ReferralService::Service {
 public:
  grpc::Status OpenCase(grpc::ServerContext* context, const v1::OpenCaseRequest* request,
                        v1::OpenCaseResponse* response) override {
    absl::MutexLock lock(&mu);
    open_request_ids.push_back(request->request_id());
    open_nodes.push_back(NodeOf(*context));
    if (open_failures > 0) {
      --open_failures;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
    }
    response->mutable_case_()->set_case_id("qinzhou.justice:2026-000001");
    return grpc::Status::OK;
  }

  grpc::Status GetCase(grpc::ServerContext* context, const v1::GetCaseRequest* request,
                       v1::GetCaseResponse* response) override {
    int call;
    {
      absl::MutexLock lock(&mu);
      call = ++get_case_calls;
    }
    if (call == 1) {
      // Slower than the client's deadline the first time.
      while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
      return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
    }
    response->mutable_case_()->set_case_id(request->case_id());
    return grpc::Status::OK;
  }

  grpc::Status RejectReferral(grpc::ServerContext*, const v1::RejectReferralRequest*,
                              v1::RejectReferralResponse*) override {
    absl::MutexLock lock(&mu);
    ++reject_calls;
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "only the addressee");
  }

  grpc::Status AckInbox(grpc::ServerContext* context, const v1::AckInboxRequest* request,
                        v1::AckInboxResponse* response) override {
    absl::MutexLock lock(&mu);
    acks.push_back(request->position());
    if (ack_cancellations > 0) {
      --ack_cancellations;  // the server stopping with the call in flight
      return grpc::Status(grpc::StatusCode::CANCELLED, "server shutting down");
    }
    response->set_cursor(request->position());
    return grpc::Status::OK;
  }

  grpc::Status StreamInbox(grpc::ServerContext* context,
                           const v1::StreamInboxRequest* request,
                           grpc::ServerWriter<v1::StreamInboxResponse>* writer) override {
    Connection script;
    {
      absl::MutexLock lock(&mu);
      from_positions.push_back(request->from_position());
      stream_nodes.push_back(NodeOf(*context));
      if (connections.empty()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no script left");
      }
      script = connections.front();
      connections.erase(connections.begin());
    }
    for (const auto& m : script.messages) {
      if (!writer->Write(m)) return grpc::Status::CANCELLED;
    }
    if (script.then_wait_for_cancel) {
      while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
      return grpc::Status::CANCELLED;
    }
    return script.end;
  }

  static std::string NodeOf(const grpc::ServerContext& context) {
    auto it = context.client_metadata().find(kNodeMetadataKey);
    if (it == context.client_metadata().end()) return "";
    return std::string(it->second.data(), it->second.size());
  }

  absl::Mutex mu;
  int open_failures ABSL_GUARDED_BY(mu) = 0;
  int ack_cancellations ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::string> open_request_ids ABSL_GUARDED_BY(mu);
  std::vector<std::string> open_nodes ABSL_GUARDED_BY(mu);
  int get_case_calls ABSL_GUARDED_BY(mu) = 0;
  int reject_calls ABSL_GUARDED_BY(mu) = 0;
  std::vector<uint64_t> acks ABSL_GUARDED_BY(mu);
  std::vector<Connection> connections ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> from_positions ABSL_GUARDED_BY(mu);
  std::vector<std::string> stream_nodes ABSL_GUARDED_BY(mu);
};

class ReferralClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  std::unique_ptr<ReferralClient> Client(ReferralClientOptions o = Fast()) {
    auto c = ReferralClient::Connect(absl::StrCat("127.0.0.1:", port_), "qinzhou.justice",
                                     std::nullopt, o);
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }
  static ReferralClientOptions Fast() {
    ReferralClientOptions o;
    o.initial_backoff = absl::Milliseconds(1);
    o.max_backoff = absl::Milliseconds(5);
    o.timeout = absl::Seconds(5);
    return o;
  }
  void Script(std::vector<Connection> connections) {
    absl::MutexLock lock(&service_.mu);
    service_.connections = std::move(connections);
  }

  FakeReferralService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(ReferralClientTest, RetriesUnavailableWithTheSameRequestAsTheNode) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.open_failures = 2;
  }
  v1::OpenCaseRequest req;
  req.set_request_id(NewRequestId("t"));
  auto r = Client()->OpenCase(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->case_().case_id(), "qinzhou.justice:2026-000001");
  absl::MutexLock lock(&service_.mu);
  EXPECT_THAT(service_.open_request_ids,
              ElementsAre(req.request_id(), req.request_id(), req.request_id()));
  EXPECT_THAT(service_.open_nodes, Each(std::string("qinzhou.justice")));
}

TEST_F(ReferralClientTest, GivesUpAfterMaxAttempts) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.open_failures = 100;
  }
  ReferralClientOptions o = Fast();
  o.max_attempts = 3;
  auto r = Client(o)->OpenCase(v1::OpenCaseRequest());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.open_request_ids.size(), 3u);
}

TEST_F(ReferralClientTest, RetriesAMissedDeadline) {
  ReferralClientOptions o = Fast();
  o.timeout = absl::Milliseconds(200);
  v1::GetCaseRequest req;
  req.set_case_id("qinzhou.justice:2026-000001");
  auto r = Client(o)->GetCase(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->case_().case_id(), req.case_id());
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.get_case_calls, 2);
}

TEST_F(ReferralClientTest, DoesNotRetryARefusal) {
  auto r = Client()->RejectReferral(v1::RejectReferralRequest());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.reject_calls, 1);
}

TEST_F(ReferralClientTest, AnAckCancelledByARestartingServerIsRepeated) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.ack_cancellations = 1;
  }
  auto r = Client()->Ack(42);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::MutexLock lock(&service_.mu);
  EXPECT_THAT(service_.acks, ElementsAre(42u, 42u));
}

TEST_F(ReferralClientTest, AckSendsThePosition) {
  auto r = Client()->Ack(42);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cursor(), 42u);
  absl::MutexLock lock(&service_.mu);
  EXPECT_THAT(service_.acks, ElementsAre(42u));
}

TEST_F(ReferralClientTest, FollowReconnectsFromTheCursorAndDropsRepeats) {
  Script({
      {{Item(1, "e1"), Item(2, "e2")},
       grpc::Status(grpc::StatusCode::UNAVAILABLE, "server restarting")},
      // The cursor was not advanced: the server sends e1 and e2 again.
      {{Item(1, "e1"), Item(2, "e2"), Item(3, "e3"), CaughtUp(3), Item(5, "e5")},
       grpc::Status::OK, /*then_wait_for_cancel=*/true},
  });
  std::vector<std::string> seen;
  std::vector<uint64_t> caught_up;
  auto client = Client();
  absl::Status s = client->FollowInbox(
      0,
      [&](const v1::InboxItem& item) {
        seen.push_back(item.event().event_id());
        return item.event().event_id() != "e5";
      },
      [&](uint64_t position) {
        caught_up.push_back(position);
        return true;
      });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(seen, ElementsAre("e1", "e2", "e3", "e5"));
  EXPECT_THAT(caught_up, ElementsAre(3u));
  absl::MutexLock lock(&service_.mu);
  EXPECT_THAT(service_.from_positions, ElementsAre(0u, 0u));
  EXPECT_THAT(service_.stream_nodes, Each(std::string("qinzhou.justice")));
}

TEST_F(ReferralClientTest, FollowReconnectsAfterAServerSideCancel) {
  Script({
      {{Item(1, "e1")}, grpc::Status(grpc::StatusCode::CANCELLED, "server stopping")},
      {{Item(1, "e1"), Item(2, "e2")}, grpc::Status::OK, true},
  });
  std::vector<std::string> seen;
  std::vector<absl::StatusCode> reconnects;
  ReferralClientOptions o = Fast();
  o.on_reconnect = [&](const absl::Status& s) { reconnects.push_back(s.code()); };
  absl::Status s = Client(o)->FollowInbox(0, [&](const v1::InboxItem& item) {
    seen.push_back(item.event().event_id());
    return seen.size() < 2;
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(seen, ElementsAre("e1", "e2"));
  EXPECT_THAT(reconnects, ElementsAre(absl::StatusCode::kCancelled));
}

TEST_F(ReferralClientTest, RepeatsAreDroppedByEventIdAcrossFollows) {
  Script({
      {{Item(7, "e7"), Item(8, "e8")}, grpc::Status::OK, true},
      // A later follow on the same client, not acknowledged meanwhile.
      {{Item(7, "e7"), Item(8, "e8"), Item(9, "e9")}, grpc::Status::OK, true},
  });
  auto client = Client();
  std::vector<std::string> seen;
  auto on_item = [&](const v1::InboxItem& item) {
    seen.push_back(item.event().event_id());
    return item.event().event_id() != "e8" && item.event().event_id() != "e9";
  };
  ASSERT_TRUE(client->FollowInbox(0, on_item).ok());
  ASSERT_TRUE(client->FollowInbox(0, on_item).ok());
  EXPECT_THAT(seen, ElementsAre("e7", "e8", "e9"));
}

TEST_F(ReferralClientTest, DeduplicationWindowIsBounded) {
  // A window of 2: e1 is forgotten by the time it comes again in a new follow
  // (whose position guard starts afresh), so the application sees it twice.
  Script({
      {{Item(1, "e1"), Item(2, "e2"), Item(3, "e3")}, grpc::Status::OK, true},
      {{Item(1, "e1"), Item(3, "e3")}, grpc::Status::OK, true},
  });
  ReferralClientOptions o = Fast();
  o.dedup_window = 2;
  auto client = Client(o);
  std::vector<std::string> seen;
  auto on_item = [&](const v1::InboxItem& item) {
    seen.push_back(item.event().event_id());
    return seen.size() != 3 && seen.size() != 4;
  };
  ASSERT_TRUE(client->FollowInbox(0, on_item).ok());
  ASSERT_TRUE(client->FollowInbox(0, on_item).ok());
  EXPECT_THAT(seen, ElementsAre("e1", "e2", "e3", "e1"));
}

TEST_F(ReferralClientTest, FollowFromAPositionResumesAfterTheLastDelivered) {
  Script({
      {{Item(10, "e10"), Item(11, "e11")},
       grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped")},
      {{Item(12, "e12")}, grpc::Status::OK, true},
  });
  std::vector<std::string> seen;
  absl::Status s = Client()->FollowInbox(10, [&](const v1::InboxItem& item) {
    seen.push_back(item.event().event_id());
    return seen.size() < 3;
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(seen, ElementsAre("e10", "e11", "e12"));
  absl::MutexLock lock(&service_.mu);
  EXPECT_THAT(service_.from_positions, ElementsAre(10u, 12u));
}

TEST_F(ReferralClientTest, FollowStopsAtCaughtUpWhenAsked) {
  Script({{{Item(1, "e1"), CaughtUp(1), Item(2, "e2")}, grpc::Status::OK, true}});
  std::vector<std::string> seen;
  absl::Status s = Client()->FollowInbox(
      0,
      [&](const v1::InboxItem& item) {
        seen.push_back(item.event().event_id());
        return true;
      },
      [](uint64_t) { return false; });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(seen, ElementsAre("e1"));
}

TEST_F(ReferralClientTest, FollowReturnsARefusal) {
  Script({{{}, grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "who are you")}});
  absl::Status s = Client()->FollowInbox(0, [](const v1::InboxItem&) { return true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ReferralClientTest, FollowGivesUpAfterMaxReconnects) {
  Script({});  // every connection: UNAVAILABLE
  ReferralClientOptions o = Fast();
  o.max_reconnects = 3;
  absl::Status s = Client(o)->FollowInbox(0, [](const v1::InboxItem&) { return true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.from_positions.size(), 3u);
}

TEST_F(ReferralClientTest, StopFollowingFromAnotherThread) {
  Script({{{CaughtUp(0)}, grpc::Status::OK, true}});
  auto client = Client();
  absl::Notification caught_up;
  std::thread stopper([&] {
    caught_up.WaitForNotification();
    client->StopFollowing();
  });
  absl::Status s = client->FollowInbox(
      0, [](const v1::InboxItem&) { return true; },
      [&](uint64_t) {
        caught_up.Notify();
        return true;
      });
  stopper.join();
  EXPECT_TRUE(s.ok()) << s;
}

TEST(RecentIds, ForgetsTheOldestFirst) {
  RecentIds ids(3);
  EXPECT_TRUE(ids.Insert("a"));
  EXPECT_TRUE(ids.Insert("b"));
  EXPECT_FALSE(ids.Insert("a"));
  EXPECT_TRUE(ids.Insert("c"));
  EXPECT_TRUE(ids.Insert("d"));  // forgets a
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids.Contains("a"));
  EXPECT_TRUE(ids.Contains("b"));
  EXPECT_TRUE(ids.Insert("a"));  // forgets b
  EXPECT_FALSE(ids.Contains("b"));
  EXPECT_FALSE(ids.Insert("d"));
}

TEST(RequestIds, FreshAndValid) {
  std::string a = NewRequestId("refctl"), b = NewRequestId("refctl");
  EXPECT_NE(a, b);
  EXPECT_TRUE(IsValidRequestId(a)) << a;
  EXPECT_EQ(a.rfind("refctl-", 0), 0u);
  EXPECT_TRUE(IsValidRequestId("open-1:retry.2_x"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("has space"));
  EXPECT_FALSE(IsValidRequestId("斜杠"));
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
  EXPECT_TRUE(IsValidRequestId(std::string(128, 'a')));
}

}  // namespace
}  // namespace referral::client
