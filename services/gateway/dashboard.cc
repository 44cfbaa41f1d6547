#include "services/gateway/dashboard.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "clients/refctl/describe.h"

namespace referral::gateway {

std::optional<absl::Duration> Median(std::vector<absl::Duration> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid - 1] + values[mid]) / 2;
}

bool MayHaveBeenAccepted(v1::ReferralState state) {
  switch (state) {
    case v1::REFERRAL_STATE_ACCEPTED:
    case v1::REFERRAL_STATE_IN_PROGRESS:
    case v1::REFERRAL_STATE_ON_HOLD:
    case v1::REFERRAL_STATE_COMPLETED:
    case v1::REFERRAL_STATE_FAILED:
    case v1::REFERRAL_STATE_CANCELLED:
      return true;
    default:
      return false;
  }
}

std::vector<std::string> AcceptTimeCases(
    absl::string_view node, const std::vector<v1::Referral>& referrals) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const v1::Referral& r : referrals) {
    if (r.to_node() != node || !MayHaveBeenAccepted(r.state())) continue;
    if (seen.insert(r.case_id()).second) out.push_back(r.case_id());
  }
  return out;
}

DashboardStats ComputeDashboard(const DashboardInput& input) {
  DashboardStats stats;
  stats.node = input.node;

  // First request and first acceptance of each referral.
  absl::flat_hash_map<std::string, absl::Time> requested, accepted;
  for (const v1::Event& e : input.events) {
    const absl::Time t = refctl::EventTime(e);
    if (e.has_referral_requested()) {
      auto [it, fresh] = requested.try_emplace(e.referral_requested().referral_id(), t);
      if (!fresh) it->second = std::min(it->second, t);
    } else if (e.has_referral_accepted()) {
      auto [it, fresh] = accepted.try_emplace(e.referral_accepted().referral_id(), t);
      if (!fresh) it->second = std::min(it->second, t);
    }
  }

  std::vector<absl::Duration> to_accept;
  for (const v1::Referral& r : input.referrals) {
    if (r.from_node() == input.node) {
      ++stats.referrals_out;
      ++stats.out_by_state[r.state()];
    }
    if (r.to_node() != input.node) continue;
    ++stats.referrals_in;
    ++stats.in_by_state[r.state()];
    auto sent = requested.find(r.referral_id());
    auto took = accepted.find(r.referral_id());
    if (sent != requested.end() && took != accepted.end()) {
      to_accept.push_back(took->second - sent->second);
    }
  }
  stats.accepted_in = static_cast<int>(to_accept.size());
  stats.median_time_to_accept = Median(std::move(to_accept));

  if (input.overdue_deadlines.has_value()) {
    int overdue = 0, escalated = 0;
    for (const v1::Deadline& d : *input.overdue_deadlines) {
      // Met late (cleared after the breach) is no longer overdue.
      if (d.state() != v1::DEADLINE_STATE_BREACHED) continue;
      if (d.set().responsible_node() == input.node) {
        ++overdue;
      } else if (d.escalated_to() == input.node) {
        ++escalated;
      }
    }
    stats.overdue = overdue;
    stats.escalated = escalated;
  }
  return stats;
}

}  // namespace referral::gateway
