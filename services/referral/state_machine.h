// The referral state machine: one table that both the broker and its tests
// read. Each row is one action: who may take it (the referral's sender or
// its addressee), the states it may be taken from, the state it leads to, and
// the event that records it in the case log.
//
// Drawn from shared/REFERRAL-MODEL.md (FHIR Task). Not yet in the table:
// DRAFT, reopening a terminal referral, ENTERED_IN_ERROR by a coordinator,
// and the broker's own timer-driven steps.

#ifndef REFERRAL_SERVICES_REFERRAL_STATE_MACHINE_H_
#define REFERRAL_SERVICES_REFERRAL_STATE_MACHINE_H_

#include <cstdint>
#include <initializer_list>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/referral.pb.h"

namespace referral::broker {

enum class Action {
  kSend,
  kReceive,
  kAccept,
  kReject,
  kReturn,
  kResubmit,
  kRedirect,
  kStart,
  kHold,
  kResume,
  kComplete,
  kFail,
  kCancel,
};

// Who may take an action.
enum class Role { kSender, kReceiver };

struct Transition {
  Action action;
  absl::string_view name;  // "accept": in messages and on the command line
  Role role;
  // States the action may be taken from, as a bit set (1 << state). A new
  // referral is REFERRAL_STATE_UNSPECIFIED.
  uint32_t from;
  // The state it leads to; UNSPECIFIED for resume, which returns to the
  // state the referral was held from.
  v1::ReferralState to;
  // The event body that records it.
  v1::Event::BodyCase body;
};

constexpr uint32_t States(std::initializer_list<v1::ReferralState> states) {
  uint32_t bits = 0;
  for (auto s : states) bits |= 1u << s;
  return bits;
}

// Every row, in Action order.
absl::Span<const Transition> Transitions();

const Transition& TransitionFor(Action action);

// The row an event body records; nullptr for bodies that are not referral
// steps.
const Transition* TransitionForBody(v1::Event::BodyCase body);

inline bool Allows(const Transition& t, v1::ReferralState from) {
  return (t.from >> from) & 1u;
}

bool IsTerminal(v1::ReferralState state);

// "REQUESTED", for messages.
absl::string_view StateName(v1::ReferralState state);

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_STATE_MACHINE_H_
