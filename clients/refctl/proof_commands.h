// refctl's proof commands: verify a case's hash chain on the case log,
// export a case as an evidence bundle, and check a bundle offline.

#ifndef REFERRAL_CLIENTS_REFCTL_PROOF_COMMANDS_H_
#define REFERRAL_CLIENTS_REFCTL_PROOF_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "clients/refctl/cli.h"

namespace referral::refctl {

// verify CASE | verify --bundle FILE, export CASE --out FILE.
void AddProofCommands(CLI::App& app, Globals& g, Action& action);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_PROOF_COMMANDS_H_
