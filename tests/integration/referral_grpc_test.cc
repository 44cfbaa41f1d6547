// ReferralService end to end over real gRPC: the broker in front of the
// caselog and directory services on loopback, plaintext and with mTLS.

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/runtime/grpc_status.h"
#include "tests/integration/referral_fixture.h"
#include "tests/integration/run_command.h"

namespace referral {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::ReferralSystem;
using ::referral::testing::StatusIs;
using ::referral::testing::IsOk;
using ::testing::HasSubstr;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kLabor[] = "qinzhou.labor-inspection";
constexpr char kOutsider[] = "qinzhou.procuratorate";

// Calls `Method` on `system` as `node`.
#define CALL(system, node, Method, request, response)                  \
  FromGrpcStatus((system).StubFor(node)->Method(                       \
      (system).ContextFor(node).get(), (request), (response)))

std::string OpenCase(ReferralSystem& s, const std::string& request_id) {
  v1::OpenCaseRequest req;
  req.set_request_id(request_id);
  req.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
  req.set_title("23 workers owed wages");
  req.set_matter(v1::MATTER_WAGE_ARREARS);
  req.set_green_channel(true);
  v1::OpenCaseResponse resp;
  absl::Status st = CALL(s, kJustice, OpenCase, req, &resp);
  EXPECT_TRUE(st.ok()) << st;
  return resp.case_().case_id();
}

std::string Send(ReferralSystem& s, const std::string& case_id, const std::string& rid) {
  v1::SendReferralRequest req;
  req.set_request_id(rid);
  req.set_case_id(case_id);
  req.set_to_node(kLabor);
  req.set_purpose("order the contractor to pay");
  v1::SendReferralResponse resp;
  absl::Status st = CALL(s, kJustice, SendReferral, req, &resp);
  EXPECT_TRUE(st.ok()) << st;
  return resp.referral().referral_id();
}

void ClosedLoop(ReferralSystem& s) {
  std::string case_id = OpenCase(s, "open-1");
  ASSERT_FALSE(case_id.empty());
  std::string id = Send(s, case_id, "send-1");

  v1::AcceptReferralRequest accept;
  accept.set_request_id("accept-1");
  accept.set_referral_id(id);
  v1::AcceptReferralResponse accepted;
  // The sender may not accept its own referral; the message names the state.
  absl::Status refused = CALL(s, kJustice, AcceptReferral, accept, &accepted);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(refused, HasReason("NOT_ALLOWED_FOR_ROLE"));
  EXPECT_EQ(ViewError(refused).metadata["state"], "REQUESTED");
  // A node that is not party to the case sees nothing of it.
  v1::GetCaseRequest get;
  get.set_case_id(case_id);
  v1::GetCaseResponse got;
  EXPECT_THAT(CALL(s, kOutsider, GetCase, get, &got), HasReason("NOT_A_PARTY"));

  ASSERT_TRUE(CALL(s, kLabor, AcceptReferral, accept, &accepted).ok());
  EXPECT_EQ(accepted.referral().state(), v1::REFERRAL_STATE_ACCEPTED);
  v1::StartReferralRequest start;
  start.set_request_id("start-1");
  start.set_referral_id(id);
  v1::StartReferralResponse started;
  ASSERT_TRUE(CALL(s, kLabor, StartReferral, start, &started).ok());
  v1::CompleteReferralRequest complete;
  complete.set_request_id("complete-1");
  complete.set_referral_id(id);
  complete.set_outcome(v1::OUTCOME_WAGES_RECOVERED);
  complete.set_amount_recovered_fen(46000000);
  v1::CompleteReferralResponse completed;
  ASSERT_TRUE(CALL(s, kLabor, CompleteReferral, complete, &completed).ok());

  v1::GetReferralRequest look;
  look.set_referral_id(id);
  v1::GetReferralResponse seen;
  ASSERT_TRUE(CALL(s, kJustice, GetReferral, look, &seen).ok());
  EXPECT_EQ(seen.referral().state(), v1::REFERRAL_STATE_COMPLETED);
  EXPECT_EQ(seen.referral().amount_recovered_fen(), 46000000);

  // A retried command returns its first answer.
  ASSERT_TRUE(CALL(s, kLabor, AcceptReferral, accept, &accepted).ok());
  EXPECT_EQ(accepted.referral().state(), v1::REFERRAL_STATE_ACCEPTED);

  v1::TraceCaseRequest trace;
  trace.set_case_id(case_id);
  v1::TraceCaseResponse traced;
  ASSERT_TRUE(CALL(s, kJustice, TraceCase, trace, &traced).ok());
  // opened, requested with its acceptance deadline, accepted meeting it,
  // started, completed
  EXPECT_EQ(traced.events_size(), 7);
}

TEST(ReferralGrpc, ClosedLoopInPlaintextWithNodesFromMetadata) {
  ReferralSystem s;
  ClosedLoop(s);
}

TEST(ReferralGrpc, PlaintextCallWithoutANodeIsUnauthenticated) {
  ReferralSystem s;
  grpc::ClientContext context;
  v1::ListCasesRequest req;
  v1::ListCasesResponse resp;
  absl::Status st = FromGrpcStatus(s.StubFor(kJustice)->ListCases(&context, req, &resp));
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kUnauthenticated));
}

class ReferralMtls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new std::string(absl::StrCat(::testing::TempDir(), "/referral_pki_", getpid()));
    auto [code, out] = ::referral::testing::RunCommand(
        absl::StrCat(PKI_SCRIPT, " ", *pki_, " caselog directory referral ", kJustice, " ",
                     kLabor, " ", kOutsider));
    ASSERT_EQ(code, 0) << out;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*pki_);
    delete pki_;
  }
  static std::string* pki_;
};
std::string* ReferralMtls::pki_ = nullptr;

TEST_F(ReferralMtls, ClosedLoopWithNodesFromCertificates) {
  ReferralSystem s(*pki_);
  ClosedLoop(s);
}

TEST_F(ReferralMtls, MetadataCannotOverrideTheCertificate) {
  ReferralSystem s(*pki_);
  std::string case_id = OpenCase(s, "open-1");
  std::string id = Send(s, case_id, "send-1");
  // Labour inspection's certificate, claiming to be the justice bureau.
  auto context = s.ContextFor(kLabor);
  ActAs(context.get(), kJustice);
  v1::CancelReferralRequest cancel;
  cancel.set_request_id("cancel-1");
  cancel.set_referral_id(id);
  v1::CancelReferralResponse resp;
  absl::Status st =
      FromGrpcStatus(s.StubFor(kLabor)->CancelReferral(context.get(), cancel, &resp));
  EXPECT_THAT(st, HasReason("NOT_ALLOWED_FOR_ROLE"));
}

TEST_F(ReferralMtls, TheCaseLogServesTheBrokerButNoAgency) {
  ReferralSystem s(*pki_);
  std::string case_id = OpenCase(s, "open-1");  // through the broker: admitted
  auto stub_as = [&](const std::string& identity) {
    auto creds = ChannelCredentialsFor(s.TlsFor(identity));
    EXPECT_TRUE(creds.ok()) << creds.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return v1::CaseLogService::NewStub(
        grpc::CreateCustomChannel(s.caselog_address(), *creds, args));
  };
  auto deadline = [] { return absl::ToChronoTime(absl::Now() + absl::Seconds(10)); };
  v1::ReadCaseRequest read;
  read.set_case_id(case_id);

  // An agency's own certificate: refused, reads and writes alike.
  auto agency = stub_as(kJustice);
  {
    grpc::ClientContext c;
    c.set_deadline(deadline());
    v1::ReadCaseResponse r;
    absl::Status st = FromGrpcStatus(agency->ReadCase(&c, read, &r));
    EXPECT_THAT(st, HasReason("NOT_ALLOWED_FOR_ROLE"));
    EXPECT_THAT(std::string(st.message()), HasSubstr("through the referral service"));
  }
  {
    grpc::ClientContext c;
    c.set_deadline(deadline());
    v1::AppendRequest forged;
    forged.set_case_id(case_id);
    v1::Event* e = forged.add_events();
    e->set_event_id("forged-1");
    e->set_source(kJustice);
    e->mutable_case_note_recorded()->set_note("backdated");
    v1::AppendResponse r;
    EXPECT_THAT(FromGrpcStatus(agency->Append(&c, forged, &r)),
                HasReason("NOT_ALLOWED_FOR_ROLE"));
  }
  {
    grpc::ClientContext c;
    c.set_deadline(deadline());
    auto reader = agency->Subscribe(&c, v1::SubscribeRequest());
    v1::SubscribeResponse m;
    EXPECT_FALSE(reader->Read(&m));
    EXPECT_THAT(FromGrpcStatus(reader->Finish()), HasReason("NOT_ALLOWED_FOR_ROLE"));
  }
  // The broker's certificate reads it, and the forged note is not there.
  auto broker = stub_as("referral");
  grpc::ClientContext c;
  c.set_deadline(deadline());
  v1::ReadCaseResponse r;
  ASSERT_THAT(FromGrpcStatus(broker->ReadCase(&c, read, &r)), IsOk());
  for (const v1::Event& e : r.events()) EXPECT_NE(e.event_id(), "forged-1");
  EXPECT_GT(r.events_size(), 0);
}

TEST(ReferralGrpc, InboxDeliversCatchUpThenLiveAndAckAdvancesTheCursor) {
  ReferralSystem s;
  std::string case_id = OpenCase(s, "open-1");
  std::string first = Send(s, case_id, "send-1");

  auto context = s.ContextFor(kLabor);
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto stub = s.StubFor(kLabor);
  auto reader = stub->StreamInbox(context.get(), v1::StreamInboxRequest());
  v1::StreamInboxResponse m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_item());
  EXPECT_EQ(m.item().referral_id(), first);
  EXPECT_EQ(m.item().state(), v1::REFERRAL_STATE_REQUESTED);
  ASSERT_TRUE(reader->Read(&m));
  EXPECT_TRUE(m.has_caught_up());

  std::string second = Send(s, case_id, "send-2");  // live
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_item());
  EXPECT_EQ(m.item().referral_id(), second);

  v1::AckInboxRequest ack;
  ack.set_position(m.item().event().global_position());
  v1::AckInboxResponse acked;
  ASSERT_TRUE(CALL(s, kLabor, AckInbox, ack, &acked).ok());
  v1::GetBacklogResponse backlog;
  ASSERT_TRUE(CALL(s, kLabor, GetBacklog, v1::GetBacklogRequest(), &backlog).ok());
  EXPECT_EQ(backlog.unacknowledged(), 0u);
  EXPECT_EQ(backlog.cursor(), ack.position());
  context->TryCancel();
}

}  // namespace
}  // namespace referral
