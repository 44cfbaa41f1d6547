#include "storage/signed_head.h"

#include <cstdio>
#include <fstream>

#include "common/digest.h"
#include "common/status_matchers.h"
#include "absl/strings/str_cat.h"
#include <functional>
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::storage {
namespace {

using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;
using ::testing::HasSubstr;

// The message of a status that must have `code`.
std::string MessageOf(const absl::Status& s, absl::StatusCode code) {
  EXPECT_THAT(s, StatusIs(code));
  return std::string(s.message());
}

const std::string kHash = Sha256("the head event");
const absl::Time kAt = absl::FromUnixSeconds(1795000000);

TEST(SignedHead, AHeadSignedByTheCaseLogChecksWithItsOwnKeyAndWithTheTrustedKey) {
  auto signer = HeadSigner::Generate();
  v1::SignedHead head = signer->Sign("qinzhou.justice:2026-000001", 7, kHash, kAt).value();
  EXPECT_EQ(head.sequence(), 7u);
  EXPECT_EQ(head.key_id(), KeyIdOf(signer->public_key()));
  EXPECT_EQ(head.key_id().size(), 16u);
  EXPECT_THAT(CheckSignedHead(head, ""), IsOk());
  EXPECT_THAT(CheckSignedHead(head, signer->public_key()), IsOk());
}

TEST(SignedHead, EveryFieldItStatesIsCoveredByTheSignature) {
  auto signer = HeadSigner::Generate();
  const v1::SignedHead good = signer->Sign("qinzhou.justice:2026-000001", 7, kHash, kAt).value();
  std::vector<std::pair<const char*, std::function<void(v1::SignedHead*)>>> edits = {
      {"case", [](v1::SignedHead* h) { h->set_case_id("qinzhou.justice:2026-000002"); }},
      {"sequence", [](v1::SignedHead* h) { h->set_sequence(6); }},
      {"hash", [](v1::SignedHead* h) { h->set_head_hash(Sha256("another head")); }},
      {"time", [](v1::SignedHead* h) { h->mutable_signed_at()->set_seconds(1795000001); }},
      {"signature", [](v1::SignedHead* h) { (*h->mutable_signature())[0] ^= 1; }},
  };
  for (const auto& [what, edit] : edits) {
    v1::SignedHead altered = good;
    edit(&altered);
    EXPECT_THAT(MessageOf(CheckSignedHead(altered, ""), absl::StatusCode::kFailedPrecondition), HasSubstr("altered or forged"))
        << what;
  }
}

TEST(SignedHead, AHeadResignedByAnotherKeyPassesOnlyWithoutATrustedKey) {
  auto caselog = HeadSigner::Generate();
  auto forger = HeadSigner::Generate();
  v1::SignedHead forged = forger->Sign("qinzhou.justice:2026-000001", 3, kHash, kAt).value();
  // Self-consistent: the key it carries verifies it.
  EXPECT_THAT(CheckSignedHead(forged, ""), IsOk());
  // Against the published key it is refused, naming both keys.
  EXPECT_THAT(MessageOf(CheckSignedHead(forged, caselog->public_key()),
                        absl::StatusCode::kFailedPrecondition),
              HasSubstr(absl::StrCat("not by the trusted key ", caselog->key_id())));
}

TEST(SignedHead, AKeyIdThatDoesNotNameTheKeyIsRefused) {
  auto signer = HeadSigner::Generate();
  v1::SignedHead head = signer->Sign("c", 1, kHash, kAt).value();
  head.set_key_id("0000000000000000");
  EXPECT_THAT(MessageOf(CheckSignedHead(head, ""), absl::StatusCode::kFailedPrecondition),
              HasSubstr("does not name"));
}

TEST(SignedHead, ATimeTheSignedTextCannotStateExactlyIsNeitherSignedNorAccepted) {
  auto signer = HeadSigner::Generate();
  const absl::Time far = absl::FromCivil(absl::CivilSecond(2300, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_THAT(signer->Sign("c", 1, kHash, far).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A head moved to such a time after signing: refused, though its text
  // would read the same for every time past 2262.
  v1::SignedHead head = signer->Sign("c", 1, kHash, kAt).value();
  head.mutable_signed_at()->set_seconds(absl::ToUnixSeconds(far));
  EXPECT_THAT(MessageOf(CheckSignedHead(head, ""), absl::StatusCode::kFailedPrecondition),
              HasSubstr("not a valid time"));
}

TEST(SignedHead, TheSignedTextIsPlainSoAnyLanguageCanRebuildIt) {
  auto signer = HeadSigner::Generate();
  v1::SignedHead head = signer->Sign("qinzhou.justice:2026-000001", 7, kHash, kAt).value();
  EXPECT_EQ(SignedText(head),
            absl::StrCat("referral.v1.SignedHead/1\nqinzhou.justice:2026-000001\n7\n",
                         HexOf(kHash), "\n1795000000000000000\n", head.key_id()));
}

TEST(SignedHead, KeysRoundTripThroughPemAsOpensslWritesThem) {
  auto signer = HeadSigner::Generate();
  std::string pem = signer->PublicKeyPem();
  EXPECT_THAT(pem, HasSubstr("BEGIN PUBLIC KEY"));
  auto raw = PublicKeyFromPem(pem);
  ASSERT_THAT(raw.status(), IsOk());
  EXPECT_EQ(*raw, signer->public_key());

  // A key file as `openssl genpkey -algorithm ed25519` writes it.
  const std::string path = ::testing::TempDir() + "/head.key";
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ed25519 -out " + path).c_str()), 0);
  auto from_file = HeadSigner::FromPemFile(path);
  ASSERT_THAT(from_file.status(), IsOk());
  auto public_half = PublicKeyFromPemFile(path);
  ASSERT_THAT(public_half.status(), IsOk());
  EXPECT_EQ(*public_half, (*from_file)->public_key());
  EXPECT_THAT(CheckSignedHead((*from_file)->Sign("c", 1, kHash, kAt).value(), *public_half), IsOk());
}

TEST(SignedHead, AMissingOrWrongKeyFileSaysWhatToDo) {
  EXPECT_THAT(MessageOf(HeadSigner::FromPemFile("/nonexistent/head.key").status(), absl::StatusCode::kInvalidArgument), HasSubstr("openssl genpkey -algorithm ed25519"));
  const std::string path = ::testing::TempDir() + "/ec.key";
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out " +
                         path + " 2>/dev/null").c_str()),
            0);
  EXPECT_THAT(MessageOf(HeadSigner::FromPemFile(path).status(), absl::StatusCode::kInvalidArgument), HasSubstr("must be Ed25519"));
  EXPECT_THAT(PublicKeyFromPem("not a key").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace referral::storage
