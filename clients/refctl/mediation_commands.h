// refctl's commands for the mediation service: meetings (调解会, 联席会商),
// their answers, attendance, liability analysis, agreements and payments.

#ifndef REFERRAL_CLIENTS_REFCTL_MEDIATION_COMMANDS_H_
#define REFERRAL_CLIENTS_REFCTL_MEDIATION_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/refctl/cli.h"
#include "referral/v1/mediation.pb.h"

namespace referral::refctl {

// meeting convene|invite|answer|reschedule|cancel|held|liability|agree|fail|
// pay|show, and meetings. Call after app.fallthrough().
void AddMediationCommands(CLI::App& app, Globals& g, Action& action);

// What the flags look like, parsed (INVALID_ARGUMENT naming the flag):
//   --invite-party "ROLE:NAME[:CONTACT]"   e.g. "general_contractor:某建筑公司"
//   --finding "NAME:AMOUNT:GROUND"          amount in yuan; the ground may hold ':'
//   --instalment "AMOUNT@TIME[@PAYER]"     amount in yuan, time as ParseTimeArg;
//                                            the payer defaults to `payer`
absl::StatusOr<v1::Party> ParsePartySpec(absl::string_view spec);
absl::StatusOr<v1::LiabilityFinding> ParseFindingSpec(absl::string_view spec);
absl::StatusOr<v1::Instalment> ParseInstalmentSpec(absl::string_view spec,
                                                   absl::string_view payer,
                                                   absl::Time now);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_MEDIATION_COMMANDS_H_
