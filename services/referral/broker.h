// Broker: the referral service's core. It opens cases, moves referrals
// through the state machine (state_machine.h), answers reads from case
// projections (case_projection.h) and keeps each node's inbox cursor. It
// knows nothing of gRPC: the case log and the directory are ports (ports.h),
// and the caller is a node name the adapter has already authenticated.
//
// Every command is decided on the case's projection as it stands in the case
// log and appended with the case's version as the expected version; when
// another writer got there first the broker reads again and decides again.
// The projections are kept in a bounded CaseCache (case_cache.h) and caught
// up with the log (the events appended since, usually a few) before every
// decision and every read, so a command costs what is new in the case rather
// than a read and a fold of all of it. A command's events get
// ids derived from (caller, request_id), so a retry finds its own events in
// the case and returns the answer they gave: the effect happens once, also
// across restarts of the broker or the case log. The same request_id with a
// different body is ALREADY_EXISTS (REQUEST_ID_REUSED).
//
// Deadlines. A referral waiting for an answer has exactly one open deadline
// (services/deadlines/deadlines.h), set and cleared in the same append as the
// step that makes or meets the obligation: REQUESTED and RECEIVED, the
// addressee's acceptance ("<referral>/accept", after the k-th resubmission
// "<referral>/accept<k>"; due at the request's due_time, else in the
// priority's working days); RETURNED, the sender's resubmission
// ("<referral>/resubmit<k>"; due at resubmit_by, else the kinds table). Every
// other state has none: accept, reject, redirect and return clear it as met,
// cancel as cancelled; a redirect's child gets its own. The deadlines
// service fires them.
//
// Reads and personal data. Who may read a case is the policy table's
// (policy.h): its parties, and the investigators of the access list
// (access.h) when they say why. What a reader sees is the privacy table's
// (privacy.h): personal data in clear only for the owner, an addressee
// working the case and investigators; masked for other parties and in every
// list. Each investigator's read and each read that returns personal data in
// clear is appended to "audit:<case_id>" (never the case stream: the
// parties must not learn of an investigation) before the answer is given;
// when that append fails the read fails too. SearchCases answers from a
// SearchIndex (search_index.h) it refreshes before each search.
//
// Thread safety: all methods may be called concurrently.

#ifndef REFERRAL_SERVICES_REFERRAL_BROKER_H_
#define REFERRAL_SERVICES_REFERRAL_BROKER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "referral/v1/referral_service.pb.h"
#include "services/deadlines/calendar.h"
#include "services/deadlines/deadlines.h"
#include "services/referral/access.h"
#include "services/referral/case_cache.h"
#include "services/referral/case_commands.h"
#include "services/referral/case_projection.h"
#include "services/referral/ports.h"
#include "services/referral/search_index.h"
#include "services/referral/state_machine.h"

namespace referral::broker {

struct BrokerOptions {
  // Decide-and-append attempts before a contended command gives up
  // (ABORTED, CONCURRENT_MODIFICATION: retry with the same request_id).
  int max_attempts = 8;
  // Clock for case numbers (the year, in Asia/Shanghai) and deadlines.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // The working-day calendar deadlines are computed on; not owned.
  // nullptr = a default Calendar owned by the broker.
  const deadlines::Calendar* calendar = nullptr;
  // Investigators and auditors (config/access.toml); default: nobody.
  AccessList access;
  // The search index's key for ID-number digests, 32 bytes or more
  // (SearchIndex::ReadKeyFile); empty = a random key for this process.
  std::string search_key;
  // The bound of the case cache (case_cache.h); 0 = keep nothing and read
  // each case whole, as before the cache.
  size_t case_cache_bytes = CaseCache::kDefaultMaxBytes;
};

// What a step produced: the referral after it, and for a redirect the child.
struct StepResult {
  v1::Referral referral;
  std::optional<v1::Referral> child;
};

class Broker {
 public:
  // The ports are not owned and must outlive the broker.
  Broker(CaseLogPort* log, DirectoryPort* directory, BrokerOptions options = {});

  // Opens a case owned by `caller`, numbered "<caller>:<year>-<nnnnnn>" from
  // the caller's own counter.
  absl::StatusOr<v1::Case> OpenCase(absl::string_view caller,
                                    const v1::OpenCaseRequest& request);
  // One case, or its events in order; personal data as the privacy table
  // says, the read audited as the class comment says. Errors: CASE_NOT_FOUND;
  // NOT_A_PARTY; INVALID_FIELD (purpose) for an investigator without one on
  // a case it is not party to; the audit append's error.
  absl::StatusOr<v1::Case> GetCase(absl::string_view caller,
                                   const v1::GetCaseRequest& request);
  absl::StatusOr<std::vector<v1::Event>> TraceCase(
      absl::string_view caller, const v1::TraceCaseRequest& request);
  // As a party (no purpose).
  absl::StatusOr<v1::Case> GetCase(absl::string_view caller,
                                   absl::string_view case_id);
  absl::StatusOr<std::vector<v1::Event>> TraceCase(absl::string_view caller,
                                                   absl::string_view case_id);
  // The cases the caller is party to in any way (CaseProjection::IsParty),
  // newest opened first; personal data masked.
  absl::StatusOr<std::vector<v1::Case>> ListCases(absl::string_view caller,
                                                  int page_size);
  // The same, page by page (a search with no criteria, SearchCases' tokens).
  // Errors: INVALID_FIELD for a negative page size or a token not issued
  // for this list.
  absl::StatusOr<v1::ListCasesResponse> ListCases(absl::string_view caller,
                                                  const v1::ListCasesRequest& request);
  // Cases by the request's criteria (referral_service.proto), masked, after
  // refreshing the index. An investigator with a purpose searches every
  // case and the search is audited in "audit-search:<investigator>".
  // Errors: INVALID_FIELD for a malformed criterion or page token.
  absl::StatusOr<v1::SearchCasesResponse> SearchCases(
      absl::string_view caller, const v1::SearchCasesRequest& request);
  // The case log's verdict on the case's hash chain, with the head it
  // signed; for a party, or an investigator naming a purpose (recorded).
  // Errors: as TraceCase; the case log's.
  absl::StatusOr<v1::VerifyCaseResponse> VerifyCaseHistory(
      absl::string_view caller, const v1::VerifyCaseHistoryRequest& request);
  // The case as an evidence bundle ending exactly at the head the case log
  // just verified (and signed, when it has a key): events appended after
  // that moment are left to the next export. Only a reader who sees
  // personal data in clear may export (the bundle holds the hashed bytes,
  // which cannot be masked), and the export is recorded as a clear read.
  // Errors: as TraceCase; NOT_ALLOWED_FOR_ROLE for a party that sees the
  // case masked; CASE_LOG_CORRUPT when the case log finds the chain broken.
  absl::StatusOr<v1::EvidenceBundle> ExportCaseEvidence(
      absl::string_view caller, const v1::ExportCaseEvidenceRequest& request);
  // The audit events of a case or of an accessor; auditors only.
  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(
      absl::string_view caller, const v1::ListAuditEventsRequest& request);
  // Brings the search index up to the log's head (at start; searches do it
  // themselves).
  absl::Status RefreshSearchIndex() { return search_.Refresh(); }
  const SearchIndex& search_index() const { return search_; }
  const CaseCache& case_cache() const { return cache_; }

  absl::StatusOr<v1::Referral> SendReferral(
      absl::string_view caller, const v1::SendReferralRequest& request);

  // The other steps, one per ReferralService method.
  absl::StatusOr<v1::Referral> Receive(absl::string_view caller,
                                       const v1::ReceiveReferralRequest& r);
  absl::StatusOr<v1::Referral> Accept(absl::string_view caller,
                                      const v1::AcceptReferralRequest& r);
  absl::StatusOr<v1::Referral> Reject(absl::string_view caller,
                                      const v1::RejectReferralRequest& r);
  absl::StatusOr<v1::Referral> Return(absl::string_view caller,
                                      const v1::ReturnReferralRequest& r);
  absl::StatusOr<v1::Referral> Resubmit(absl::string_view caller,
                                        const v1::ResubmitReferralRequest& r);
  absl::StatusOr<StepResult> Redirect(absl::string_view caller,
                                      const v1::RedirectReferralRequest& r);
  absl::StatusOr<v1::Referral> Start(absl::string_view caller,
                                     const v1::StartReferralRequest& r);
  absl::StatusOr<v1::Referral> Hold(absl::string_view caller,
                                    const v1::HoldReferralRequest& r);
  absl::StatusOr<v1::Referral> Resume(absl::string_view caller,
                                      const v1::ResumeReferralRequest& r);
  absl::StatusOr<v1::Referral> Complete(absl::string_view caller,
                                        const v1::CompleteReferralRequest& r);
  absl::StatusOr<v1::Referral> Fail(absl::string_view caller,
                                    const v1::FailReferralRequest& r);
  absl::StatusOr<v1::Referral> Cancel(absl::string_view caller,
                                      const v1::CancelReferralRequest& r);

  absl::StatusOr<v1::Referral> GetReferral(absl::string_view caller,
                                           absl::string_view referral_id);
  absl::StatusOr<std::vector<v1::Referral>> ListReferrals(
      absl::string_view caller, const v1::ListReferralsRequest& request);

  // The inbox: the caller's durable cursor, advancing it, and its backlog.
  absl::StatusOr<uint64_t> InboxCursor(absl::string_view node);
  absl::StatusOr<uint64_t> AckInbox(absl::string_view caller, uint64_t position);
  absl::StatusOr<v1::GetBacklogResponse> Backlog(absl::string_view caller,
                                                 absl::string_view node);
  // Whether an event of a node's feed is an inbox item: every referral step,
  // and the coordination events a node must act on or know of (meeting
  // invitations, reschedules, cancellations and overlap warnings, reminders,
  // deadline warnings and breaches, escalations, major-case flags).
  static bool ReachesInbox(const v1::Event& e);
  // The inbox item for an event of the caller's feed; nullopt for events
  // that do not reach an inbox. Coordination items carry no referral id.
  // Personal data in it is masked for every node (an inbox is a list).
  absl::StatusOr<std::optional<v1::InboxItem>> InboxItemOf(const v1::Event& e);
  // The feed filter of a node's inbox.
  static v1::EventFilter InboxFilter(absl::string_view node);

 private:
  // Decides the events of one command on a projection and the case's
  // deadlines; the broker fills in their envelopes.
  using Decide = std::function<absl::StatusOr<std::vector<v1::Event>>(
      const CaseProjection&, const deadlines::DeadlineFold&)>;

  // Runs one command against `case_id` (see the class comment); `answer`
  // takes the command's answer from the projection as it stood right after
  // the command's own events (CaseCommands::ExecuteCached: copy, no I/O).
  absl::Status Execute(absl::string_view caller, const std::string& case_id,
                       const std::string& request_id,
                       const google::protobuf::Message& request, bool opens_case,
                       const Decide& decide, const AnswerFromProjection& answer);

  // One referral step: authorise by the state machine's row, check the
  // state, append `body`'s event.
  absl::StatusOr<StepResult> Step(
      absl::string_view caller, Action action, const std::string& request_id,
      const std::string& referral_id, const google::protobuf::Message& request,
      const std::function<absl::Status(const CaseProjection&,
                                        const v1::Referral&,
                                        std::vector<v1::Event>*)>& body);

  // The deadline events a step of `action` on `r` calls for, besides the
  // step's own `step_events` (see the class comment).
  std::vector<v1::Event> DeadlineChanges(Action action, const v1::Referral& r,
                                         const deadlines::DeadlineFold& fold,
                                         const std::vector<v1::Event>& step_events);
  // The acceptance deadline "<referral_id>/accept<suffix>" for `to_node`:
  // due at `due` when given, else in the priority's working days.
  v1::Event AcceptanceDeadline(absl::string_view referral_id, absl::string_view suffix,
                               absl::string_view to_node, v1::Priority priority,
                               std::optional<absl::Time> due);

  absl::StatusOr<CaseProjection> ReadProjection(absl::string_view case_id);
  absl::Status CheckNode(absl::string_view node, absl::string_view field);

  // A read of one case by `method` (GetCase, TraceCase): authorises it,
  // appends its audit events and says whether the reader sees personal data
  // in clear. `fields`: the personal data fields the answer holds.
  absl::StatusOr<bool> AdmitRead(absl::string_view caller, absl::string_view method,
                                 const CaseProjection& c, absl::string_view purpose,
                                 const std::vector<std::string>& fields);
  // Appends audit events to `stream` ("audit:<case>", "audit-search:<node>"),
  // each with `accessor` as source and involved node.
  absl::Status AppendAudit(const std::string& stream, absl::string_view accessor,
                           std::vector<v1::Event> events);

  CaseLogPort* log_;
  DirectoryPort* directory_;
  BrokerOptions options_;
  deadlines::Calendar default_calendar_;
  const deadlines::Calendar* calendar_;
  CaseCache cache_;
  CaseCommands commands_;
  SearchIndex search_;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_BROKER_H_
