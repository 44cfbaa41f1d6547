// An agency's dashboard (统计): referrals in and out, the median time from
// sent to accepted, and its overdue deadlines. The one place these numbers
// are computed; pure (no I/O, no clock), so tests feed it fixed inputs.
//
// Definitions (what a person reading the dashboard is told):
//  - referrals in: referrals addressed to the node (to_node), whatever their
//    state; referrals out: referrals it sent (from_node). A referral a node
//    sends to itself counts in both.
//  - time to accept: for a referral in, from its first ReferralRequested to
//    its first ReferralAccepted (event time, else recorded time); wall-clock,
//    not working time. Referrals never accepted are not in the median. The
//    median of an even count is the mean of the middle two.
//  - overdue: deadlines breached and still open that the node itself must
//    meet (responsible_node); escalated: those breached by another node and
//    escalated to this one (督办).
//
// Thread safety: pure functions.

#ifndef REFERRAL_SERVICES_GATEWAY_DASHBOARD_H_
#define REFERRAL_SERVICES_GATEWAY_DASHBOARD_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "referral/v1/deadline.pb.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/referral.pb.h"

namespace referral::gateway {

struct DashboardInput {
  std::string node;
  // The node's referrals, sent and received (ListReferrals, both roles).
  std::vector<v1::Referral> referrals;
  // Events of the cases of those referrals, in any order; only the
  // ReferralRequested and ReferralAccepted of referrals in are read, so the
  // caller may pass just the cases AcceptTimeCases() names.
  std::vector<v1::Event> events;
  // DeadlineService.ListDeadlines(overdue_only) as the node; nullopt when
  // the deadlines service could not be asked (the numbers are then unknown,
  // not zero).
  std::optional<std::vector<v1::Deadline>> overdue_deadlines;
};

struct DashboardStats {
  std::string node;
  int referrals_in = 0;
  int referrals_out = 0;
  std::map<v1::ReferralState, int> in_by_state;
  std::map<v1::ReferralState, int> out_by_state;
  // Referrals in whose time to accept is known (the median's sample).
  int accepted_in = 0;
  std::optional<absl::Duration> median_time_to_accept;
  std::optional<int> overdue;
  std::optional<int> escalated;
};

DashboardStats ComputeDashboard(const DashboardInput& input);

// The median; nullopt for none.
std::optional<absl::Duration> Median(std::vector<absl::Duration> values);

// Whether a referral in `state` may have been accepted on its way there
// (ACCEPTED and what can follow it: IN_PROGRESS, ON_HOLD, COMPLETED, FAILED,
// CANCELLED). Only such referrals need their case's events read.
bool MayHaveBeenAccepted(v1::ReferralState state);

// The cases whose events ComputeDashboard needs: those of referrals in that
// MayHaveBeenAccepted(), each once, in first-seen order.
std::vector<std::string> AcceptTimeCases(
    absl::string_view node, const std::vector<v1::Referral>& referrals);

}  // namespace referral::gateway

#endif  // REFERRAL_SERVICES_GATEWAY_DASHBOARD_H_
