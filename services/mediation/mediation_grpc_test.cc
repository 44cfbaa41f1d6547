// MediationService end to end over real gRPC: the caselog, directory,
// referral and mediation services on loopback ports in one process, the
// mediation service reaching the case log and the directory over gRPC as in
// production. Plaintext (nodes named by metadata) and mTLS (nodes named by
// certificates made with tools/pki.sh).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cpp/caselog_client.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/caselog/caselog_grpc_service.h"
#include "services/deadlines/calendar.h"
#include "services/directory/directory_grpc_service.h"
#include "services/mediation/mediation_grpc_service.h"
#include "services/referral/grpc_ports.h"
#include "services/referral/referral_grpc_service.h"
#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"
#include "tests/integration/caselog_fixture.h"
#include "tests/integration/run_command.h"

namespace referral {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;
using ::testing::SizeIs;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kLabor[] = "qinzhou.labor-inspection";
constexpr char kArbitration[] = "qinzhou.arbitration";
constexpr char kOutsider[] = "qinzhou.procuratorate";
constexpr char kContractor[] = "秦州建工集团";

std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }

// The four services, each behind its own ServiceHost.
class MediationSystem {
 public:
  explicit MediationSystem(std::optional<std::string> pki = std::nullopt)
      : dir_(testing::FreshDir("mediation_system")), pki_(std::move(pki)) {
    auto d = directory::Directory::LoadFile(QINZHOU_TOML);
    EXPECT_TRUE(d.ok()) << d.status();
    directory_ = std::make_unique<directory::Directory>(std::move(*d));

    storage::EventStoreOptions o;
    o.path = (dir_ / "caselog").string();
    auto store = storage::EventStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status();
    caselog_core_.Attach(std::move(*store));
    caselog_host_ = Host(&caselog_service_, "caselog");
    directory_service_ = std::make_unique<directory::DirectoryGrpcService>(directory_.get());
    directory_host_ = Host(directory_service_.get(), "directory");

    referral_ = Backend("referral");
    broker_ = std::make_unique<broker::Broker>(referral_->log(), referral_->directory());
    referral_service_ = std::make_unique<broker::ReferralGrpcService>(
        broker_.get(), referral_->caselog_channel());
    referral_host_ = Host(referral_service_.get(), "referral");

    mediation_backend_ = Backend("mediation");
    mediation_ = std::make_unique<mediation::Mediation>(
        mediation_backend_->log(), mediation_backend_->directory(), &calendar_);
    mediation_service_ = std::make_unique<mediation::MediationGrpcService>(mediation_.get());
    mediation_host_ = Host(mediation_service_.get(), "mediation");
  }
  ~MediationSystem() {
    for (auto* h : {&mediation_host_, &referral_host_, &directory_host_, &caselog_host_}) {
      if (*h) (*h)->Shutdown(absl::ZeroDuration());
    }
    caselog_core_.Detach().reset();
    std::filesystem::remove_all(dir_);
  }

  std::optional<TlsFiles> TlsFor(const std::string& identity) const {
    if (!pki_) return std::nullopt;
    return TlsFiles{*pki_ + "/ca.pem", *pki_ + "/" + identity + ".pem",
                    *pki_ + "/" + identity + ".key"};
  }

  std::unique_ptr<v1::MediationService::Stub> Mediation(const std::string& node) const {
    return v1::MediationService::NewStub(Channel(mediation_host_->port(), node));
  }
  std::unique_ptr<v1::ReferralService::Stub> Referral(const std::string& node) const {
    return v1::ReferralService::NewStub(Channel(referral_host_->port(), node));
  }
  // A context acting as `node`: its certificate under mTLS, metadata otherwise.
  std::unique_ptr<grpc::ClientContext> ContextFor(const std::string& node) const {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (!pki_) ActAs(c.get(), node);
    return c;
  }

 private:
  // A service's own clients of the case log and the directory, as its
  // main() wires them.
  std::unique_ptr<broker::RemotePorts> Backend(const std::string& identity) const {
    auto ports = broker::RemotePorts::Connect(Address(caselog_host_->port()),
                                              directory_host_->address(), TlsFor(identity));
    EXPECT_TRUE(ports.ok()) << ports.status();
    return ports.ok() ? std::move(*ports) : nullptr;
  }

  std::shared_ptr<grpc::Channel> Channel(int port, const std::string& node) const {
    auto creds = ChannelCredentialsFor(TlsFor(node));
    EXPECT_TRUE(creds.ok()) << creds.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(Address(port), *creds, args);
  }

  std::unique_ptr<ServiceHost> Host(grpc::Service* service, const std::string& identity) {
    ServiceHostOptions o;
    o.listen = "127.0.0.1:0";
    o.tls = TlsFor(identity);
    auto h = ServiceHost::Start(o, {service});
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) return nullptr;
    (*h)->SetServing(true);
    return std::move(*h);
  }

  std::filesystem::path dir_;
  std::optional<std::string> pki_;
  std::unique_ptr<directory::Directory> directory_;
  caselog::CaseLog caselog_core_;
  // Under mTLS the case log admits the services only, as deployed.
  caselog::CaseLogGrpcService caselog_service_{
      &caselog_core_,
      pki_ ? std::vector<std::string>{"referral", "mediation"} : std::vector<std::string>{}};
  std::unique_ptr<ServiceHost> caselog_host_;
  std::unique_ptr<directory::DirectoryGrpcService> directory_service_;
  std::unique_ptr<ServiceHost> directory_host_;
  std::unique_ptr<broker::RemotePorts> referral_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<broker::ReferralGrpcService> referral_service_;
  std::unique_ptr<ServiceHost> referral_host_;
  deadlines::Calendar calendar_;
  std::unique_ptr<broker::RemotePorts> mediation_backend_;
  std::unique_ptr<mediation::Mediation> mediation_;
  std::unique_ptr<mediation::MediationGrpcService> mediation_service_;
  std::unique_ptr<ServiceHost> mediation_host_;
};

// Calls MediationService `Method` as `node`.
#define MEDIATE(system, node, Method, request, response)              \
  FromGrpcStatus((system).Mediation(node)->Method(                    \
      (system).ContextFor(node).get(), (request), (response)))

google::protobuf::Timestamp In(absl::Duration d) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now() + d));
}

v1::MeetingSlot SlotIn(absl::Duration from_now) {
  v1::MeetingSlot s;
  *s.mutable_start_time() = In(from_now);
  *s.mutable_end_time() = In(from_now + absl::Hours(2));
  s.set_place("秦州区司法局三楼调解室");
  return s;
}

std::string OpenCase(MediationSystem& s, const std::string& request_id) {
  v1::OpenCaseRequest req;
  req.set_request_id(request_id);
  req.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
  req.set_title("23 workers owed wages");
  req.set_matter(v1::MATTER_WAGE_ARREARS);
  v1::OpenCaseResponse resp;
  absl::Status st = FromGrpcStatus(
      s.Referral(kJustice)->OpenCase(s.ContextFor(kJustice).get(), req, &resp));
  EXPECT_THAT(st, IsOk());
  return resp.case_().case_id();
}

v1::ConveneMeetingRequest ConveneRequest(const std::string& case_id,
                                         const std::string& request_id,
                                         const v1::MeetingSlot& slot) {
  v1::ConveneMeetingRequest r;
  r.set_request_id(request_id);
  r.set_case_id(case_id);
  r.set_kind(v1::MEETING_KIND_MEDIATION);
  r.set_title("欠薪调解");
  *r.mutable_slot() = slot;
  r.add_invitees()->set_node(kLabor);
  v1::Party* p = r.add_invitees()->mutable_party();
  p->set_role(v1::PARTY_ROLE_GENERAL_CONTRACTOR);
  p->set_name(kContractor);
  return r;
}

// Convene, answer, hold, agree and pay, each by the node whose step it is.
void MediationToPayment(MediationSystem& s) {
  const std::string case_id = OpenCase(s, "open-1");
  ASSERT_FALSE(case_id.empty());
  v1::ConveneMeetingResponse convened;
  ASSERT_THAT(MEDIATE(s, kJustice, ConveneMeeting,
                      ConveneRequest(case_id, "convene-1", SlotIn(absl::Hours(48))),
                      &convened),
              IsOk());
  const std::string m = convened.meeting().meeting_id();
  EXPECT_EQ(m, case_id + "/m1");

  // Labour inspection answers for itself: the caller comes from the call.
  v1::AnswerInvitationRequest answer;
  answer.set_request_id("answer-1");
  answer.set_meeting_id(m);
  answer.set_response(v1::INVITATION_RESPONSE_ACCEPTED);
  v1::AnswerInvitationResponse answered;
  ASSERT_THAT(MEDIATE(s, kLabor, AnswerInvitation, answer, &answered), IsOk());
  EXPECT_EQ(answered.meeting().invitees(0).response(), v1::INVITATION_RESPONSE_ACCEPTED);
  // The same request from the convener is another command: refused.
  answer.set_request_id("answer-2");
  v1::AnswerInvitationResponse refused;
  EXPECT_THAT(MEDIATE(s, kJustice, AnswerInvitation, answer, &refused),
              HasReason("NOT_ALLOWED_FOR_ROLE"));

  v1::RecordMeetingHeldRequest held;
  held.set_request_id("held-1");
  held.set_meeting_id(m);
  held.add_attended("i1");
  held.add_attended("i2");
  v1::RecordMeetingHeldResponse held_resp;
  ASSERT_THAT(MEDIATE(s, kJustice, RecordMeetingHeld, held, &held_resp), IsOk());

  v1::RecordAgreementRequest agree;
  agree.set_request_id("agree-1");
  agree.set_meeting_id(m);
  v1::Agreement* a = agree.mutable_agreement();
  a->set_terms("两期清偿");
  a->set_total_fen(1200000);
  a->set_fallback_node(kArbitration);
  for (int n = 1; n <= 2; ++n) {
    v1::Instalment* i = a->add_instalments();
    i->set_number(n);
    i->set_amount_fen(600000);
    *i->mutable_due_time() = In(absl::Hours(24 * 10 * n));
    i->set_payer(kContractor);
  }
  v1::RecordAgreementResponse agreed;
  ASSERT_THAT(MEDIATE(s, kJustice, RecordAgreement, agree, &agreed), IsOk());

  v1::RecordPaymentRequest pay;
  pay.set_request_id("pay-1");
  pay.set_meeting_id(m);
  pay.set_instalment(1);
  pay.set_amount_fen(600000);
  pay.set_reference("bank-001");
  v1::RecordPaymentResponse paid;
  ASSERT_THAT(MEDIATE(s, kJustice, RecordPayment, pay, &paid), IsOk());
  // A retry over the wire: the first answer, counted once.
  v1::RecordPaymentResponse again;
  ASSERT_THAT(MEDIATE(s, kJustice, RecordPayment, pay, &again), IsOk());
  EXPECT_EQ(again.meeting().agreement().instalments(0).paid_fen(), 600000);

  // Arbitration, the fallback, is party now and sees the meeting.
  v1::GetMeetingRequest get;
  get.set_meeting_id(m);
  v1::GetMeetingResponse got;
  ASSERT_THAT(MEDIATE(s, kArbitration, GetMeeting, get, &got), IsOk());
  EXPECT_EQ(got.meeting().agreement().instalments(0).state(), v1::INSTALMENT_STATE_PAID);
  EXPECT_EQ(got.meeting().agreement().instalments(1).state(), v1::INSTALMENT_STATE_DUE);
  EXPECT_EQ(got.meeting().state(), v1::MEETING_STATE_HELD);
}

TEST(MediationGrpc, MediationFromConveningToPaymentInPlaintext) {
  MediationSystem s;
  MediationToPayment(s);
}

TEST(MediationGrpc, OverlapWarningsAndErrorsReachTheClient) {
  MediationSystem s;
  const std::string a = OpenCase(s, "open-a");
  const std::string b = OpenCase(s, "open-b");
  v1::ConveneMeetingResponse first, second;
  ASSERT_THAT(MEDIATE(s, kJustice, ConveneMeeting,
                      ConveneRequest(a, "convene-a", SlotIn(absl::Hours(48))), &first),
              IsOk());
  ASSERT_THAT(MEDIATE(s, kJustice, ConveneMeeting,
                      ConveneRequest(b, "convene-b", SlotIn(absl::Hours(49))), &second),
              IsOk());
  ASSERT_THAT(second.conflicts(), SizeIs(1));
  EXPECT_EQ(second.conflicts(0).node(), kLabor);
  EXPECT_EQ(second.conflicts(0).other_meeting_id(), first.meeting().meeting_id());

  // Bad input: INVALID_ARGUMENT naming the field, in both languages.
  v1::ConveneMeetingRequest bad = ConveneRequest(a, "convene-bad", SlotIn(absl::Hours(72)));
  bad.mutable_slot()->clear_place();
  v1::ConveneMeetingResponse none;
  absl::Status st = MEDIATE(s, kJustice, ConveneMeeting, bad, &none);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ViewError(st).field, "slot.place");
  EXPECT_FALSE(ViewError(st).zh_message.empty());

  EXPECT_THAT(MEDIATE(s, kOutsider, ConveneMeeting,
                      ConveneRequest(a, "convene-x", SlotIn(absl::Hours(72))), &none),
              StatusIs(absl::StatusCode::kPermissionDenied));

  // Labour inspection lists its own meetings, by start time.
  v1::ListMeetingsResponse list;
  ASSERT_THAT(MEDIATE(s, kLabor, ListMeetings, v1::ListMeetingsRequest(), &list), IsOk());
  ASSERT_THAT(list.meetings(), SizeIs(2));
  EXPECT_EQ(list.meetings(0).meeting_id(), first.meeting().meeting_id());

  // A plaintext call that names no node is not served.
  grpc::ClientContext anonymous;
  EXPECT_THAT(FromGrpcStatus(s.Mediation(kJustice)->ListMeetings(
                  &anonymous, v1::ListMeetingsRequest(), &list)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(MediationGrpc, AnInviteesContactIsMaskedInInboxesAndForPartiesNotWorkingTheCase) {
  MediationSystem s;
  const std::string case_id = OpenCase(s, "open-1");
  v1::ConveneMeetingResponse convened;
  ASSERT_THAT(MEDIATE(s, kJustice, ConveneMeeting,
                      ConveneRequest(case_id, "convene-1", SlotIn(absl::Hours(48))),
                      &convened),
              IsOk());
  const std::string m = convened.meeting().meeting_id();
  // The worker, with a telephone number: labour inspection, invited
  // already, hears of it in its inbox.
  v1::InviteParticipantsRequest invite;
  invite.set_request_id("invite-1");
  invite.set_meeting_id(m);
  v1::Party* worker = invite.add_invitees()->mutable_party();
  worker->set_role(v1::PARTY_ROLE_WORKER);
  worker->set_name("张三");
  worker->set_contact("13912345678");
  v1::InviteParticipantsResponse invited;
  ASSERT_THAT(MEDIATE(s, kJustice, InviteParticipants, invite, &invited), IsOk());
  EXPECT_EQ(invited.meeting().invitees(2).party().contact(), "13912345678");

  auto context = s.ContextFor(kLabor);
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto reader = s.Referral(kLabor)->StreamInbox(context.get(), v1::StreamInboxRequest());
  v1::StreamInboxResponse message;
  int invitations = 0;
  while (reader->Read(&message) && !message.has_caught_up()) {
    const v1::Event& e = message.item().event();
    if (!e.has_meeting_participant_invited() ||
        !e.meeting_participant_invited().invitee().has_party()) {
      continue;
    }
    ++invitations;
    EXPECT_EQ(e.meeting_participant_invited().invitee().party().contact(), "139****5678");
  }
  EXPECT_EQ(invitations, 1);
  context->TryCancel();

  // Labour inspection, invited but not working the case, reads it masked;
  // the owner, in clear: masking, not missing data.
  v1::GetMeetingRequest get;
  get.set_meeting_id(m);
  v1::GetMeetingResponse got;
  ASSERT_THAT(MEDIATE(s, kLabor, GetMeeting, get, &got), IsOk());
  EXPECT_EQ(got.meeting().invitees(2).party().contact(), "139****5678");
  ASSERT_THAT(MEDIATE(s, kJustice, GetMeeting, get, &got), IsOk());
  EXPECT_EQ(got.meeting().invitees(2).party().contact(), "13912345678");
}

class MediationMtls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new std::string(
        absl::StrCat(::testing::TempDir(), "/mediation_pki_", getpid()));
    auto [code, out] = testing::RunCommand(absl::StrCat(
        PKI_SCRIPT, " ", *pki_, " caselog directory referral mediation ", kJustice,
        " ", kLabor, " ", kArbitration));
    ASSERT_EQ(code, 0) << out;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*pki_);
    delete pki_;
  }
  static std::string* pki_;
};
std::string* MediationMtls::pki_ = nullptr;

TEST_F(MediationMtls, MediationWithNodesFromCertificates) {
  MediationSystem s(*pki_);
  MediationToPayment(s);
}

}  // namespace
}  // namespace referral
