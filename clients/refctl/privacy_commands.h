// refctl's commands for finding cases and for the audit of who read what:
//
//   refctl search [--worker NAME] [--id-number N] [--party NAME] [--project P]
//                 [--matter M] [--node N] [--state S] [--from T] [--to T]
//                 [--limit N] [--page TOKEN] [--purpose TEXT]
//       cases your node is party to (an investigator with --purpose: every
//       case, recorded for the auditors), newest first, personal data
//       masked; prints the command for the next page
//   refctl audit (--case CASE | --accessor NODE) [--limit N] [--page TOKEN]
//       the audit record (auditors only): reads of personal data in clear,
//       investigators' traces and searches
//
// `refctl trace CASE --purpose TEXT` and `refctl case show CASE --purpose
// TEXT` are how an investigator reads one case (referral_commands.h).

#ifndef REFERRAL_CLIENTS_REFCTL_PRIVACY_COMMANDS_H_
#define REFERRAL_CLIENTS_REFCTL_PRIVACY_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "clients/refctl/cli.h"

namespace referral::refctl {

// search, audit. Call after app.fallthrough().
void AddPrivacyCommands(CLI::App& app, Globals& g, Action& action);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_PRIVACY_COMMANDS_H_
