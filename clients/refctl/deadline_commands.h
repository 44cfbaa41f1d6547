// refctl's commands for the deadlines service (referral.v1.DeadlineService):
//
//   refctl deadlines [--overdue] [--of NODE]   open deadlines of your node
//                                              (or of a node you supervise)
//   refctl calendar due [--from TIME] [--days N]
//                                              a due time on the working-day
//                                              calendar the service runs on
//
// and what `refctl trace` says about a case's overdue deadlines.

#ifndef REFERRAL_CLIENTS_REFCTL_DEADLINE_COMMANDS_H_
#define REFERRAL_CLIENTS_REFCTL_DEADLINE_COMMANDS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "clients/refctl/cli.h"
#include "google/protobuf/repeated_field.h"
#include "referral/v1/event.pb.h"

namespace referral::refctl {

// deadlines, calendar due. Call after app.fallthrough().
void AddDeadlineCommands(CLI::App& app, Globals& g, Action& action);

// One line per deadline of the case still open and past its due time at
// `now`, e.g. "逾期 OVERDUE  r1/accept 受理转介  qinzhou.labor-inspection
// 期限 2026-12-01 17:30 → 督办 qinzhou.justice"; empty when none is.
std::vector<std::string> OverdueLines(
    const google::protobuf::RepeatedPtrField<v1::Event>& events, absl::Time now);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_DEADLINE_COMMANDS_H_
