// Personal data and who sees it. A case's personal data is each party's
// `contact` and `id_number` (referral.proto, Party). The case log keeps them
// as given: the log is the record. Every read decides, from the one table
// below, whether the reader sees them in clear or masked:
//
//   reader                                   personal data   recorded as
//   investigator (reading with a purpose)    clear           INVESTIGATOR
//   the owning node                          clear           OWNER
//   the addressee of a referral of the case  clear           WORKING_ADDRESSEE
//     that is ACCEPTED, IN_PROGRESS, ON_HOLD
//   any other party (a sender, an addressee  masked          -
//     that has not accepted or has finished,
//     an invited or escalated-to node)
//
// Lists (ListCases, SearchCases, inbox items, ListMeetings,
// ListApplications) are masked for everyone: a list is for finding, and
// opening one case, meeting or application is the read that is recorded.
// The same table decides every read of one case's personal data, whichever
// service answers it: a case (GetCase, TraceCase), a meeting with its
// invitees (mediation), a legal-aid application with its applicant, and a
// command's answer carrying any of them (the writer gets back what it wrote
// in clear only when its row is clear). Which node may read a case at all
// is the policy table's business (policy.h); this file only says what a
// reader that got in sees. A read that returns personal data in clear is
// recorded (read_audit.h: PersonalDataAccessed, in "audit:<case_id>");
// masked reads are not.
//
// Thread safety: stateless functions over constant tables.

#ifndef REFERRAL_SERVICES_REFERRAL_PRIVACY_H_
#define REFERRAL_SERVICES_REFERRAL_PRIVACY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/referral.pb.h"
#include "services/referral/case_projection.h"

namespace referral::broker {

// Who a reader is to a case, as far as personal data goes.
enum class Reader {
  // An investigator admitted as one (policy.h: a purpose given).
  kInvestigator,
  kOwner,
  // The addressee of a referral of the case in one of WorkingStates().
  kWorkingAddressee,
  // Any other party.
  kOtherParty,
};

struct SightRule {
  Reader reader;
  // Sees contact and id_number in clear.
  bool clear;
  // What a clear read is recorded as; unspecified for masked readers.
  v1::AccessRole role;
  absl::string_view who;  // for people and error messages
};

// The table above, one row per Reader.
absl::Span<const SightRule> SightTable();
const SightRule& SightOf(Reader reader);

// The referral states in which the addressee is working the case and so
// needs to reach the workers: ACCEPTED, IN_PROGRESS, ON_HOLD.
absl::Span<const v1::ReferralState> WorkingStates();

// Who `caller` is to the case: kInvestigator when the policy admitted it as
// one, else the first row of the table it fits. The caller must be a party
// or admitted as an investigator.
Reader ReaderOf(absl::string_view caller, const CaseProjection& c,
                bool as_investigator);

// How each personal data field is masked: the first `keep_first` and last
// `keep_last` characters stay, the rest become '*'.
struct MaskRule {
  absl::string_view field;  // Party field name
  int keep_first;
  int keep_last;
  absl::string_view note;
};
// id_number: 3 + 2 ("620*************34"); contact: 3 + 4 digits of a
// telephone number ("139****5678"), and anything that is not a telephone
// number (an address) hidden whole as "***".
absl::Span<const MaskRule> MaskTable();

std::string MaskIdNumber(absl::string_view id_number);
std::string MaskContact(absl::string_view contact);

// Masks every Party anywhere inside `message` (a Case, an Event, a list of
// either inside a response), in place.
void MaskPersonalData(google::protobuf::Message* message);

// The personal data fields set on some Party inside `message`, sorted and
// distinct: a subset of {"contact", "id_number"}. Empty = nothing to hide.
std::vector<std::string> PersonalDataFields(const google::protobuf::Message& message);

// OK for a mainland resident ID number: 18 characters, 17 digits then a
// digit or X (x accepted), a real birth date in characters 7-14, and the
// ISO 7064 MOD 11-2 check digit. Otherwise INVALID_FIELD on `field`, saying
// what is wrong and how to fix it, never repeating the number.
absl::Status ValidateIdNumber(absl::string_view id_number, absl::string_view field);

// The form an ID number is compared and hashed in: surrounding spaces
// dropped, x upper-cased.
std::string NormalizeIdNumber(absl::string_view id_number);

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_PRIVACY_H_
