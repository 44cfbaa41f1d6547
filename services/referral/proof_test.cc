// Proof of a case's history through the broker: the case log's verdict with
// its signed head (VerifyCaseHistory), and evidence bundles
// (ExportCaseEvidence) that end at that head, go only to readers who see the
// case in clear, and are recorded as clear reads.

#include <functional>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "services/referral/forwarding_log.h"
#include "services/referral/privacy_fixture.h"
#include "storage/evidence_bundle.h"
#include "storage/signed_head.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPurpose[] = "秦检民监〔2026〕17号";

// Passes everything through, and lets a test act between the case log's
// verification and the read that follows it.
class SteppedLog final : public ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  absl::StatusOr<v1::VerifyCaseResponse> VerifyCase(absl::string_view id) override {
    ++verifications;
    if (before_verify) std::exchange(before_verify, nullptr)();
    auto verdict = ForwardingLog::VerifyCase(id);
    if (verdict.ok() && alter_verdict) alter_verdict(*verdict);
    if (after_verify) after_verify();
    return verdict;
  }

  std::function<void(v1::VerifyCaseResponse&)> alter_verdict;
  std::function<void()> before_verify;
  std::function<void()> after_verify;
  int verifications = 0;
};

class ProofTest : public PrivacyBrokerTest {
 protected:
  void SetUp() override {
    PrivacyBrokerTest::SetUp();
    signer_ = storage::HeadSigner::Generate();
    // A second case log core over the same store, with the signing key.
    signed_core_ = std::make_unique<caselog::CaseLog>(signer_);
    signed_core_->Attach(core_.store().value());
    signed_log_ = std::make_unique<LocalCaseLog>(signed_core_.get());
    stepped_ = std::make_unique<SteppedLog>(signed_log_.get());
    proof_ = std::make_unique<Broker>(stepped_.get(), local_directory_.get(), options_);
  }
  void TearDown() override {
    proof_.reset();
    signed_core_->Detach();
    PrivacyBrokerTest::TearDown();
  }

  absl::StatusOr<v1::EvidenceBundle> Export(const std::string& caller,
                                            const std::string& case_id,
                                            const std::string& purpose = "") {
    v1::ExportCaseEvidenceRequest r;
    r.set_case_id(case_id);
    r.set_purpose(purpose);
    return proof_->ExportCaseEvidence(caller, r);
  }
  absl::StatusOr<v1::VerifyCaseResponse> Verify(const std::string& caller,
                                                const std::string& case_id,
                                                const std::string& purpose = "") {
    v1::VerifyCaseHistoryRequest r;
    r.set_case_id(case_id);
    r.set_purpose(purpose);
    return proof_->VerifyCaseHistory(caller, r);
  }


  std::shared_ptr<storage::HeadSigner> signer_;
  std::unique_ptr<caselog::CaseLog> signed_core_;
  std::unique_ptr<LocalCaseLog> signed_log_;
  std::unique_ptr<SteppedLog> stepped_;
  std::unique_ptr<Broker> proof_;
};

TEST_F(ProofTest, TheOwnersBundleEndsAtTheSignedHeadAndVerifiesOfflineWithThePublishedKey) {
  std::string case_id = OpenWorkerCase();
  Send(case_id, kLabor);
  const size_t events = log_.ReadCase(case_id).value().size();

  ASSERT_OK_AND_ASSIGN(v1::EvidenceBundle bundle, Export(kJustice, case_id));
  EXPECT_EQ(bundle.events_size(), static_cast<int>(events));
  EXPECT_TRUE(bundle.verified_by_case_log());
  ASSERT_TRUE(bundle.has_signed_head());
  EXPECT_EQ(bundle.signed_head().sequence(), events);
  EXPECT_EQ(bundle.signed_head().key_id(), signer_->key_id());
  EXPECT_EQ(bundle.exported_by(), kJustice);

  storage::BundleReport r = storage::VerifyBundle(bundle, signer_->public_key());
  EXPECT_TRUE(r.intact) << r.problem;
  EXPECT_TRUE(r.head_signed);
  EXPECT_TRUE(r.signature_trusted);
  // The bundle holds the hashed bytes, so the worker's phone is in clear...
  std::vector<std::string> contacts;
  for (const v1::Party& p : r.events[0].case_opened().parties()) contacts.push_back(p.contact());
  EXPECT_THAT(contacts, ::testing::Contains(kWorkerPhone));
  // ...and the export is recorded as the clear read it is.
  EXPECT_THAT(ClearReads(case_id),
              ElementsAre("qinzhou.justice ExportCaseEvidence ACCESS_ROLE_OWNER"));
}

TEST_F(ProofTest, APartyThatSeesTheCaseMaskedCannotExportItUntilItWorksTheCase) {
  std::string case_id = OpenWorkerCase();
  std::string id = Send(case_id, kLabor);

  absl::StatusOr<v1::EvidenceBundle> refused = Export(kLabor, case_id);
  EXPECT_THAT(refused, HasReason("NOT_ALLOWED_FOR_ROLE"));
  EXPECT_THAT(Export("qinzhou.petition", case_id), HasReason("NOT_A_PARTY"));
  // Refused before the case log was asked to check and sign anything.
  EXPECT_EQ(stepped_->verifications, 0);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("only the owning node (qinzhou.justice)"));
  EXPECT_THAT(Audit(case_id), IsEmpty());

  // Negative control: the same node, once it accepts, may.
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  EXPECT_THAT(Export(kLabor, case_id), IsOk());
  EXPECT_THAT(ClearReads(case_id),
              ElementsAre("qinzhou.labor-inspection ExportCaseEvidence "
                          "ACCESS_ROLE_WORKING_ADDRESSEE"));
}

TEST_F(ProofTest, AnInvestigatorExportsWithAPurposeAndTheExportIsRecorded) {
  std::string case_id = OpenWorkerCase();
  EXPECT_THAT(Export(kInvestigator, case_id), HasReason("INVALID_FIELD"));  // no purpose
  ASSERT_THAT(Export(kInvestigator, case_id, kPurpose), IsOk());
  std::vector<std::string> seen;
  for (const v1::Event& e : Audit(case_id)) {
    if (e.has_case_traced_by_investigator()) {
      seen.push_back("traced " + e.case_traced_by_investigator().method());
    }
    if (e.has_personal_data_accessed()) {
      seen.push_back("read " + e.personal_data_accessed().purpose());
    }
  }
  EXPECT_THAT(seen, ElementsAre("traced ExportCaseEvidence", absl::StrCat("read ", kPurpose)));
}

TEST_F(ProofTest, AnyPartyGetsTheVerdictWithTheSignedHeadAndNothingIsRecorded) {
  std::string case_id = OpenWorkerCase();
  Send(case_id, kLabor);
  ASSERT_OK_AND_ASSIGN(v1::VerifyCaseResponse v, Verify(kLabor, case_id));
  EXPECT_TRUE(v.intact());
  ASSERT_TRUE(v.has_signed_head());
  EXPECT_EQ(v.signed_head().sequence(), v.events_checked());
  EXPECT_EQ(v.signed_head().head_hash(), v.head_hash());
  EXPECT_THAT(storage::CheckSignedHead(v.signed_head(), signer_->public_key()), IsOk());
  EXPECT_THAT(Audit(case_id), IsEmpty());
  // An investigator's check is an investigation, and recorded as one.
  ASSERT_THAT(Verify(kInvestigator, case_id, kPurpose), IsOk());
  ASSERT_EQ(Audit(case_id).size(), 1u);
  EXPECT_EQ(Audit(case_id)[0].case_traced_by_investigator().method(), "VerifyCaseHistory");
  EXPECT_THAT(Verify("qinzhou.petition", case_id), HasReason("NOT_A_PARTY"));
}

TEST_F(ProofTest, EventsAppendedAfterTheVerificationAreLeftToTheNextExport) {
  std::string case_id = OpenWorkerCase();
  const size_t before = log_.ReadCase(case_id).value().size();
  stepped_->after_verify = [&] {
    stepped_->after_verify = nullptr;
    Send(case_id, kLabor);  // lands between the verdict and the read
  };
  ASSERT_OK_AND_ASSIGN(v1::EvidenceBundle bundle, Export(kJustice, case_id));
  EXPECT_GT(log_.ReadCase(case_id).value().size(), before);
  EXPECT_EQ(bundle.events_size(), static_cast<int>(before));
  EXPECT_TRUE(storage::VerifyBundle(bundle, signer_->public_key()).intact);
}

TEST_F(ProofTest, EventsAppendedBeforeTheVerificationAreInTheBundle) {
  std::string case_id = OpenWorkerCase();
  const size_t before = log_.ReadCase(case_id).value().size();
  stepped_->before_verify = [&] { Send(case_id, kLabor); };
  ASSERT_OK_AND_ASSIGN(v1::EvidenceBundle bundle, Export(kJustice, case_id));
  const size_t now = log_.ReadCase(case_id).value().size();
  EXPECT_GT(now, before);
  EXPECT_EQ(bundle.events_size(), static_cast<int>(now));
  EXPECT_TRUE(storage::VerifyBundle(bundle, signer_->public_key()).intact);
}

TEST_F(ProofTest, ACaseTheCaseLogFindsBrokenIsNotExportedAndNothingIsRecorded) {
  std::string case_id = OpenWorkerCase();
  stepped_->alter_verdict = [](v1::VerifyCaseResponse& v) {
    v.set_intact(false);
    v.set_first_bad_sequence(1);
    v.set_problem("event 1 was altered");
    v.clear_signed_head();
  };
  absl::StatusOr<v1::EvidenceBundle> r = Export(kJustice, case_id);
  EXPECT_THAT(r, HasReason("CASE_LOG_CORRUPT"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("broken at event 1"));
  EXPECT_THAT(Audit(case_id), IsEmpty());
}

TEST_F(ProofTest, WithoutASigningKeyTheBundleSaysItsHeadIsUnsigned) {
  std::string case_id = OpenWorkerCase();
  v1::ExportCaseEvidenceRequest r;
  r.set_case_id(case_id);
  ASSERT_OK_AND_ASSIGN(v1::EvidenceBundle bundle, broker_->ExportCaseEvidence(kJustice, r));
  EXPECT_FALSE(bundle.has_signed_head());
  storage::BundleReport report = storage::VerifyBundle(bundle);
  EXPECT_TRUE(report.intact) << report.problem;
  EXPECT_FALSE(report.head_signed);
  // Which a trusted key does not accept.
  EXPECT_FALSE(storage::VerifyBundle(bundle, signer_->public_key()).intact);
}

}  // namespace
}  // namespace referral::broker
