// refctl's commands for the referral broker (cases, referrals, the inbox, the
// timeline) and for the saved context.

#ifndef REFERRAL_CLIENTS_REFCTL_REFERRAL_COMMANDS_H_
#define REFERRAL_CLIENTS_REFCTL_REFERRAL_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "clients/refctl/cli.h"

namespace referral::refctl {

// case open|show, cases, refer, receive ... cancel, referral, referrals,
// inbox, backlog, trace. Call after app.fallthrough().
void AddReferralCommands(CLI::App& app, Globals& g, Action& action);

// context set|show.
void AddContextCommands(CLI::App& app, Globals& g, Action& action);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_REFERRAL_COMMANDS_H_
