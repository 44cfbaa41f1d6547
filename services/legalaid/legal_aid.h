// LegalAid: the legal-aid service's core. A justice node takes legal-aid
// applications in its cases, reviews them, assigns lawyers from its own
// roster, flags major difficult cases for collective discussion and
// supervision, and closes the aid; it keeps the roster (enrolment and
// quality evaluations). It knows nothing of gRPC: the case log and the
// directory are ports (services/referral/ports.h), and the caller is a node
// name the adapter has already authenticated.
//
// Streams. An application lives in its case's stream ("<case_id>/a<n>",
// folded by application_projection.h); a roster is the stream
// "roster:<justice_node>" (roster_projection.h). Every command runs through
// broker::CaseCommands: decided on a fresh fold, appended with the stream's
// version as the expected version, once per (caller, request_id). A retry
// returns the first answer; the same request_id with another body is
// REQUEST_ID_REUSED. Bad input is refused before anything is written.
//
// Who. Only JUSTICE nodes apply, review, assign, flag, close, enrol and
// evaluate (NOT_ALLOWED_FOR_ROLE otherwise), and only on their own
// applications and roster: an application belongs to the justice node that
// took it. Applying needs the caller to be party to the case (NOT_A_PARTY).
// Reading an application needs the same; a node lists only its own queue;
// any node may read a roster (the panel of legal-aid lawyers is public).
//
// Rules (the tables are in legal_aid_rules.h):
//  - Apply: an intake channel, or a referral of the case addressed to the
//    caller that it has not rejected, redirected or seen cancelled (with a
//    referral and no channel, the application takes the case's own
//    channel); an applicant with a name; the matter defaults to the case's.
//    The eligibility table decides green channel, hardship-review waiver and
//    its basis, recorded on the application.
//  - Review: approved or denied (denial needs a reason). The waiver recorded
//    at application is carried on the review event.
//  - Assign: see below. Flag: a reason; the supervisor is the justice node's
//    directory parent, or the node itself when it is the district centre;
//    the supervisor is involved in the event (it becomes party to the case
//    and sees it in its feed). Close: a reason; frees the lawyer.
//  - Enrol: lawyer_id of [A-Za-z0-9-] (1-32), a name, at least one
//    specialty, capacity >= 1; enrolling an enrolled id updates its entry.
//    Evaluate: a kind, a score 0-100; `passed` is recorded as
//    EvaluationPasses(): the evaluator's verdict and a score at the pass
//    mark. A failed latest evaluation bars new assignments. `evaluator` is
//    kept as given (default: the caller); `evaluate_time` is when the
//    evaluation took place: a past time is kept, a future one refused
//    (INVALID_FIELD, checked against the service clock after the retry
//    lookup), unset means now by the service clock. Who recorded it is the
//    caller, the event's source, shown as latest_evaluation.recorded_by.
//  - Free text (summary, names, reasons, notes) is at most kMaxTextBytes
//    (common/text_limits.h).
//
// Deadlines (services/deadlines/deadlines.h, in the same append as the
// step; the deadlines service fires them). Apply sets "<app>/review"
// (LEGAL_AID_REVIEW), and for the green channel also "<app>/assign"
// (LEGAL_AID_ASSIGNMENT), both due the same working day on the calendar;
// ordinary applications get TimeLimitsFor(false). The justice node is
// responsible. Review clears the review deadline; an approved ordinary
// application gets its assignment deadline then; a denial clears every open
// deadline of the application. Assignment clears the assignment deadline;
// closing clears whatever is open.
//
// Assignment is a two-stream step. The roster decides: a LawyerCaseTaken is
// appended to the roster with the roster's expected version, so two
// assignments cannot both take a lawyer's last slot and an application
// never holds two lawyers. Then the case records it: LegalAidLawyerAssigned
// (+ the assignment deadline cleared). The gate (ChooseLawyer) runs on the
// roster's fresh fold: skilled in the matter, below capacity, and never a
// lawyer whose latest evaluation failed, preferred or not. A step that
// stops between the two (a crash, the case log unavailable) is finished by
// a retry with the same request_id, which finds its take on the roster, and
// by any later assignment of the application, which adopts the open take.
// Closing records the end in the case first, then releases the take, so
// capacity is never freed while the case still shows the lawyer; an
// assignment that finds its application closed releases any open take of
// the application (a take is keyed by application), also when it took no
// lawyer itself: it may be the retry of a step that took one after the
// close had found nothing to release, and stopped before the case step.
//
// Personal data. The applicant's Party (contact, id_number) is the case's
// personal data: every answer that carries an application shows it as the
// privacy table (services/referral/privacy.h) says for the caller's row on
// the case as it stands: in clear for the owner and an addressee working
// the case, masked for any other party (a justice node that applied by a
// referral it has not accepted, a supervisor). A read that shows it in
// clear, a command's answer included, is recorded in "audit:<case_id>"
// before the answer is given (read_audit.h; the method is the RPC's name),
// and fails when that record cannot be written; a command retried with the
// same request_id then answers without writing again. ListApplications is
// masked for everyone.
//
// Thread safety: all methods may be called concurrently.

#ifndef REFERRAL_SERVICES_LEGALAID_LEGAL_AID_H_
#define REFERRAL_SERVICES_LEGALAID_LEGAL_AID_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "referral/v1/legalaid_service.pb.h"
#include "services/deadlines/calendar.h"
#include "services/deadlines/deadlines.h"
#include "services/legalaid/application_projection.h"
#include "services/legalaid/legal_aid_rules.h"
#include "services/legalaid/roster_projection.h"
#include "services/referral/case_commands.h"
#include "services/referral/case_projection.h"
#include "services/referral/ports.h"

namespace referral::legalaid {

struct LegalAidOptions {
  // Decide-and-append attempts before a contended command gives up
  // (ABORTED, CONCURRENT_MODIFICATION: retry with the same request_id).
  int max_attempts = 8;
  // Now: event times, apply/review/assign times and deadlines.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class LegalAid {
 public:
  // The ports and the calendar are not owned and must outlive this;
  // `calendar` nullptr = a default Calendar (Mon-Fri 08:30-17:30
  // Asia/Shanghai) owned by this.
  LegalAid(broker::CaseLogPort* log, broker::DirectoryPort* directory,
           const deadlines::Calendar* calendar, LegalAidOptions options = {});

  // Errors of every command: INVALID_FIELD (bad input; nothing written),
  // NOT_ALLOWED_FOR_ROLE (not a justice node, or not the application's),
  // NOT_A_PARTY, CASE_NOT_FOUND / APPLICATION_NOT_FOUND / REFERRAL_NOT_FOUND
  // / LAWYER_NOT_FOUND, LEGAL_AID_STATE_CONFLICT (the step table),
  // NO_ELIGIBLE_LAWYER (the gate), NODE_NOT_FOUND (an unknown caller),
  // REQUEST_ID_REUSED, CONCURRENT_MODIFICATION, UNAVAILABLE.
  absl::StatusOr<v1::ApplyForLegalAidResponse> ApplyForLegalAid(
      absl::string_view caller, const v1::ApplyForLegalAidRequest& request);
  absl::StatusOr<v1::ReviewApplicationResponse> ReviewApplication(
      absl::string_view caller, const v1::ReviewApplicationRequest& request);
  absl::StatusOr<v1::AssignLawyerResponse> AssignLawyer(
      absl::string_view caller, const v1::AssignLawyerRequest& request);
  absl::StatusOr<v1::FlagMajorCaseResponse> FlagMajorCase(
      absl::string_view caller, const v1::FlagMajorCaseRequest& request);
  absl::StatusOr<v1::CloseApplicationResponse> CloseApplication(
      absl::string_view caller, const v1::CloseApplicationRequest& request);
  absl::StatusOr<v1::EnrolLawyerResponse> EnrolLawyer(
      absl::string_view caller, const v1::EnrolLawyerRequest& request);
  absl::StatusOr<v1::EvaluateLawyerResponse> EvaluateLawyer(
      absl::string_view caller, const v1::EvaluateLawyerRequest& request);

  // One application; the caller must be party to its case. Personal data
  // as the class comment says; errors also the audit append's.
  absl::StatusOr<v1::GetApplicationResponse> GetApplication(
      absl::string_view caller, const v1::GetApplicationRequest& request);
  // The caller's work queue: its applications in a state (default: open
  // ones), green channel first, then by time applied. Found through the
  // feed's node index (the node's LegalAidApplied events), then each case.
  // Personal data masked.
  absl::StatusOr<v1::ListApplicationsResponse> ListApplications(
      absl::string_view caller, const v1::ListApplicationsRequest& request);
  // A roster, by lawyer id.
  absl::StatusOr<v1::ListLawyersResponse> ListLawyers(
      absl::string_view caller, const v1::ListLawyersRequest& request);

 private:
  // A case as a command decides on it.
  struct CaseState {
    broker::CaseProjection c;
    ApplicationProjection applications;
    deadlines::DeadlineFold deadlines;
    // The clock, read once per decision.
    absl::Time now;
  };
  using DecideOnCase =
      std::function<absl::StatusOr<std::vector<v1::Event>>(const CaseState&)>;
  using DecideOnApplication = std::function<absl::StatusOr<std::vector<v1::Event>>(
      const CaseState&, const v1::LegalAidApplication&)>;
  using DecideOnRoster =
      std::function<absl::StatusOr<std::vector<v1::Event>>(const RosterProjection&)>;

  // Runs a command on a case's stream; returns the case's applications right
  // after the command's own events.
  absl::StatusOr<ApplicationProjection> ExecuteOnCase(
      absl::string_view caller, const std::string& case_id,
      const std::string& request_id, const google::protobuf::Message& request,
      const DecideOnCase& decide);
  // A step on an existing application: the caller's own, in a state the
  // step table allows; then `body`. Returns the application after it.
  absl::StatusOr<v1::LegalAidApplication> OnApplication(
      absl::string_view caller, Step step, const std::string& application_id,
      const std::string& request_id, const google::protobuf::Message& request,
      const DecideOnApplication& body);
  // Runs a command on the caller's roster stream; returns the roster right
  // after the command's own events.
  absl::StatusOr<RosterProjection> ExecuteOnRoster(
      absl::string_view caller, const std::string& request_id,
      const google::protobuf::Message& request, bool may_create,
      const DecideOnRoster& decide);
  // Releases the application's open take on the caller's roster, if any.
  absl::Status ReleaseTake(absl::string_view caller, absl::string_view application_id,
                           const std::string& request_id,
                           const google::protobuf::Message& request);

  // NOT_ALLOWED_FOR_ROLE unless the directory says `caller` is a justice node.
  absl::StatusOr<v1::Node> RequireJustice(absl::string_view caller,
                                          absl::string_view what);
  absl::StatusOr<RosterProjection> ReadRoster(absl::string_view justice_node);
  // Shows `answer`, given by `method` on an application of `case_id`, to the
  // caller as the class comment says (broker::ShowToParty on the case read
  // now); nothing is read or recorded when it holds no personal data.
  absl::Status ShowAnswer(absl::string_view caller, absl::string_view method,
                          std::string case_id, google::protobuf::Message* answer);

  v1::Event Deadline(v1::DeadlineKind kind, const std::string& deadline_id,
                     const std::string& application_id, absl::string_view node,
                     int working_days, absl::Time now) const;

  broker::CaseLogPort* log_;
  broker::DirectoryPort* directory_;
  deadlines::Calendar default_calendar_;
  const deadlines::Calendar* calendar_;
  LegalAidOptions options_;
  broker::CaseCommands commands_;
};

}  // namespace referral::legalaid

#endif  // REFERRAL_SERVICES_LEGALAID_LEGAL_AID_H_
