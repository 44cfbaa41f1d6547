#include "services/referral/read_audit.h"

#include <openssl/rand.h>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/time_util.h"

namespace referral::broker {
namespace {

// "audit.<32 hex>": unique without coordination, like a request id.
std::string NewAuditId() {
  unsigned char bytes[16];
  (void)RAND_bytes(bytes, sizeof(bytes));
  return absl::StrCat("audit.",
                      HexOf(absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes))));
}

}  // namespace

std::string AuditStream(absl::string_view case_id) {
  return absl::StrCat("audit:", case_id);
}

absl::Status AppendAuditEvents(CaseLogPort* log, absl::Time now, const std::string& stream,
                               absl::string_view accessor, std::vector<v1::Event> events) {
  v1::AppendRequest req;
  req.set_case_id(stream);
  req.set_expected(v1::EXPECTED_VERSION_ANY);
  const std::string id = NewAuditId();
  const google::protobuf::Timestamp time =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  for (size_t i = 0; i < events.size(); ++i) {
    v1::Event* e = req.add_events();
    *e = std::move(events[i]);
    e->set_event_id(absl::StrCat(id, ".", i));
    e->set_source(std::string(accessor));
    e->add_involved_nodes(std::string(accessor));
    e->mutable_actor()->set_node(std::string(accessor));
    *e->mutable_time() = time;
  }
  return log->Append(req).status();
}

absl::StatusOr<bool> RecordCaseRead(CaseLogPort* log, absl::Time now, const CaseRead& read) {
  const bool investigator = read.reader == Reader::kInvestigator;
  const SightRule& sight = SightOf(read.reader);
  const std::string case_id(read.case_id);
  std::vector<v1::Event> audit;
  if (investigator) {
    v1::CaseTracedByInvestigator* t =
        audit.emplace_back().mutable_case_traced_by_investigator();
    t->set_case_id(case_id);
    t->set_investigator(std::string(read.caller));
    t->set_purpose(std::string(read.purpose));
    t->set_method(std::string(read.method));
    audit.back().set_correlation_id(case_id);
  }
  if (sight.clear && !read.fields.empty()) {
    v1::PersonalDataAccessed* a = audit.emplace_back().mutable_personal_data_accessed();
    a->set_case_id(case_id);
    a->set_accessor(std::string(read.caller));
    a->set_role(sight.role);
    if (investigator) a->set_purpose(std::string(read.purpose));
    for (const std::string& f : read.fields) a->add_fields(f);
    a->set_method(std::string(read.method));
    audit.back().set_correlation_id(case_id);
  }
  if (!audit.empty()) {
    const Term<v1::AccessRole>* role = FindTerm(AccessRoles(), sight.role);
    for (v1::Event& e : audit) {
      e.mutable_actor()->set_role(std::string(role != nullptr ? role->key : ""));
    }
    RETURN_IF_ERROR(
        AppendAuditEvents(log, now, AuditStream(case_id), read.caller, std::move(audit)));
  }
  return sight.clear;
}

absl::Status ShowToParty(CaseLogPort* log, absl::Time now, absl::string_view caller,
                         absl::string_view method, const CaseProjection& c,
                         google::protobuf::Message* answer) {
  CaseRead read;
  read.caller = caller;
  read.method = method;
  read.case_id = c.state().case_id();
  read.reader = ReaderOf(caller, c, /*as_investigator=*/false);
  read.fields = PersonalDataFields(*answer);
  ASSIGN_OR_RETURN(bool clear, RecordCaseRead(log, now, read));
  if (!clear) MaskPersonalData(answer);
  return absl::OkStatus();
}

absl::Status ShowCaseAnswer(CaseLogPort* log, absl::Time now, absl::string_view caller,
                            absl::string_view method, absl::string_view case_id,
                            google::protobuf::Message* answer) {
  if (PersonalDataFields(*answer).empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<v1::Event> events, log->ReadCase(case_id));
  return ShowToParty(log, now, caller, method, CaseProjection::Fold(events), answer);
}

}  // namespace referral::broker
