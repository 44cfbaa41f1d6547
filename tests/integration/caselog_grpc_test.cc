// CaseLogService over real gRPC on a loopback port, backed by RocksDB on disk.

#include <map>
#include <set>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/runtime/grpc_status.h"
#include "tests/integration/caselog_fixture.h"

namespace referral {
namespace {

using ::referral::testing::CaseLogServer;
using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::Notes;
using ::referral::testing::StatusIs;

class CaseLogGrpc : public ::testing::Test {
 protected:
  void SetUp() override { server_.Open(); client_ = server_.Client(); }
  uint64_t LastPosition() {
    auto r = client_->ReadAll({});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->last_position() : 0;
  }
  CaseLogServer server_;
  std::unique_ptr<client::CaseLogClient> client_;
};

TEST_F(CaseLogGrpc, AppendThenReadCaseReturnsTheEventsWithAssignedFields) {
  ASSERT_OK_AND_ASSIGN(auto r, client_->Append(Notes("c1", "a", 3)));
  EXPECT_EQ(r.first_sequence(), 1u);
  EXPECT_EQ(r.last_sequence(), 3u);
  EXPECT_EQ(r.last_position(), 3u);
  EXPECT_EQ(r.head_hash().size(), 32u);

  v1::ReadCaseRequest req;
  req.set_case_id("c1");
  ASSERT_OK_AND_ASSIGN(auto page, client_->ReadCase(req));
  ASSERT_EQ(page.events_size(), 3);
  EXPECT_EQ(page.events(2).sequence(), 3u);
  EXPECT_EQ(page.events(2).type(), "referral.v1.CaseNoteRecorded");
  EXPECT_EQ(page.events(2).subject(), "c1");
  EXPECT_EQ(page.events(2).hash(), r.head_hash());
  EXPECT_EQ(page.events(2).prev_hash(), page.events(1).hash());
  EXPECT_TRUE(page.events(0).has_recorded_time());
}

TEST_F(CaseLogGrpc, MalformedCaseIdIsInvalidArgumentWithFieldReasonAndChinese) {
  absl::Status s = client_->Append(Notes("Not A Case", "a")).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s, HasReason("INVALID_FIELD"));
  ErrorView v = ViewError(s);
  EXPECT_EQ(v.field, "case_id");
  EXPECT_THAT(v.zh_message, ::testing::HasSubstr("格式不正确"));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("a-z, 0-9"));
  EXPECT_EQ(LastPosition(), 0u);
}

TEST_F(CaseLogGrpc, StaleExpectedVersionIsAbortedAndNamesTheCurrentVersion) {
  ASSERT_THAT(client_->Append(Notes("c1", "a", 2)), IsOk());
  v1::AppendRequest stale = Notes("c1", "b");
  stale.set_expected(v1::EXPECTED_VERSION_EXACT);
  stale.set_expected_version(1);
  absl::Status s = client_->Append(stale).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(s, HasReason("CONCURRENT_MODIFICATION"));
  EXPECT_EQ(ViewError(s).metadata["current_version"], "2");
  EXPECT_EQ(LastPosition(), 2u);
}

TEST_F(CaseLogGrpc, RetryReturnsTheFirstAnswerAndReusedIdIsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(auto first, client_->Append(Notes("c1", "a", 2)));
  ASSERT_OK_AND_ASSIGN(auto retry, client_->Append(Notes("c1", "a", 2)));
  EXPECT_TRUE(retry.deduplicated());
  EXPECT_EQ(retry.first_position(), first.first_position());
  EXPECT_EQ(retry.head_hash(), first.head_hash());

  v1::AppendRequest changed = Notes("c1", "a", 2);
  changed.mutable_events(1)->mutable_case_note_recorded()->set_note("edited");
  EXPECT_THAT(client_->Append(changed),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(client_->Append(changed), HasReason("EVENT_ID_REUSED"));
  EXPECT_EQ(LastPosition(), 2u);
}

TEST_F(CaseLogGrpc, UnknownCaseIsNotFound) {
  v1::ReadCaseRequest req;
  req.set_case_id("nobody");
  EXPECT_THAT(client_->ReadCase(req), HasReason("CASE_NOT_FOUND"));
  v1::VerifyCaseRequest verify;
  verify.set_case_id("nobody");
  EXPECT_THAT(client_->VerifyCase(verify),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CaseLogGrpc, EmptyBatchAndBodilessEventAreRefusedAndWriteNothing) {
  v1::AppendRequest empty;
  empty.set_case_id("c1");
  EXPECT_THAT(client_->Append(empty), HasReason("INVALID_FIELD"));

  v1::AppendRequest bodiless = Notes("c1", "a");
  bodiless.mutable_events(0)->clear_body();
  EXPECT_THAT(client_->Append(bodiless), HasReason("UNKNOWN_EVENT_KIND"));
  EXPECT_EQ(LastPosition(), 0u);
}

TEST_F(CaseLogGrpc, EventWithABodyFromANewerSchemaIsUnknownKind) {
  // A writer built against a newer contract sends body field 999, which this
  // build does not know: it arrives as an unknown field and no known body.
  v1::AppendRequest req = Notes("c1", "a");
  v1::Event* e = req.mutable_events(0);
  e->clear_body();
  e->GetReflection()->MutableUnknownFields(e)->AddLengthDelimited(999, "x");
  absl::Status s = client_->Append(req).status();
  EXPECT_THAT(s, HasReason("UNKNOWN_EVENT_KIND"));
  EXPECT_EQ(ViewError(s).field, "events[0].body");
  EXPECT_EQ(LastPosition(), 0u);
}

TEST(CaseLogGrpcLimits, OversizeEventIsRefusedWithItsSizeAndTheLimit) {
  storage::EventStoreOptions options;
  options.max_event_bytes = 1024;
  CaseLogServer server(options);
  server.Open();
  auto client = server.Client();
  v1::AppendRequest req = Notes("c1", "big");
  req.mutable_events(0)->mutable_case_note_recorded()->set_note(
      std::string(2000, 'x'));
  absl::Status s = client->Append(req).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s, HasReason("EVENT_TOO_LARGE"));
  EXPECT_EQ(ViewError(s).metadata["limit_bytes"], "1024");
  EXPECT_THAT(client->Append(Notes("c1", "small")), IsOk());
}

TEST(CaseLogGrpcHealth, NotServingWhileOpeningServingWhenOpenNotServingOnShutdown) {
  CaseLogServer server;  // listening, store not yet open
  client::ClientOptions one_try;
  one_try.max_attempts = 1;
  auto client = server.Client(one_try);
  ASSERT_OK_AND_ASSIGN(bool serving, client->Healthy());
  EXPECT_FALSE(serving);
  ASSERT_OK_AND_ASSIGN(serving, client->Healthy("referral.v1.CaseLogService"));
  EXPECT_FALSE(serving);
  EXPECT_THAT(client->Append(Notes("c1", "a")), HasReason("UNAVAILABLE"));

  server.Open();
  ASSERT_OK_AND_ASSIGN(serving, client->Healthy("referral.v1.CaseLogService"));
  EXPECT_TRUE(serving);

  server.host().SetServing(false);  // what Shutdown() does first
  ASSERT_OK_AND_ASSIGN(serving, client->Healthy());
  EXPECT_FALSE(serving);
}

TEST_F(CaseLogGrpc, ReflectionListsTheCaseLogService) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(
      grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.insert(s.name());
  EXPECT_TRUE(names.count("referral.v1.CaseLogService")) << names.size();
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(CaseLogGrpc, SubscribeCatchesUpThenGoesLiveWithNoGapOrDuplicate) {
  ASSERT_THAT(client_->Append(Notes("c1", "before", 5)), IsOk());
  std::vector<uint64_t> seen;
  uint64_t caught_up_at = 0;
  std::thread writer;
  absl::Status s = client_->Follow(
      1, {},
      [&](const v1::Event& e) {
        seen.push_back(e.global_position());
        return seen.size() < 12;
      },
      [&](uint64_t position) {
        caught_up_at = position;
        writer = std::thread([this] {
          for (int i = 0; i < 7; ++i) {
            ASSERT_THAT(client_->Append(Notes("c2", "live" + std::to_string(i))),
                        IsOk());
          }
        });
      });
  writer.join();
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(caught_up_at, 5u);
  std::vector<uint64_t> want(12);
  for (size_t i = 0; i < want.size(); ++i) want[i] = i + 1;
  EXPECT_EQ(seen, want);
}

TEST_F(CaseLogGrpc, ManySubscribersEachSeeEveryPositionOnceInOrder) {
  constexpr int kWriters = 4, kAppendsEach = 60, kSubscribers = 8;
  constexpr uint64_t kTotal = kWriters * kAppendsEach;
  ASSERT_THAT(client_->Append(Notes("c0", "seed", 10)), IsOk());

  std::vector<std::vector<uint64_t>> seen(kSubscribers);
  std::vector<std::thread> threads;
  for (int s = 0; s < kSubscribers; ++s) {
    threads.emplace_back([&, s] {
      auto c = server_.Client();
      uint64_t from = 1 + s;  // staggered starts, some inside the backlog
      ASSERT_THAT(c->Follow(from, {},
                            [&](const v1::Event& e) {
                              seen[s].push_back(e.global_position());
                              return e.global_position() < 10 + kTotal;
                            }),
                  IsOk());
    });
  }
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto c = server_.Client();
      for (int i = 0; i < kAppendsEach; ++i) {
        ASSERT_THAT(c->Append(Notes("case-" + std::to_string(w),
                                    "w" + std::to_string(w) + "-" + std::to_string(i))),
                    IsOk());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int s = 0; s < kSubscribers; ++s) {
    ASSERT_EQ(seen[s].size(), 10 + kTotal - s) << "subscriber " << s;
    for (size_t i = 0; i < seen[s].size(); ++i) {
      ASSERT_EQ(seen[s][i], 1 + s + i) << "subscriber " << s;
    }
  }
}

TEST_F(CaseLogGrpc, FilteredSubscriptionDeliversOnlyMatchingEvents) {
  ASSERT_THAT(client_->Append(Notes("c1", "j", 3, "qinzhou.justice")), IsOk());
  ASSERT_THAT(client_->Append(Notes("c2", "l", 3, "qinzhou.labor")), IsOk());
  v1::EventFilter filter;
  filter.set_node("qinzhou.labor");
  std::vector<uint64_t> seen;
  std::thread writer;
  ASSERT_THAT(client_->Follow(
                  1, filter,
                  [&](const v1::Event& e) {
                    EXPECT_EQ(e.source(), "qinzhou.labor");
                    seen.push_back(e.global_position());
                    return seen.size() < 4;
                  },
                  [&](uint64_t) {
                    writer = std::thread([this] {
                      ASSERT_THAT(client_->Append(Notes("c1", "j2", 2)), IsOk());
                      ASSERT_THAT(client_->Append(Notes("c2", "l2", 1, "qinzhou.labor")),
                                  IsOk());
                    });
                  }),
              IsOk());
  writer.join();
  EXPECT_EQ(seen, (std::vector<uint64_t>{4, 5, 6, 9}));
}

TEST_F(CaseLogGrpc, ConsumerResumesFromItsDurableCheckpoint) {
  ASSERT_THAT(client_->Append(Notes("c1", "a", 6)), IsOk());
  uint64_t processed = 0;
  ASSERT_THAT(client_->Follow(1, {},
                              [&](const v1::Event& e) {
                                processed = e.global_position();
                                return processed < 4;
                              }),
              IsOk());
  v1::SetCheckpointRequest set;
  set.set_name("labor-inbox");
  set.set_position(processed);
  ASSERT_THAT(client_->SetCheckpoint(set), IsOk());

  v1::GetCheckpointRequest get;
  get.set_name("labor-inbox");
  ASSERT_OK_AND_ASSIGN(auto cp, client_->GetCheckpoint(get));
  std::vector<uint64_t> rest;
  ASSERT_THAT(client_->Follow(cp.checkpoint().position() + 1, {},
                              [&](const v1::Event& e) {
                                rest.push_back(e.global_position());
                                return e.global_position() < 6;
                              }),
              IsOk());
  EXPECT_EQ(rest, (std::vector<uint64_t>{5, 6}));

  set.set_position(999);
  EXPECT_THAT(client_->SetCheckpoint(set), HasReason("INVALID_FIELD"));
  get.set_name("never-set");
  EXPECT_THAT(client_->GetCheckpoint(get), HasReason("CHECKPOINT_NOT_FOUND"));
}

TEST_F(CaseLogGrpc, SubscribeWithABadFilterIsInvalidArgument) {
  v1::EventFilter filter;
  filter.set_event_type("referral.v1.NoSuchEvent");
  absl::Status s = client_->Follow(1, filter, [](const v1::Event&) { return true; });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaseLogGrpc, CancelledStreamsDoNotHoldUpShutdown) {
  // Open streams that are waiting live, then cancel half and shut down with
  // the rest still open: the server must finish every reactor.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>>> readers;
  auto stub = v1::CaseLogService::NewStub(
      grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 6; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stub->Subscribe(contexts.back().get(), {}));
    v1::SubscribeResponse m;
    ASSERT_TRUE(readers.back()->Read(&m));
    EXPECT_TRUE(m.has_caught_up());
  }
  for (int i = 0; i < 3; ++i) contexts[i]->TryCancel();
  absl::Time start = absl::Now();
  server_.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  for (auto& r : readers) {
    v1::SubscribeResponse m;
    while (r->Read(&m)) {
    }
    EXPECT_FALSE(r->Finish().ok());
  }
}

TEST_F(CaseLogGrpc, ConcurrentClientsAppendEveryEventExactlyOnce) {
  constexpr int kClients = 32, kEach = 20;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = server_.Client();
      for (int i = 0; i < kEach; ++i) {
        std::string case_id = "case-" + std::to_string(c % 4);
        ASSERT_THAT(client->Append(Notes(case_id, "c" + std::to_string(c) + "-" +
                                                       std::to_string(i))),
                    IsOk());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(LastPosition(), uint64_t{kClients * kEach});
  for (int k = 0; k < 4; ++k) {
    v1::VerifyCaseRequest req;
    req.set_case_id("case-" + std::to_string(k));
    ASSERT_OK_AND_ASSIGN(auto v, client_->VerifyCase(req));
    EXPECT_TRUE(v.intact()) << v.problem();
    EXPECT_EQ(v.events_checked(), uint64_t{kClients / 4 * kEach});
  }
}

}  // namespace
}  // namespace referral
