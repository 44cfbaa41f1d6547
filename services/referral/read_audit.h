// How reads of personal data are written down. privacy.h says who sees a
// case's personal data in clear; this file records the reads that matter,
// the same way for every service that answers reads of a case: the broker
// (GetCase, TraceCase), mediation (meetings and their invitees) and legal
// aid (applications and their applicants).
//
// A read is recorded in the case's audit stream, "audit:<case_id>", before
// the answer is given; when that append fails the read fails too, and the
// reader retries. Recorded are every read by an investigator
// (CaseTracedByInvestigator) and every read that returns personal data in
// clear (PersonalDataAccessed: who, as which role of the sight table, which
// fields, by which RPC, and the investigator's purpose). A masked read, and
// a clear read of an answer that holds no personal data, leave no record.
// The audit stream is never the case stream: the parties must not learn of
// an investigation.
//
// Thread safety: stateless functions; the port must allow concurrent calls.

#ifndef REFERRAL_SERVICES_REFERRAL_READ_AUDIT_H_
#define REFERRAL_SERVICES_REFERRAL_READ_AUDIT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "referral/v1/event.pb.h"
#include "services/referral/case_projection.h"
#include "services/referral/ports.h"
#include "services/referral/privacy.h"

namespace referral::broker {

// "audit:<case_id>".
std::string AuditStream(absl::string_view case_id);

// Appends `events` to `stream` in one append (at any version), each stamped
// with an event id "audit.<32 hex>.<i>" unique without coordination,
// `accessor` as source, involved node and actor node, and `now` as time.
absl::Status AppendAuditEvents(CaseLogPort* log, absl::Time now, const std::string& stream,
                               absl::string_view accessor, std::vector<v1::Event> events);

// One read of one case, as it is recorded.
struct CaseRead {
  absl::string_view caller;
  // The RPC that answered: "GetCase", "GetMeeting", "ApplyForLegalAid", ...
  absl::string_view method;
  absl::string_view case_id;
  // The caller's row of the sight table (ReaderOf).
  Reader reader = Reader::kOtherParty;
  // What an investigator said the read is for; empty for parties.
  absl::string_view purpose;
  // The personal data fields the answer holds (PersonalDataFields).
  std::vector<std::string> fields;
};

// Records `read` in AuditStream(case_id) as the file comment says, each
// event carrying the row's role (vocabulary key) as actor role. Returns
// whether the reader sees personal data in clear (the row's `clear`).
// Errors: the append's; the caller must not answer then.
absl::StatusOr<bool> RecordCaseRead(CaseLogPort* log, absl::Time now, const CaseRead& read);

// A party's read of one case, answered with `answer`: the caller's row on
// `c` (ReaderOf, never as an investigator), the read recorded by
// RecordCaseRead with the answer's fields, and `answer` masked in place
// (MaskPersonalData) unless the row is clear. For the services whose reads
// are open to the case's parties only. Errors: the append's; `answer` must
// not be given then.
absl::Status ShowToParty(CaseLogPort* log, absl::Time now, absl::string_view caller,
                         absl::string_view method, const CaseProjection& c,
                         google::protobuf::Message* answer);

// ShowToParty on case `case_id` as it stands now, read from `log`: for an
// answer about something kept in the case's stream (a meeting, a legal-aid
// application), also a retry answered from its first execution, so a node
// no longer working the case gets its old answer masked. Nothing is read or
// recorded when `answer` holds no personal data. Errors: the read's, the
// append's; `answer` must not be given then.
absl::Status ShowCaseAnswer(CaseLogPort* log, absl::Time now, absl::string_view caller,
                            absl::string_view method, absl::string_view case_id,
                            google::protobuf::Message* answer);

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_READ_AUDIT_H_
