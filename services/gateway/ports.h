// What the console needs from the gRPC services, as interfaces, so the core
// (console.h) has no gRPC in it. grpc_ports.h implements them over gRPC, one
// channel per (service, node); tests implement them by hand.
//
// Every call names the node it acts as: the console acts as one node at a
// time, chosen per request by the person at the desk, and the services
// authorise each call as that node (its certificate, or with --plaintext the
// x-referral-node metadata). Errors are the services' own statuses, with the
// ErrorInfo reason and zh-CN message that common/errors.h ViewError() reads.
//
// Thread safety: implementations must allow concurrent calls.

#ifndef REFERRAL_SERVICES_GATEWAY_PORTS_H_
#define REFERRAL_SERVICES_GATEWAY_PORTS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "referral/v1/deadline_service.pb.h"
#include "referral/v1/directory_service.pb.h"
#include "referral/v1/mediation_service.pb.h"
#include "referral/v1/referral_service.pb.h"

namespace referral::gateway {

// referral.v1.ReferralService: the calls the console makes.
class ReferralPort {
 public:
  virtual ~ReferralPort() = default;
  virtual absl::StatusOr<v1::ListCasesResponse> ListCases(
      absl::string_view node, const v1::ListCasesRequest& request) = 0;
  virtual absl::StatusOr<v1::SearchCasesResponse> SearchCases(
      absl::string_view node, const v1::SearchCasesRequest& request) = 0;
  virtual absl::StatusOr<v1::GetCaseResponse> GetCase(
      absl::string_view node, const v1::GetCaseRequest& request) = 0;
  virtual absl::StatusOr<v1::TraceCaseResponse> TraceCase(
      absl::string_view node, const v1::TraceCaseRequest& request) = 0;
  virtual absl::StatusOr<v1::ListReferralsResponse> ListReferrals(
      absl::string_view node, const v1::ListReferralsRequest& request) = 0;
  virtual absl::StatusOr<v1::GetBacklogResponse> GetBacklog(
      absl::string_view node, const v1::GetBacklogRequest& request) = 0;
  virtual absl::StatusOr<v1::ReceiveReferralResponse> ReceiveReferral(
      absl::string_view node, const v1::ReceiveReferralRequest& request) = 0;
  virtual absl::StatusOr<v1::AcceptReferralResponse> AcceptReferral(
      absl::string_view node, const v1::AcceptReferralRequest& request) = 0;
};

// referral.v1.MediationService: a case's meetings.
class MediationPort {
 public:
  virtual ~MediationPort() = default;
  virtual absl::StatusOr<v1::ListMeetingsResponse> ListMeetings(
      absl::string_view node, const v1::ListMeetingsRequest& request) = 0;
};

// referral.v1.DeadlineService: open and overdue deadlines.
class DeadlinePort {
 public:
  virtual ~DeadlinePort() = default;
  virtual absl::StatusOr<v1::ListDeadlinesResponse> ListDeadlines(
      absl::string_view node, const v1::ListDeadlinesRequest& request) = 0;
};

// referral.v1.DirectoryService: who is who (names for people, agency kinds
// for the timeline's lanes).
class DirectoryPort {
 public:
  virtual ~DirectoryPort() = default;
  virtual absl::StatusOr<v1::ListNodesResponse> ListNodes(
      absl::string_view node, const v1::ListNodesRequest& request) = 0;
};

}  // namespace referral::gateway

#endif  // REFERRAL_SERVICES_GATEWAY_PORTS_H_
