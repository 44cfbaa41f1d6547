// refctl's commands for the legal-aid service: applications (the green
// channel), review, lawyer assignment, major cases and closing, and the
// lawyer roster with its quality evaluations.

#ifndef REFERRAL_CLIENTS_REFCTL_LEGALAID_COMMANDS_H_
#define REFERRAL_CLIENTS_REFCTL_LEGALAID_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/refctl/cli.h"
#include "referral/v1/referral.pb.h"

namespace referral::refctl {

// legalaid apply|review|assign|flag|close|show|queue, lawyer enrol|evaluate,
// and lawyers. Call after app.fallthrough().
void AddLegalAidCommands(CLI::App& app, Globals& g, Action& action);

// --applicant "NAME[:CONTACT]" (the contact may hold ':'); INVALID_ARGUMENT
// naming the flag when the name is empty.
absl::StatusOr<v1::Party> ParseApplicantSpec(absl::string_view spec);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_LEGALAID_COMMANDS_H_
