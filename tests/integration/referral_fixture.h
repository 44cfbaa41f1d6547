// The three services in one process on loopback ports — caselog over a real
// store on disk, the default directory, and the referral broker talking to
// both over gRPC — in plaintext (nodes named by metadata) or mTLS (nodes
// named by certificates made with tools/pki.sh). Each can be stopped and
// started again on the same port and data.

#ifndef REFERRAL_TESTS_INTEGRATION_REFERRAL_FIXTURE_H_
#define REFERRAL_TESTS_INTEGRATION_REFERRAL_FIXTURE_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cpp/caselog_client.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/caselog/caselog_grpc_service.h"
#include "services/directory/directory_grpc_service.h"
#include "services/referral/grpc_ports.h"
#include "services/referral/referral_grpc_service.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"
#include "tests/integration/caselog_fixture.h"

namespace referral::testing {

class ReferralSystem {
 public:
  // With `pki_dir`, every service speaks mTLS with the certificates there.
  // `options` configure the broker (investigators, auditors, search key).
  explicit ReferralSystem(std::optional<std::string> pki_dir = std::nullopt,
                          broker::BrokerOptions options = {})
      : dir_(FreshDir("referral_system")),
        pki_(std::move(pki_dir)),
        broker_options_(std::move(options)) {
    auto d = directory::Directory::LoadFile(QINZHOU_TOML);
    EXPECT_TRUE(d.ok()) << d.status();
    directory_ = std::make_unique<directory::Directory>(std::move(*d));
    StartCaselog();
    StartDirectory();
    StartReferral();
  }
  ~ReferralSystem() {
    StopReferral();
    StopCaselog();
    if (directory_host_) directory_host_->Shutdown(absl::ZeroDuration());
    std::filesystem::remove_all(dir_);
  }

  std::optional<TlsFiles> TlsFor(const std::string& identity) const {
    if (!pki_) return std::nullopt;
    return TlsFiles{*pki_ + "/ca.pem", *pki_ + "/" + identity + ".pem",
                    *pki_ + "/" + identity + ".key"};
  }

  void StartCaselog() {
    storage::EventStoreOptions o;
    o.path = (dir_ / "caselog").string();
    auto store = storage::EventStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    caselog_core_.Attach(std::move(*store));
    caselog_host_ = Host(&caselog_service_, "caselog", caselog_port_);
    caselog_port_ = caselog_host_->port();
  }
  void StopCaselog() {
    if (caselog_host_) caselog_host_->Shutdown(absl::ZeroDuration());
    caselog_host_.reset();
    caselog_core_.Detach().reset();
  }
  void StartDirectory() {
    directory_service_ = std::make_unique<directory::DirectoryGrpcService>(directory_.get());
    directory_host_ = Host(directory_service_.get(), "directory", 0);
  }
  void StartReferral() {
    auto creds = ChannelCredentialsFor(TlsFor("referral"));
    ASSERT_TRUE(creds.ok()) << creds.status();
    caselog_channel_ = grpc::CreateChannel(Address(caselog_port_), *creds);
    caselog_client_ = std::make_unique<client::CaseLogClient>(caselog_channel_,
                                                             client::ClientOptions{});
    remote_log_ = std::make_unique<broker::RemoteCaseLog>(caselog_client_.get());
    remote_directory_ = std::make_unique<broker::RemoteDirectory>(
        grpc::CreateChannel(directory_host_->address(), *creds));
    broker_ = std::make_unique<broker::Broker>(remote_log_.get(), remote_directory_.get(),
                                               broker_options_);
    referral_service_ =
        std::make_unique<broker::ReferralGrpcService>(broker_.get(), caselog_channel_);
    referral_host_ = Host(referral_service_.get(), "referral", referral_port_);
    referral_port_ = referral_host_->port();
  }
  void StopReferral() {
    if (referral_host_) referral_host_->Shutdown(absl::ZeroDuration());
    referral_host_.reset();
    referral_service_.reset();
    broker_.reset();
  }

  std::string referral_address() const { return Address(referral_port_); }
  std::string caselog_address() const { return Address(caselog_port_); }

  // A stub acting as `node`: its certificate under mTLS, metadata otherwise.
  std::unique_ptr<v1::ReferralService::Stub> StubFor(const std::string& node) const {
    auto creds = ChannelCredentialsFor(TlsFor(node));
    EXPECT_TRUE(creds.ok()) << creds.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return v1::ReferralService::NewStub(
        grpc::CreateCustomChannel(referral_address(), *creds, args));
  }
  // A client context for `node` with a deadline.
  std::unique_ptr<grpc::ClientContext> ContextFor(const std::string& node) const {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (!pki_) ActAs(c.get(), node);
    return c;
  }

 private:
  static std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }
  std::unique_ptr<ServiceHost> Host(grpc::Service* service, const std::string& identity,
                                    int port) {
    ServiceHostOptions o;
    o.listen = Address(port);
    o.tls = TlsFor(identity);
    auto h = ServiceHost::Start(o, {service});
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) return nullptr;
    (*h)->SetServing(true);
    return std::move(*h);
  }

  std::filesystem::path dir_;
  std::optional<std::string> pki_;
  broker::BrokerOptions broker_options_;
  std::unique_ptr<directory::Directory> directory_;
  caselog::CaseLog caselog_core_;
  // Under mTLS the case log admits the broker only, as deployed.
  caselog::CaseLogGrpcService caselog_service_{
      &caselog_core_,
      pki_ ? std::vector<std::string>{"referral"} : std::vector<std::string>{}};
  std::unique_ptr<ServiceHost> caselog_host_;
  int caselog_port_ = 0;
  std::unique_ptr<directory::DirectoryGrpcService> directory_service_;
  std::unique_ptr<ServiceHost> directory_host_;
  std::shared_ptr<grpc::Channel> caselog_channel_;
  std::unique_ptr<client::CaseLogClient> caselog_client_;
  std::unique_ptr<broker::RemoteCaseLog> remote_log_;
  std::unique_ptr<broker::RemoteDirectory> remote_directory_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<broker::ReferralGrpcService> referral_service_;
  std::unique_ptr<ServiceHost> referral_host_;
  int referral_port_ = 0;
};

}  // namespace referral::testing

#endif  // REFERRAL_TESTS_INTEGRATION_REFERRAL_FIXTURE_H_
