// Who calls: real servers on 127.0.0.1:0 (through ServiceHost), real
// certificates made by tools/pki.sh in a temporary directory.

#include "services/runtime/identity.h"

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/codegen/proto_utils.h"  // protobuf SerializationTraits (1.51 path)
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/support/method_handler.h"
#include "gtest/gtest.h"
#include "services/runtime/grpc_status.h"
#include "services/runtime/service_host.h"

namespace referral {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::referral::testing::HasReason;
using ::referral::testing::StatusIs;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kPetition[] = "qinzhou.petition";
constexpr char kServer[] = "caselog";

// "/referral.test.Whoami/Check": answers with the caller CallerOf() sees, in
// trailing metadata. Written by hand (with the health messages) rather than
// as a grpc.health.v1 implementation because ServiceHost already serves
// gRPC's default health service, and a second registration of that name
// makes the server fail to start.
constexpr char kWhoamiMethod[] = "/referral.test.Whoami/Check";
constexpr char kCallerNodeKey[] = "x-test-caller-node";
constexpr char kCallerFromCertificateKey[] = "x-test-caller-from-certificate";

class WhoamiService : public grpc::Service {
 public:
  WhoamiService() {
    AddMethod(new grpc::internal::RpcServiceMethod(
        kWhoamiMethod, grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<WhoamiService, HealthCheckRequest,
                                             HealthCheckResponse>(
            [](WhoamiService* service, grpc::ServerContext* context,
               const HealthCheckRequest*, HealthCheckResponse* response) {
              return service->Check(context, response);
            },
            this)));
  }

  // How many calls reached the handler (a refused handshake never does).
  int calls() const { return calls_.load(); }

 private:
  grpc::Status Check(grpc::ServerContext* context, HealthCheckResponse* response) {
    ++calls_;
    absl::StatusOr<Caller> caller = CallerOf(*context);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    context->AddTrailingMetadata(kCallerNodeKey, caller->node);
    context->AddTrailingMetadata(kCallerFromCertificateKey,
                                 caller->from_certificate ? "true" : "false");
    response->set_status(HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }

  std::atomic<int> calls_{0};
};

// What a client learns from one call.
struct Answer {
  absl::Status status;  // FromGrpcStatus of the call's status
  std::string node;
  std::string from_certificate;
};

Answer Whoami(const std::shared_ptr<grpc::Channel>& channel,
              const std::vector<std::string>& act_as = {}) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  for (const auto& node : act_as) ActAs(&context, node);
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::Status status = grpc::internal::BlockingUnaryCall<HealthCheckRequest, HealthCheckResponse>(
      channel.get(),
      grpc::internal::RpcMethod(kWhoamiMethod, grpc::internal::RpcMethod::NORMAL_RPC),
      &context, request, &response);
  Answer answer{FromGrpcStatus(status), "", ""};
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find(kCallerNodeKey); it != trailers.end()) {
    answer.node = std::string(it->second.data(), it->second.size());
  }
  if (auto it = trailers.find(kCallerFromCertificateKey); it != trailers.end()) {
    answer.from_certificate = std::string(it->second.data(), it->second.size());
  }
  return answer;
}

std::string Quote(const std::string& s) { return absl::StrCat("'", s, "'"); }

// Runs `command` under sh; returns its exit code and its output (both streams).
std::pair<int, std::string> RunShell(const std::string& command) {
  std::string output;
  FILE* pipe = popen(absl::StrCat(command, " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::pair<int, std::string> RunPki(const std::string& dir, const std::string& ids = "") {
  return RunShell(absl::StrCat(Quote(PKI_SCRIPT), " ", Quote(dir), " ", ids));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string FreshDir(const std::string& name) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/identity_test_", name, "_", getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

TlsFiles Identity(const std::string& dir, const std::string& id) {
  return TlsFiles{dir + "/ca.pem", dir + "/" + id + ".pem", dir + "/" + id + ".key"};
}

// Certificates shared by the suite: `pki_` (the deployment's CA) and
// `foreign_` (another CA issuing the same names).
class IdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new std::string(FreshDir("pki"));
    foreign_ = new std::string(FreshDir("foreign"));
    auto [code, out] = RunPki(*pki_, absl::StrCat(kServer, " ", kJustice, " ", kPetition));
    ASSERT_EQ(code, 0) << out;
    std::tie(code, out) = RunPki(*foreign_, absl::StrCat(kServer, " ", kJustice));
    ASSERT_EQ(code, 0) << out;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*pki_);
    std::filesystem::remove_all(*foreign_);
    delete pki_;
    delete foreign_;
  }

  void StartServer(std::optional<TlsFiles> tls) {
    ServiceHostOptions options;
    options.tls = std::move(tls);
    absl::StatusOr<std::unique_ptr<ServiceHost>> host =
        ServiceHost::Start(options, {&service_});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
  }
  void StartMtlsServer() { StartServer(Identity(*pki_, kServer)); }

  std::shared_ptr<grpc::Channel> Channel(std::optional<TlsFiles> tls,
                                         const std::string& host = "127.0.0.1") {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        ChannelCredentialsFor(tls);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    if (!credentials.ok()) return nullptr;
    return grpc::CreateChannel(absl::StrCat(host, ":", host_->port()), *credentials);
  }

  // Signs a certificate for `key_name`.key with `subject` and `san` using
  // the suite's CA; returns its TlsFiles.
  TlsFiles MakeCertificate(const std::string& name, const std::string& subject,
                           const std::string& san) {
    std::string dir = *pki_;
    std::string key = absl::StrCat(dir, "/custom-", name, ".key");
    std::string pem = absl::StrCat(dir, "/custom-", name, ".pem");
    std::string ext = absl::StrCat(dir, "/custom-", name, ".ext");
    std::ofstream(ext) << "extendedKeyUsage=clientAuth\nsubjectAltName=" << san << "\n";
    auto [code, out] = RunShell(absl::StrCat(
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ", Quote(key),
        " && openssl req -new -key ", Quote(key), " -subj ", Quote(subject),
        " | openssl x509 -req -CA ", Quote(dir + "/ca.pem"), " -CAkey ",
        Quote(dir + "/ca.key"), " -set_serial 7 -days 2 -extfile ", Quote(ext), " -out ",
        Quote(pem)));
    EXPECT_EQ(code, 0) << out;
    return TlsFiles{dir + "/ca.pem", pem, key};
  }

  static std::string* pki_;
  static std::string* foreign_;
  WhoamiService service_;
  std::unique_ptr<ServiceHost> host_;
};
std::string* IdentityTest::pki_ = nullptr;
std::string* IdentityTest::foreign_ = nullptr;

// --- mTLS ------------------------------------------------------------------

TEST_F(IdentityTest, MtlsCallerIsTheCertificateAndMetadataCannotOverrideIt) {
  StartMtlsServer();
  Answer answer = Whoami(Channel(Identity(*pki_, kJustice)), {kPetition});
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_EQ(answer.node, kJustice);
  EXPECT_EQ(answer.from_certificate, "true");
}

// Negative control for the test above: the answer follows the certificate.
TEST_F(IdentityTest, MtlsEachCertificateNamesItsOwnNode) {
  StartMtlsServer();
  Answer answer = Whoami(Channel(Identity(*pki_, kPetition)));
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_EQ(answer.node, kPetition);
  // The same certificate also verifies under the name "localhost".
  answer = Whoami(Channel(Identity(*pki_, kJustice), "localhost"));
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_EQ(answer.node, kJustice);
}

TEST_F(IdentityTest, MtlsClientWithoutCertificateIsRefusedAtTheHandshake) {
  StartMtlsServer();
  grpc::SslCredentialsOptions no_client_cert;
  no_client_cert.pem_root_certs = ReadFile(*pki_ + "/ca.pem");
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                     grpc::SslCredentials(no_client_cert));
  Answer answer = Whoami(channel, {kJustice});
  EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(IdentityTest, MtlsClientCertificateFromAnotherCaIsRefused) {
  StartMtlsServer();
  // Same name, trusts the right CA, but signed by the foreign one.
  TlsFiles forged = Identity(*foreign_, kJustice);
  forged.ca_cert = *pki_ + "/ca.pem";
  Answer answer = Whoami(Channel(forged));
  EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(IdentityTest, MtlsClientRefusesAServerFromAnotherCa) {
  StartMtlsServer();
  // The client trusts only the foreign CA, so it cannot verify the server.
  Answer answer = Whoami(Channel(Identity(*foreign_, kJustice)));
  EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(IdentityTest, MtlsPlaintextClientIsRefusedWhateverItClaims) {
  StartMtlsServer();
  Answer answer = Whoami(Channel(std::nullopt), {kJustice});
  EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(IdentityTest, MtlsCertificateWithoutCommonNameIsNamedByItsFirstDnsName) {
  TlsFiles files = MakeCertificate("no-cn", "/O=Referral broker (development)",
                                   "DNS:qinzhou.union,DNS:localhost");
  StartMtlsServer();
  Answer answer = Whoami(Channel(files));
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_EQ(answer.node, "qinzhou.union");
}

TEST_F(IdentityTest, MtlsCertificateNamingNoNodeIsUnauthenticated) {
  TlsFiles files = MakeCertificate("bad-cn", "/CN=Qinzhou Justice", "DNS:localhost");
  StartMtlsServer();
  Answer answer = Whoami(Channel(files));
  EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(answer.status, HasReason("UNAUTHENTICATED"));
  EXPECT_EQ(service_.calls(), 1);  // verified at the handshake, refused by CallerOf
}

// --- plaintext (tests only) -------------------------------------------------

TEST_F(IdentityTest, PlaintextMetadataNamesTheCaller) {
  StartServer(std::nullopt);
  Answer answer = Whoami(Channel(std::nullopt), {kJustice});
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_EQ(answer.node, kJustice);
  EXPECT_EQ(answer.from_certificate, "false");
}

TEST_F(IdentityTest, PlaintextWithoutMetadataIsUnauthenticated) {
  StartServer(std::nullopt);
  Answer answer = Whoami(Channel(std::nullopt));
  EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(answer.status, HasReason("UNAUTHENTICATED"));
  EXPECT_TRUE(answer.node.empty());
}

TEST_F(IdentityTest, PlaintextMalformedNodeNameIsUnauthenticated) {
  StartServer(std::nullopt);
  for (std::string bad : std::vector<std::string>{"Qinzhou.Justice", "qinzhou justice", ".qinzhou", "qinzhou/justice",
                          "", std::string(129, 'a')}) {
    Answer answer = Whoami(Channel(std::nullopt), {bad});
    EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnauthenticated)) << bad;
    EXPECT_THAT(answer.status, HasReason("UNAUTHENTICATED")) << bad;
  }
}

TEST_F(IdentityTest, PlaintextTwoNodeNamesAreUnauthenticated) {
  StartServer(std::nullopt);
  Answer answer = Whoami(Channel(std::nullopt), {kJustice, kPetition});
  EXPECT_THAT(answer.status, StatusIs(absl::StatusCode::kUnauthenticated));
}

// --- credentials from files --------------------------------------------------

TEST_F(IdentityTest, UnreadableTlsFileIsConfigInvalidNamingTheFile) {
  TlsFiles files = Identity(*pki_, kServer);
  files.key = *pki_ + "/no-such.key";
  for (const absl::Status& status :
       {ServerCredentialsFor(files).status(), ChannelCredentialsFor(files).status()}) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(status, HasReason("CONFIG_INVALID"));
    EXPECT_NE(status.message().find(files.key), absl::string_view::npos) << status;
  }
  // ServiceHost passes the error on rather than serving plaintext.
  ServiceHostOptions options;
  options.tls = files;
  auto host = ServiceHost::Start(options, {&service_});
  EXPECT_THAT(host, HasReason("CONFIG_INVALID"));
}

TEST_F(IdentityTest, TlsFileThatIsNotPemIsConfigInvalid) {
  TlsFiles files = Identity(*pki_, kServer);
  files.ca_cert = *pki_ + "/not-pem.txt";
  std::ofstream(files.ca_cert) << "-----BEGIN CERTIFICATE-----\nqinzhou\n-----END CERTIFICATE-----\n";
  absl::Status status = ServerCredentialsFor(files).status();
  EXPECT_THAT(status, HasReason("CONFIG_INVALID"));
  EXPECT_NE(status.message().find("not-pem.txt"), absl::string_view::npos) << status;
  // A key where the certificate belongs.
  files = Identity(*pki_, kServer);
  files.cert = files.key;
  EXPECT_THAT(ServerCredentialsFor(files), HasReason("CONFIG_INVALID"));
}

TEST_F(IdentityTest, KeyOfAnotherIdentityIsConfigInvalidNotABindFailure) {
  TlsFiles files = Identity(*pki_, kServer);
  files.key = *pki_ + "/" + kJustice + ".key";
  ServiceHostOptions options;
  options.tls = files;
  auto host = ServiceHost::Start(options, {&service_});
  EXPECT_THAT(host, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(host, HasReason("CONFIG_INVALID"));
  EXPECT_NE(host.status().message().find(files.key), absl::string_view::npos) << host.status();
  EXPECT_THAT(ChannelCredentialsFor(files), HasReason("CONFIG_INVALID"));
}

TEST_F(IdentityTest, NoTlsMeansPlaintextCredentials) {
  EXPECT_TRUE(ServerCredentialsFor(std::nullopt).ok());
  EXPECT_TRUE(ChannelCredentialsFor(std::nullopt).ok());
}

// --- tools/pki.sh ------------------------------------------------------------

mode_t PermissionsOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

TEST(Pki, SecondRunChangesNothingAndKeysArePrivate) {
  std::string dir = FreshDir("idempotent");
  auto [code, out] = RunPki(dir, kJustice);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "");  // quiet on success
  std::string ca = ReadFile(dir + "/ca.pem");
  std::string cert = ReadFile(dir + "/" + kJustice + ".pem");
  ASSERT_NE(ca.find("BEGIN CERTIFICATE"), std::string::npos);

  std::tie(code, out) = RunPki(dir, kJustice);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(ReadFile(dir + "/ca.pem"), ca);
  EXPECT_EQ(ReadFile(dir + "/" + kJustice + ".pem"), cert);
  EXPECT_EQ(PermissionsOf(dir + "/ca.key"), 0600u);
  EXPECT_EQ(PermissionsOf(dir + "/" + kJustice + ".key"), 0600u);

  // Negative control: what is missing is made again (so the comparison
  // above could have failed), and the CA still stays.
  std::filesystem::remove(dir + "/" + kJustice + ".pem");
  std::tie(code, out) = RunPki(dir, kJustice);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(ReadFile(dir + "/" + kJustice + ".pem"), cert);
  EXPECT_EQ(ReadFile(dir + "/ca.pem"), ca);
  std::filesystem::remove_all(dir);
}

TEST(Pki, CertificateOfAnotherCaIsMadeAgain) {
  std::string dir = FreshDir("reissue");
  ASSERT_EQ(RunPki(dir, kJustice).first, 0);
  std::filesystem::remove(dir + "/ca.pem");
  std::filesystem::remove(dir + "/ca.key");
  auto [code, out] = RunPki(dir, kJustice);
  ASSERT_EQ(code, 0) << out;
  std::tie(code, out) = RunShell(absl::StrCat("openssl verify -CAfile ", Quote(dir + "/ca.pem"), " ",
                                         Quote(dir + "/" + kJustice + ".pem")));
  EXPECT_EQ(code, 0) << out;
  std::filesystem::remove_all(dir);
}

TEST(Pki, WithoutNamesMakesEveryDirectoryNodeAndTheServices) {
  std::string dir = FreshDir("defaults");
  auto [code, out] = RunPki(dir);
  ASSERT_EQ(code, 0) << out;
  for (std::string id : {"qinzhou.justice", "qinzhou.justice.yuquan",
                         "qinzhou.justice.yuquan.xiguan", "caselog", "directory", "referral"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + id + ".pem")) << id;
    EXPECT_EQ(PermissionsOf(dir + "/" + id + ".key"), 0600u) << id;
  }
  // Only names: no name_zh, no node called "name".
  EXPECT_FALSE(std::filesystem::exists(dir + "/name.pem"));
  std::filesystem::remove_all(dir);
}

TEST(Pki, RefusesWhatIsNotANodeName) {
  std::string dir = FreshDir("refuses");
  for (std::string bad : {"'Qinzhou Justice'", "ca", "-rf", "../escape"}) {
    auto [code, out] = RunPki(dir, bad);
    EXPECT_NE(code, 0) << bad;
    EXPECT_NE(out.find("pki.sh:"), std::string::npos) << out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/ca.pem"));
  std::filesystem::remove_all(dir);
}

TEST(ServingTls, PlaintextOnlyWhenAskedForAndOtherwiseAllThreeFiles) {
  auto plain = ServingTls("", "", "", /*plaintext=*/true);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->has_value());
  auto tls = ServingTls("ca.pem", "a.pem", "a.key", false);
  ASSERT_TRUE(tls.ok());
  ASSERT_TRUE(tls->has_value());
  EXPECT_EQ((*tls)->key, "a.key");
  auto missing = ServingTls("ca.pem", "a.pem", "", false);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViewError(missing.status()).reason, "CONFIG_INVALID");
}

}  // namespace
}  // namespace referral
