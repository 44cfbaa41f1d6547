// Investigators, auditors and the audit streams: who may trace any case,
// what is recorded where, and who may read the record.

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/referral/forwarding_log.h"
#include "services/referral/policy.h"
#include "services/referral/privacy.h"
#include "services/referral/privacy_fixture.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPurpose[] = "秦检民监〔2026〕17号 wage arrears supervision";

class AuditTest : public PrivacyBrokerTest {
 protected:
  // Every event of the node's feed that is an audit record.
  std::vector<v1::Event> AuditFeedOf(const std::string& node) {
    v1::ReadAllRequest r;
    r.mutable_filter()->set_node(node);
    r.set_page_size(1000);
    std::vector<v1::Event> out;
    const v1::ReadAllResponse feed = log_.ReadAll(r).value();
    for (const v1::Event& e : feed.events()) {
      if (e.has_personal_data_accessed() || e.has_case_traced_by_investigator() ||
          e.has_cases_searched_by_investigator()) {
        out.push_back(e);
      }
    }
    return out;
  }

  absl::StatusOr<v1::ListAuditEventsResponse> ListByCase(const std::string& caller,
                                                         const std::string& case_id) {
    v1::ListAuditEventsRequest r;
    r.set_case_id(case_id);
    return broker_->ListAuditEvents(caller, r);
  }
};

TEST_F(AuditTest, AnInvestigatorTracesACaseItIsNotPartyToAndOnlyTheAuditStreamRecordsIt) {
  std::string case_id = OpenWorkerCase();
  Send(case_id, kLabor);
  const std::vector<v1::Event> case_before = log_.ReadCase(case_id).value();

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> trace,
                       broker_->TraceCase(kInvestigator, Trace(case_id, kPurpose)));
  EXPECT_EQ(trace.size(), case_before.size());
  // An investigator needs the worker's number: it sees it in clear.
  EXPECT_EQ(trace.front().case_opened().parties(1).id_number(), kWorkerId);

  // The case stream is untouched: its parties learn nothing.
  const std::vector<v1::Event> case_after = log_.ReadCase(case_id).value();
  ASSERT_EQ(case_after.size(), case_before.size());
  for (const v1::Event& e : case_after) {
    EXPECT_NE(e.source(), kInvestigator);
    EXPECT_THAT(e.involved_nodes(), ::testing::Not(::testing::Contains(kInvestigator)));
  }
  EXPECT_THAT(AuditFeedOf(kJustice), IsEmpty());
  EXPECT_THAT(AuditFeedOf(kLabor), IsEmpty());

  // The audit stream holds the trace and the read of personal data.
  std::vector<v1::Event> audit = Audit(case_id);
  ASSERT_EQ(audit.size(), 2u);
  const v1::CaseTracedByInvestigator& traced = audit[0].case_traced_by_investigator();
  EXPECT_EQ(traced.case_id(), case_id);
  EXPECT_EQ(traced.investigator(), kInvestigator);
  EXPECT_EQ(traced.purpose(), kPurpose);
  EXPECT_EQ(traced.method(), "TraceCase");
  const v1::PersonalDataAccessed& read = audit[1].personal_data_accessed();
  EXPECT_EQ(read.case_id(), case_id);
  EXPECT_EQ(read.accessor(), kInvestigator);
  EXPECT_EQ(read.role(), v1::ACCESS_ROLE_INVESTIGATOR);
  EXPECT_EQ(read.purpose(), kPurpose);
  EXPECT_THAT(read.fields(), ElementsAre("contact", "id_number"));
  for (const v1::Event& e : audit) {
    EXPECT_EQ(e.source(), kInvestigator);
    EXPECT_THAT(e.involved_nodes(), ElementsAre(kInvestigator));
  }
  // ... which auditors read by accessor through the investigator's feed.
  EXPECT_EQ(AuditFeedOf(kInvestigator).size(), 2u);

  // An identity the directory does not know may investigate too.
  ASSERT_THAT(broker_->GetCase(kSupervision, Get(case_id, "监委线索 2026-3")), IsOk());
  EXPECT_EQ(Audit(case_id).size(), 4u);
  EXPECT_EQ(Audit(case_id)[2].case_traced_by_investigator().method(), "GetCase");
}

TEST_F(AuditTest, ANodeThatIsNeitherPartyNorInvestigatorIsRefusedEvenWithAPurpose) {
  std::string case_id = OpenWorkerCase();
  for (const char* who : {kArbitration, kAuditor}) {
    absl::Status get = broker_->GetCase(who, Get(case_id, kPurpose)).status();
    EXPECT_THAT(get, StatusIs(absl::StatusCode::kPermissionDenied)) << who;
    EXPECT_THAT(get, HasReason("NOT_A_PARTY"));
    EXPECT_THAT(std::string(get.message()), HasSubstr("investigators named"));
    EXPECT_THAT(broker_->TraceCase(who, Trace(case_id, kPurpose)),
                HasReason("NOT_A_PARTY"));
  }
  EXPECT_THAT(Audit(case_id), IsEmpty());
}

TEST_F(AuditTest, AnInvestigatorWithoutAPurposeIsRefusedOnCasesItIsNotPartyTo) {
  std::string case_id = OpenWorkerCase();
  absl::Status get = broker_->GetCase(kInvestigator, Get(case_id)).status();
  EXPECT_THAT(get, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ViewError(get).field, "purpose");
  EXPECT_THAT(std::string(get.message()), HasSubstr("say why you read it in `purpose`"));
  EXPECT_THAT(broker_->TraceCase(kInvestigator, Trace(case_id)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Audit(case_id), IsEmpty());

  // On a case referred to it, it reads without one as the party it is: an
  // addressee that has not accepted, so masked, and no trace is recorded.
  std::string referred = OpenWorkerCase();
  Send(referred, kInvestigator);
  ASSERT_OK_AND_ASSIGN(v1::Case c, broker_->GetCase(kInvestigator, Get(referred)));
  EXPECT_EQ(c.opened().parties(1).id_number(), "620*************10");
  EXPECT_THAT(Audit(referred), IsEmpty());
  // With a purpose the same read is an investigation.
  ASSERT_OK_AND_ASSIGN(c, broker_->GetCase(kInvestigator, Get(referred, kPurpose)));
  EXPECT_EQ(c.opened().parties(1).id_number(), kWorkerId);
  EXPECT_EQ(Audit(referred).size(), 2u);
}

TEST_F(AuditTest, EveryReadOfClearPersonalDataIsRecordedAndMaskedReadsAreNot) {
  std::string case_id = OpenWorkerCase();
  std::string id = Send(case_id, kLabor);

  ASSERT_THAT(broker_->GetCase(kJustice, case_id), IsOk());
  ASSERT_THAT(broker_->TraceCase(kJustice, case_id), IsOk());
  ASSERT_THAT(broker_->GetCase(kLabor, case_id), IsOk());  // masked: not accepted yet
  ASSERT_THAT(broker_->ListCases(kJustice, 0), IsOk());    // lists are masked
  ASSERT_THAT(broker_->SearchCases(kJustice, v1::SearchCasesRequest()), IsOk());
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  ASSERT_THAT(broker_->GetCase(kLabor, case_id), IsOk());  // working: clear

  std::vector<v1::Event> audit = Audit(case_id);
  ASSERT_EQ(audit.size(), 3u);
  std::vector<std::string> who;
  for (const v1::Event& e : audit) {
    ASSERT_TRUE(e.has_personal_data_accessed());
    const v1::PersonalDataAccessed& a = e.personal_data_accessed();
    who.push_back(absl::StrCat(a.accessor(), " ", a.method(), " ",
                               v1::AccessRole_Name(a.role())));
    EXPECT_TRUE(a.purpose().empty());
  }
  EXPECT_THAT(who, ElementsAre("qinzhou.justice GetCase ACCESS_ROLE_OWNER",
                               "qinzhou.justice TraceCase ACCESS_ROLE_OWNER",
                               "qinzhou.labor-inspection GetCase "
                               "ACCESS_ROLE_WORKING_ADDRESSEE"));

  // A case without personal data has nothing to record.
  std::string plain = OpenCase();
  ASSERT_THAT(broker_->GetCase(kJustice, plain), IsOk());
  EXPECT_THAT(Audit(plain), IsEmpty());
}


TEST_F(AuditTest, AReadThatCannotBeRecordedIsRefused) {
  std::string case_id = OpenWorkerCase();
  std::string plain = OpenCase();
  NoAuditLog no_audit(&log_);
  broker_ = std::make_unique<Broker>(&no_audit, local_directory_.get(), options_);
  EXPECT_THAT(broker_->GetCase(kJustice, case_id), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(broker_->TraceCase(kInvestigator, Trace(plain, kPurpose)),
              StatusIs(absl::StatusCode::kUnavailable));
  v1::SearchCasesRequest search;
  search.set_purpose(kPurpose);
  EXPECT_THAT(broker_->SearchCases(kInvestigator, search),
              StatusIs(absl::StatusCode::kUnavailable));
  // Negative control: what needs no record is still served.
  EXPECT_THAT(broker_->GetCase(kJustice, plain), IsOk());
  EXPECT_THAT(broker_->GetCase(kLabor, case_id), HasReason("NOT_A_PARTY"));
}

TEST_F(AuditTest, OnlyAuditorsListAuditEventsByCaseOrByAccessor) {
  std::string first = OpenWorkerCase();
  std::string second = OpenWorkerCase(kJustice, "李四", kOtherWorkerId);
  ASSERT_THAT(broker_->GetCase(kJustice, first), IsOk());  // the owner, 1 event
  ASSERT_THAT(broker_->TraceCase(kInvestigator, Trace(first, kPurpose)), IsOk());   // 2
  ASSERT_THAT(broker_->GetCase(kInvestigator, Get(second, kPurpose)), IsOk());      // 2
  v1::SearchCasesRequest search;
  search.set_worker_id_number(kOtherWorkerId);
  search.set_purpose(kPurpose);
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse found,
                       broker_->SearchCases(kInvestigator, search));  // 1, own stream
  ASSERT_EQ(found.cases_size(), 1);

  ASSERT_OK_AND_ASSIGN(v1::ListAuditEventsResponse by_case, ListByCase(kAuditor, first));
  ASSERT_EQ(by_case.events_size(), 3);
  EXPECT_TRUE(by_case.events(0).has_personal_data_accessed());
  EXPECT_EQ(by_case.events(0).source(), kJustice);
  EXPECT_TRUE(by_case.events(1).has_case_traced_by_investigator());
  EXPECT_TRUE(by_case.next_page_token().empty());

  v1::ListAuditEventsRequest by_accessor;
  by_accessor.set_accessor(kInvestigator);
  ASSERT_OK_AND_ASSIGN(v1::ListAuditEventsResponse all,
                       broker_->ListAuditEvents(kAuditor, by_accessor));
  ASSERT_EQ(all.events_size(), 5);  // two traces, two reads, one search
  for (const v1::Event& e : all.events()) EXPECT_EQ(e.source(), kInvestigator);
  const v1::CasesSearchedByInvestigator& s = all.events(4).cases_searched_by_investigator();
  EXPECT_EQ(s.criteria(), "worker_id_number=620*************23");
  EXPECT_THAT(s.case_ids(), ElementsAre(second));

  // Page by page, in log order, nothing twice.
  by_accessor.set_page_size(2);
  std::vector<uint64_t> positions;
  for (int pages = 0; pages < 10; ++pages) {
    ASSERT_OK_AND_ASSIGN(v1::ListAuditEventsResponse page,
                         broker_->ListAuditEvents(kAuditor, by_accessor));
    for (const v1::Event& e : page.events()) positions.push_back(e.global_position());
    if (page.next_page_token().empty()) break;
    by_accessor.set_page_token(page.next_page_token());
  }
  ASSERT_EQ(positions.size(), 5u);
  EXPECT_TRUE(std::is_sorted(positions.begin(), positions.end()));
  EXPECT_EQ(std::set<uint64_t>(positions.begin(), positions.end()).size(), 5u);

  // Nobody else: not the investigators themselves, not the owner.
  for (const char* who : {kInvestigator, kSupervision, kJustice}) {
    absl::Status refused = ListByCase(who, first).status();
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied)) << who;
    EXPECT_THAT(refused, HasReason("NOT_ALLOWED_FOR_ROLE"));
    EXPECT_THAT(std::string(refused.message()), HasSubstr("(qinzhou.discipline)"));
  }
  // One of case and accessor, exactly.
  v1::ListAuditEventsRequest both;
  both.set_case_id(first);
  both.set_accessor(kInvestigator);
  EXPECT_THAT(broker_->ListAuditEvents(kAuditor, both), HasReason("INVALID_FIELD"));
  EXPECT_THAT(broker_->ListAuditEvents(kAuditor, v1::ListAuditEventsRequest()),
              HasReason("INVALID_FIELD"));
  by_accessor.set_page_token("not-a-token");
  EXPECT_THAT(broker_->ListAuditEvents(kAuditor, by_accessor), HasReason("INVALID_FIELD"));
  // A case nobody read has an empty record.
  ASSERT_OK_AND_ASSIGN(by_case, ListByCase(kAuditor, "qinzhou.justice:2026-999999"));
  EXPECT_EQ(by_case.events_size(), 0);
}

// The policy table's investigator and auditor rows, walked: each admits
// whom it names and refuses the rest. (EveryMethodRefusesTheWrongNode in
// broker_test.cc walks the refusals of every row for a plain node.)
TEST_F(AuditTest, EveryInvestigatorOrAuditorRowAdmitsWhomItNames) {
  std::string case_id = OpenWorkerCase();
  using Call = std::function<absl::Status(const std::string&, const std::string& purpose)>;
  std::map<std::string, Call> calls = {
      {"GetCase",
       [&](const std::string& who, const std::string& p) {
         return broker_->GetCase(who, Get(case_id, p)).status();
       }},
      {"TraceCase",
       [&](const std::string& who, const std::string& p) {
         return broker_->TraceCase(who, Trace(case_id, p)).status();
       }},
      {"SearchCases",
       [&](const std::string& who, const std::string& p) -> absl::Status {
         v1::SearchCasesRequest r;
         r.set_purpose(p);
         auto found = broker_->SearchCases(who, r);
         if (!found.ok()) return found.status();
         // A search refuses by leaving the case out.
         if (found->cases_size() == 0) return absl::PermissionDeniedError("not found");
         return absl::OkStatus();
       }},
      {"ListAuditEvents",
       [&](const std::string& who, const std::string&) {
         return ListByCase(who, case_id).status();
       }},
      {"VerifyCaseHistory",
       [&](const std::string& who, const std::string& p) {
         v1::VerifyCaseHistoryRequest r;
         r.set_case_id(case_id);
         r.set_purpose(p);
         return broker_->VerifyCaseHistory(who, r).status();
       }},
      {"ExportCaseEvidence",
       [&](const std::string& who, const std::string& p) {
         v1::ExportCaseEvidenceRequest r;
         r.set_case_id(case_id);
         r.set_purpose(p);
         return broker_->ExportCaseEvidence(who, r).status();
       }},
  };
  int walked = 0;
  for (const Rule& rule : Policy()) {
    if (rule.requirement != Requirement::kInvestigatorOrParty &&
        rule.requirement != Requirement::kAuditor) {
      continue;
    }
    ++walked;
    auto call = calls.find(std::string(rule.method));
    ASSERT_NE(call, calls.end()) << "no test for " << rule.method;
    if (rule.requirement == Requirement::kInvestigatorOrParty) {
      EXPECT_THAT(call->second(kInvestigator, kPurpose), IsOk()) << rule.method;
      EXPECT_THAT(call->second(kSupervision, kPurpose), IsOk()) << rule.method;
      EXPECT_THAT(call->second(kJustice, ""), IsOk()) << rule.method;  // the party
      EXPECT_THAT(call->second(kAuditor, kPurpose),
                  StatusIs(absl::StatusCode::kPermissionDenied))
          << rule.method;
    } else {
      EXPECT_THAT(call->second(kAuditor, ""), IsOk()) << rule.method;
      EXPECT_THAT(call->second(kInvestigator, kPurpose),
                  StatusIs(absl::StatusCode::kPermissionDenied))
          << rule.method;
      EXPECT_THAT(call->second(kJustice, ""), StatusIs(absl::StatusCode::kPermissionDenied))
          << rule.method;
    }
  }
  EXPECT_EQ(walked, 6);
}

}  // namespace
}  // namespace referral::broker
