#include "services/referral/state_machine.h"

#include <array>

namespace referral::broker {
namespace {

using S = v1::ReferralState;
using B = v1::Event::BodyCase;
constexpr S kNew = v1::REFERRAL_STATE_UNSPECIFIED;
constexpr S kRequested = v1::REFERRAL_STATE_REQUESTED;
constexpr S kReceived = v1::REFERRAL_STATE_RECEIVED;
constexpr S kReturned = v1::REFERRAL_STATE_RETURNED;
constexpr S kAccepted = v1::REFERRAL_STATE_ACCEPTED;
constexpr S kInProgress = v1::REFERRAL_STATE_IN_PROGRESS;
constexpr S kOnHold = v1::REFERRAL_STATE_ON_HOLD;

constexpr std::array<Transition, 13> kTable = {{
    {Action::kSend, "send", Role::kSender, States({kNew}), kRequested,
     B::kReferralRequested},
    {Action::kReceive, "receive", Role::kReceiver, States({kRequested}),
     kReceived, B::kReferralReceived},
    // The green channel may accept straight from REQUESTED.
    {Action::kAccept, "accept", Role::kReceiver,
     States({kRequested, kReceived}), kAccepted, B::kReferralAccepted},
    {Action::kReject, "reject", Role::kReceiver,
     States({kRequested, kReceived}), v1::REFERRAL_STATE_REJECTED,
     B::kReferralRejected},
    {Action::kReturn, "return", Role::kReceiver, States({kReceived}),
     kReturned, B::kReferralReturned},
    {Action::kResubmit, "resubmit", Role::kSender, States({kReturned}),
     kRequested, B::kReferralResubmitted},
    {Action::kRedirect, "redirect", Role::kReceiver,
     States({kRequested, kReceived}), v1::REFERRAL_STATE_REDIRECTED,
     B::kReferralRedirected},
    {Action::kStart, "start", Role::kReceiver, States({kAccepted}),
     kInProgress, B::kReferralStarted},
    {Action::kHold, "hold", Role::kReceiver, States({kAccepted, kInProgress}),
     kOnHold, B::kReferralPutOnHold},
    {Action::kResume, "resume", Role::kReceiver, States({kOnHold}),
     v1::REFERRAL_STATE_UNSPECIFIED, B::kReferralResumed},
    {Action::kComplete, "complete", Role::kReceiver, States({kInProgress}),
     v1::REFERRAL_STATE_COMPLETED, B::kReferralCompleted},
    {Action::kFail, "fail", Role::kReceiver, States({kInProgress}),
     v1::REFERRAL_STATE_FAILED, B::kReferralFailed},
    {Action::kCancel, "cancel", Role::kSender,
     States({kRequested, kReceived, kReturned, kAccepted, kInProgress}),
     v1::REFERRAL_STATE_CANCELLED, B::kReferralCancelled},
}};

}  // namespace

absl::Span<const Transition> Transitions() { return kTable; }

const Transition& TransitionFor(Action action) {
  return kTable[static_cast<size_t>(action)];
}

const Transition* TransitionForBody(v1::Event::BodyCase body) {
  for (const Transition& t : kTable) {
    if (t.body == body) return &t;
  }
  return nullptr;
}

bool IsTerminal(v1::ReferralState state) {
  switch (state) {
    case v1::REFERRAL_STATE_REJECTED:
    case v1::REFERRAL_STATE_REDIRECTED:
    case v1::REFERRAL_STATE_COMPLETED:
    case v1::REFERRAL_STATE_FAILED:
    case v1::REFERRAL_STATE_CANCELLED:
      return true;
    default:
      return false;
  }
}

absl::string_view StateName(v1::ReferralState state) {
  static const std::string* names = [] {
    auto* n = new std::string[v1::ReferralState_ARRAYSIZE];
    for (int i = 0; i < v1::ReferralState_ARRAYSIZE; ++i) {
      std::string full = v1::ReferralState_Name(static_cast<S>(i));
      n[i] = full.substr(std::string("REFERRAL_STATE_").size());
    }
    return n;
  }();
  return names[state];
}

}  // namespace referral::broker
