#include "storage/evidence_bundle.h"

#include "storage/hash_chain.h"
#include "storage/signed_head.h"
#include "storage/testing/store_fixture.h"

namespace referral::storage::testing {
namespace {

constexpr absl::string_view kCase = "qinzhou.justice:2026-000042";

class EvidenceBundleTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    AppendOk(kCase, Batch({Opened("e1"), Note("e2", "first call")}));
    AppendOk(kCase, Batch({Note("e3", "referred"), Note("e4", "accepted")}));
    auto read = store_->ReadCase(kCase, 0, Direction::kForward, 100);
    ASSERT_TRUE(read.ok()) << read.status();
    events_ = read->events;
    auto bundle = MakeBundle(kCase, events_, "qinzhou.justice", absl::Now());
    ASSERT_TRUE(bundle.ok()) << bundle.status();
    bundle_ = *bundle;
  }

  // Re-seals the manifest after a change, as a forger with the file would.
  static void Reseal(v1::EvidenceBundle* b) {
    if (b->events_size() > 0) b->set_head_hash(b->events(b->events_size() - 1).hash());
    b->set_manifest_digest(ManifestDigest(*b));
  }

  std::vector<Event> events_;
  v1::EvidenceBundle bundle_;
};

TEST_F(EvidenceBundleTest, AnUntouchedBundleVerifiesOfflineWithTheCaseLogsHead) {
  BundleReport r = VerifyBundle(bundle_);
  EXPECT_TRUE(r.intact) << r.problem;
  EXPECT_EQ(r.events_checked, 4u);
  auto verified = store_->Verify(kCase);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(r.head_hash, verified->head_hash);
  ASSERT_EQ(r.events.size(), 4u);
  EXPECT_EQ(r.events[1].case_note_recorded().note(), "first call");
  EXPECT_EQ(r.events[3].hash(), events_[3].hash());
}

TEST_F(EvidenceBundleTest, AnAlteredEventIsNamedEvenWhenTheManifestIsResealed) {
  v1::Event e;
  ASSERT_TRUE(e.ParseFromString(bundle_.events(1).body()));
  e.mutable_case_note_recorded()->set_note("no call was made");
  bundle_.mutable_events(1)->set_body(SerializeDeterministic(e));
  Reseal(&bundle_);
  BundleReport r = VerifyBundle(bundle_);
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_sequence, 2u);
  EXPECT_NE(r.problem.find("altered"), std::string::npos) << r.problem;
  EXPECT_TRUE(r.events.empty());
}

TEST_F(EvidenceBundleTest, AnEventRewrittenWithItsOwnHashBreaksTheNextLink) {
  v1::Event e;
  ASSERT_TRUE(e.ParseFromString(bundle_.events(1).body()));
  e.mutable_case_note_recorded()->set_note("no call was made");
  std::string body = SerializeDeterministic(e);
  bundle_.mutable_events(1)->set_body(body);
  bundle_.mutable_events(1)->set_hash(ChainHash(e.prev_hash(), body));
  Reseal(&bundle_);
  BundleReport r = VerifyBundle(bundle_);
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_sequence, 3u);
}

TEST_F(EvidenceBundleTest, ARemovedEventIsNamedBySequence) {
  bundle_.mutable_events()->DeleteSubrange(2, 1);
  Reseal(&bundle_);
  BundleReport r = VerifyBundle(bundle_);
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_sequence, 3u);
  EXPECT_NE(r.problem.find("missing"), std::string::npos) << r.problem;
}

TEST_F(EvidenceBundleTest, SwappedEventsFail) {
  bundle_.mutable_events()->SwapElements(1, 2);
  Reseal(&bundle_);
  EXPECT_FALSE(VerifyBundle(bundle_).intact);
}

TEST_F(EvidenceBundleTest, ACutTailFailsUnlessTheForgerAlsoResealsThenTheHeadDiffers) {
  v1::EvidenceBundle cut = bundle_;
  cut.mutable_events()->RemoveLast();
  BundleReport r = VerifyBundle(cut);
  EXPECT_FALSE(r.intact);
  EXPECT_NE(r.problem.find("removed from the end"), std::string::npos) << r.problem;
  // Resealed, the cut bundle is self-consistent: only a head hash obtained
  // another way (the case log's, a receipt) exposes it.
  Reseal(&cut);
  BundleReport resealed = VerifyBundle(cut);
  EXPECT_TRUE(resealed.intact);
  EXPECT_NE(resealed.head_hash, VerifyBundle(bundle_).head_hash);
}

TEST_F(EvidenceBundleTest, AManifestThatDoesNotMatchFails) {
  bundle_.set_manifest_digest(std::string(32, 'x'));
  BundleReport r = VerifyBundle(bundle_);
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_sequence, 0u);
}

TEST_F(EvidenceBundleTest, AnEventOfAnotherCaseDoesNotPass) {
  bundle_.set_case_id("qinzhou.justice:2026-000043");
  Reseal(&bundle_);
  BundleReport r = VerifyBundle(bundle_);
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_sequence, 1u);
}

TEST_F(EvidenceBundleTest, AHistoryThatDoesNotMatchItsHashesIsNotExported) {
  std::vector<Event> tampered = events_;
  tampered[2].mutable_case_note_recorded()->set_note("changed in transit");
  EXPECT_THAT(MakeBundle(kCase, tampered, "x", absl::Now()),
              HasReason("CASE_LOG_CORRUPT"));
}

TEST_F(EvidenceBundleTest, AnUnknownFormatIsRefused) {
  bundle_.set_format("zip");
  EXPECT_FALSE(VerifyBundle(bundle_).intact);
}

// With the case log's signed head the bundle's end is fixed: the cut that a
// resealed manifest hides above is caught offline, with nothing but the
// bundle and the published key.
class SignedBundleTest : public EvidenceBundleTest {
 protected:
  void SetUp() override {
    EvidenceBundleTest::SetUp();
    signer_ = HeadSigner::Generate();
    *bundle_.mutable_signed_head() =
        signer_->Sign(kCase, 4, bundle_.head_hash(), absl::FromUnixSeconds(1795000000)).value();
  }
  std::unique_ptr<HeadSigner> signer_;
};

TEST_F(SignedBundleTest, ABundleEndingAtItsSignedHeadVerifiesAgainstThePublishedKey) {
  BundleReport r = VerifyBundle(bundle_, signer_->public_key());
  EXPECT_TRUE(r.intact) << r.problem;
  EXPECT_TRUE(r.head_signed);
  EXPECT_TRUE(r.signature_trusted);
  EXPECT_EQ(r.signing_key_id, signer_->key_id());
  // Without a trusted key it still checks, and says it did not compare keys.
  BundleReport untrusted = VerifyBundle(bundle_);
  EXPECT_TRUE(untrusted.intact) << untrusted.problem;
  EXPECT_TRUE(untrusted.head_signed);
  EXPECT_FALSE(untrusted.signature_trusted);
}

TEST_F(SignedBundleTest, ACutAndResealedTailIsNamedByTheSignedHead) {
  v1::EvidenceBundle cut = bundle_;
  cut.mutable_events()->RemoveLast();
  Reseal(&cut);
  BundleReport r = VerifyBundle(cut);
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_sequence, 4u);
  EXPECT_NE(r.problem.find("removed from the end"), std::string::npos) << r.problem;
}

TEST_F(SignedBundleTest, AHeadRewrittenToMatchTheCutNoLongerVerifies) {
  v1::EvidenceBundle cut = bundle_;
  cut.mutable_events()->RemoveLast();
  Reseal(&cut);
  cut.mutable_signed_head()->set_sequence(3);
  cut.mutable_signed_head()->set_head_hash(cut.head_hash());
  BundleReport r = VerifyBundle(cut);
  EXPECT_FALSE(r.intact);
  EXPECT_NE(r.problem.find("altered or forged"), std::string::npos) << r.problem;
}

TEST_F(SignedBundleTest, AHeadResignedByAForgerFailsOnlyAgainstThePublishedKey) {
  v1::EvidenceBundle cut = bundle_;
  cut.mutable_events()->RemoveLast();
  Reseal(&cut);
  auto forger = HeadSigner::Generate();
  *cut.mutable_signed_head() =
      forger->Sign(kCase, 3, cut.head_hash(), absl::FromUnixSeconds(1795000000)).value();
  EXPECT_TRUE(VerifyBundle(cut).intact);  // self-consistent
  BundleReport r = VerifyBundle(cut, signer_->public_key());
  EXPECT_FALSE(r.intact);
  EXPECT_NE(r.problem.find("not by the trusted key"), std::string::npos) << r.problem;
}

TEST_F(SignedBundleTest, AnotherCasesHeadDoesNotSealThisOne) {
  *bundle_.mutable_signed_head() = signer_->Sign("qinzhou.justice:2026-000043", 4,
                                                 bundle_.head_hash(), absl::Now()).value();
  BundleReport r = VerifyBundle(bundle_);
  EXPECT_FALSE(r.intact);
  EXPECT_NE(r.problem.find("of case qinzhou.justice:2026-000043"), std::string::npos);
}

TEST_F(EvidenceBundleTest, WithATrustedKeyABundleWithoutASignedHeadIsNotEnough) {
  auto signer = HeadSigner::Generate();
  BundleReport r = VerifyBundle(bundle_, signer->public_key());
  EXPECT_FALSE(r.intact);
  EXPECT_NE(r.problem.find("no signed head"), std::string::npos) << r.problem;
}

TEST_F(EvidenceBundleTest, ALaterExportThatStillHoldsTheEarlierOneExtendsIt) {
  AppendOk(kCase, Batch({Note("e5", "later")}));
  auto read = store_->ReadCase(kCase, 0, Direction::kForward, 100);
  ASSERT_TRUE(read.ok());
  auto later = MakeBundle(kCase, read->events, "qinzhou.justice", absl::Now());
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(CheckExtends(*later, bundle_).ok());
  EXPECT_TRUE(CheckExtends(bundle_, bundle_).ok());
  // Negative control: the earlier one does not extend the later one.
  absl::Status shorter = CheckExtends(bundle_, *later);
  EXPECT_EQ(shorter.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(shorter.message().find("removed since the earlier export"), std::string::npos);
}

TEST_F(EvidenceBundleTest, AHistoryRewrittenBetweenExportsIsCaughtThoughEachBundleVerifies) {
  // Another store holding the same case with event 3 told differently: a
  // history rebuilt by someone with the database, self-consistent throughout.
  EventStoreOptions o;
  o.path = UniqueStorePath();
  auto other = EventStore::Open(o);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE((*other)->Append(kCase, ExpectedVersion::Any(),
                               Batch({Opened("e1"), Note("e2", "first call")})).ok());
  ASSERT_TRUE((*other)->Append(kCase, ExpectedVersion::Any(),
                               Batch({Note("e3", "never referred"), Note("e4", "accepted")}))
                  .ok());
  auto read = (*other)->ReadCase(kCase, 0, Direction::kForward, 100);
  ASSERT_TRUE(read.ok());
  auto rewritten = MakeBundle(kCase, read->events, "qinzhou.justice", absl::Now());
  ASSERT_TRUE(rewritten.ok());
  EXPECT_TRUE(VerifyBundle(*rewritten).intact);
  absl::Status s = CheckExtends(*rewritten, bundle_);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("rewritten since the earlier export: event 4"), std::string::npos)
      << s.message();
  other->reset();
  std::filesystem::remove_all(o.path);
}

}  // namespace
}  // namespace referral::storage::testing
