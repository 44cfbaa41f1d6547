// The web console's JSON API, with no HTTP and no gRPC in it: a request
// (method, path, query, body, the node it acts as) in, a status and a body
// out. http_server.h carries it over HTTP; ports.h reaches the services.
//
// This is a loopback console for an agency's desk: a person on the machine
// that runs it picks the node (agency) they work for, and the console calls
// the services as that node with that node's certificate. It has no login of
// its own and is never an internet-facing server; see http_server.h for the
// loopback rules it enforces.
//
// Routes (all JSON in the proto3 JSON mapping with proto field names, enums
// by name, 64-bit integers as strings, every field printed):
//   GET  /api/v1/nodes                       nodes this console may act as
//   GET  /api/v1/vocabulary                  labels (zh/en) of every enum
//   GET  /api/v1/cases                       ListCases
//   POST /api/v1/cases:search                SearchCases, the criteria in the
//                                            body (CaseSearchFromJson below)
//   GET  /api/v1/cases/{case}                GetCase
//   GET  /api/v1/cases/{case}/trace          TraceCase: {events, timeline}
//   GET  /api/v1/cases/{case}/timeline.svg   the swimlane picture (SVG)
//   GET  /api/v1/cases/{case}/meetings       ListMeetings
//   GET  /api/v1/referrals                   ListReferrals
//   GET  /api/v1/inbox                       {backlog, items}: GetBacklog and
//                                            the referrals awaiting the node
//   POST /api/v1/referrals/{id}:receive      ReceiveReferral
//   POST /api/v1/referrals/{id}:accept       AcceptReferral
//   GET  /api/v1/dashboard                   dashboard.h's numbers
// Every route but nodes and vocabulary acts as a node: the request names it
// (the X-Referral-Node header); none is UNAUTHENTICATED (401), one the
// console was not started for is PERMISSION_DENIED / NODE_NOT_SERVED (403).
//
// Query parameters fill the request message's fields by name (page_size,
// role=REFERRAL_ROLE_RECEIVED, state=...); a parameter the request has no
// field for is INVALID_FIELD (400), so a typo is never silently ignored. A
// field added to a request becomes a parameter with no change here. A POST
// body is the request in proto3 JSON; the referral id comes from the path,
// and a request_id is generated when the body has none (send one to retry
// safely: the same id has its effect once).
//
// The case search is a POST although it changes nothing: its criteria may
// hold a worker's ID number, and a URL is what web servers log and browsers
// keep in their history, so the criteria travel in the body and a query
// parameter on cases:search is INVALID_FIELD (400). One design for every
// criterion, so none of them is ever put in a URL by habit.
//
// Errors: {"error": {"code", "reason", "message", "message_zh"}} with the
// HTTP status from HttpErrorTable(), the one mapping of gRPC codes to HTTP.
//
// Thread safety: Handle() may be called from many threads at once.

#ifndef REFERRAL_SERVICES_GATEWAY_CONSOLE_H_
#define REFERRAL_SERVICES_GATEWAY_CONSOLE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "referral/v1/directory.pb.h"
#include "services/gateway/ports.h"

namespace referral::gateway {

// The one table of gRPC code -> HTTP status; codes not in it are 500.
// `zh` is what a person reads when the error carries no message of its own
// (a transport failure, say).
struct HttpErrorRow {
  absl::StatusCode code;
  int http_status;
  absl::string_view zh;
};
absl::Span<const HttpErrorRow> HttpErrorTable();
int HttpStatusOf(absl::StatusCode code);

// {"error": {"code": "NOT_FOUND", "reason": "CASE_NOT_FOUND", "message":
// English, "message_zh": Chinese}}. `reason` is the ErrorInfo reason, or
// the code's name when the status has none; `message_zh` is the
// LocalizedMessage, or the table's sentence.
std::string ErrorJson(const absl::Status& status);

struct ApiRequest {
  std::string method;  // "GET" or "POST"
  // Decoded path, e.g. "/api/v1/referrals/qinzhou.justice:2026-000001/r1:receive".
  std::string path;
  std::map<std::string, std::string> query;
  std::string body;
  // The node the request acts as (X-Referral-Node); empty when absent.
  std::string node;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
};

struct ConsolePorts {
  ReferralPort* referral = nullptr;    // required
  MediationPort* mediation = nullptr;  // null: meetings are UNAVAILABLE
  DeadlinePort* deadlines = nullptr;   // null: overdue counts are unknown
  DirectoryPort* directory = nullptr;  // null: no display names; lanes by name
};

struct ConsoleOptions {
  // The nodes the console may act as (--nodes, or every node certificate).
  std::vector<std::string> nodes;
  // Makes a request_id for a command whose body has none. Default:
  // "console-" and 16 random hex digits.
  std::function<std::string()> new_request_id;
};

class Console {
 public:
  // `ports` are not owned and must outlive the console.
  Console(ConsoleOptions options, ConsolePorts ports);

  ApiResponse Handle(const ApiRequest& request);

  // Whether the console may act as `node`.
  bool Serves(absl::string_view node) const;

 private:
  absl::StatusOr<ApiResponse> Route(const ApiRequest& request);
  absl::Status CheckNode(absl::string_view node) const;

  ApiResponse Nodes();
  // The directory's nodes, fetched once (the directory is loaded at its
  // start-up and does not change while it runs); empty when unreachable.
  std::vector<v1::Node> DirectoryNodes(absl::string_view as_node);

  absl::StatusOr<ApiResponse> Inbox(absl::string_view node,
                                    const ApiRequest& request);
  absl::StatusOr<ApiResponse> Dashboard(absl::string_view node,
                                        const ApiRequest& request);
  absl::StatusOr<ApiResponse> SearchCases(absl::string_view node,
                                          const ApiRequest& request);
  absl::StatusOr<ApiResponse> CaseRoute(absl::string_view node,
                                        absl::string_view rest,
                                        const ApiRequest& request);
  absl::StatusOr<ApiResponse> ReferralCommand(absl::string_view node,
                                              absl::string_view rest,
                                              const ApiRequest& request);

  ConsoleOptions options_;
  ConsolePorts ports_;
  absl::Mutex mu_;
  std::optional<std::vector<v1::Node>> directory_nodes_ ABSL_GUARDED_BY(mu_);
};

// The body of POST /api/v1/cases:search as the SearchCasesRequest it asks
// for. The body is that request in proto3 JSON (worker_name,
// worker_id_number, party_name, project, node, page_size, page_token,
// purpose; empty = every case the node may see), except four fields a
// person fills in from a form:
//   matter, state  a vocabulary key ("wage_arrears", "accepted") or the
//                  enum name ("MATTER_WAGE_ARREARS"); "" = any
//   opened_from    a calendar day "YYYY-MM-DD" in Asia/Shanghai: from that
//                  day's first moment
//   opened_to      a calendar day, included whole: the range ends at the
//                  next day's first moment in Asia/Shanghai, so from = to =
//                  one day finds the cases opened on that day
// "" or null leaves a criterion out. Anything else is INVALID_ARGUMENT
// (INVALID_FIELD naming the field, in English and Chinese). What only the
// referral service can judge (an ID number's check digit, a page token, a
// range that ends before it starts) it judges, with its own reason.
absl::StatusOr<v1::SearchCasesRequest> CaseSearchFromJson(absl::string_view body);

// Loopback rules (http_server.h applies them).
//
// Whether `host` (a --listen host, brackets allowed for IPv6) is a loopback
// address literal: 127.0.0.0/8 or ::1. Names, "localhost" included, are
// refused: what they resolve to is not this program's to decide.
bool IsLoopbackAddress(absl::string_view host);

// Whether an HTTP Host (or Origin authority) header names this machine's
// loopback: a loopback literal or "localhost", with or without a port.
// Anything else is a page on another site reaching the console through a
// name that resolves to 127.0.0.1 (DNS rebinding), and is refused.
bool IsLoopbackAuthority(absl::string_view authority);

// "127.0.0.1:8080" or "[::1]:8080" -> host and port (0 = any free port).
// INVALID_ARGUMENT (CONFIG_INVALID) naming what to pass, for a malformed
// address or one that is not IsLoopbackAddress().
struct ListenAddress {
  std::string host;  // without brackets
  int port = 0;
};
absl::StatusOr<ListenAddress> ParseLoopbackListen(absl::string_view listen);

}  // namespace referral::gateway

#endif  // REFERRAL_SERVICES_GATEWAY_CONSOLE_H_
