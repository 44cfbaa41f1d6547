#!/usr/bin/env bash
# shellcheck disable=SC2046  # $(tls NAME) splits into its flags on purpose
# Durable deadlines end to end, with the real caselog, directory, referral and
# deadlines executables on loopback under mTLS:
#   1. a referral whose due time passes breaches: the case gets one
#      DeadlineBreached and one EscalationRaised to the --supervisor;
#   2. the deadlines service is killed with SIGKILL and started again: the
#      breach is not recorded twice;
#   3. a referral whose due time passes while the service is down breaches
#      once the service is back (its timer lives in the case log, not in the
#      process);
#   4. refctl shows it: `deadlines --overdue` for the responsible node and
#      for the node escalated to, `trace` marks the case overdue, `calendar
#      due` answers from the service's calendar.
#
# Usage: deadlines_e2e.sh REFCTL CASELOG DIRECTORY REFERRAL DEADLINES
# (ctest passes the built binaries). Exits non-zero with the reason and the
# services' logs on the first failed check.
set -euo pipefail

[ "$#" -eq 5 ] || { echo "usage: $0 REFCTL CASELOG DIRECTORY REFERRAL DEADLINES" >&2; exit 2; }
REFCTL="$1" CASELOG_BIN="$2" DIRECTORY_BIN="$3" REFERRAL_BIN="$4" DEADLINES_BIN="$5"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# shellcheck source-path=SCRIPTDIR/../.. source=tests/integration/e2e_lib.sh
source "$ROOT/tests/integration/e2e_lib.sh"
e2e_init deadlines_e2e
E2E_LOG_TAIL=30

PKI="$work/pki"
SUPERVISOR=qinzhou.petition
"$ROOT/tools/pki.sh" "$PKI" caselog directory referral deadlines operator \
  qinzhou.justice qinzhou.labor-inspection "$SUPERVISOR"

start caselog 127.0.0.1:0 "$CASELOG_BIN" --data_dir="$work/caselog" $(tls caselog)
CASELOG="127.0.0.1:$PORT"
start directory 127.0.0.1:0 "$DIRECTORY_BIN" --config="$ROOT/services/directory/qinzhou.toml" $(tls directory)
DIRECTORY="127.0.0.1:$PORT"
start referral 127.0.0.1:0 "$REFERRAL_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" \
  --calendar="$ROOT/config/calendar.toml" $(tls referral)
REFERRAL="127.0.0.1:$PORT"

start_deadlines() {
  start deadlines 127.0.0.1:0 "$DEADLINES_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" \
    --calendar="$ROOT/config/calendar.toml" --supervisor="$SUPERVISOR" --poll=200ms \
    $(tls deadlines)
  DEADLINES="127.0.0.1:$PORT"
  healthy "$DEADLINES" --pki "$PKI" --node deadlines
}
start_deadlines
healthy "$CASELOG" --pki "$PKI" --node caselog
healthy "$DIRECTORY" --pki "$PKI" --node directory
healthy "$REFERRAL" --pki "$PKI" --node referral
pass "caselog $CASELOG, directory $DIRECTORY, referral $REFERRAL, deadlines $DEADLINES (mTLS)"

as() {
  local node="$1"
  shift
  "$REFCTL" --pki "$PKI" --node "$node" --caselog "$CASELOG" --directory "$DIRECTORY" \
    --referral "$REFERRAL" --deadlines "$DEADLINES" "$@"
}

# due_in N: an RFC 3339 time in whole seconds, more than N and at most N + 1
# seconds from now. Rounded up, not down: "now + N" rounded down leaves
# between N - 1 and N seconds, for N = 1 as little as a moment, and on a busy
# machine the referral service finds such a due time already past and
# refuses the referral.
due_in() { date -u -d "@$(($(date +%s) + $1 + 1))" +%Y-%m-%dT%H:%M:%SZ; }

# count CASE FIELD: how many events of the case have that body.
count() {
  as operator -o json log read "$1" --limit 1000 | grep -c "\"$2\"" || true
}

# wait_for CASE FIELD N: until the case holds N such events (30 s at most).
wait_for() {
  for _ in $(seq 1 300); do
    [ "$(count "$1" "$2")" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "$1: no $2 after 30 s (have $(count "$1" "$2"))"
}

# refer N: a new case referred to labour inspection, answer needed within
# N seconds (due_in N); prints the case id.
refer() {
  local opened case_id due out rc=0
  opened="$(as qinzhou.justice -o json case open --title "欠薪 deadline e2e" --matter wage_arrears)"
  case_id="$(printf '%s\n' "$opened" | sed -n 's/.*"case_id": "\([^"]*\)".*/\1/p' | head -n 1)"
  [ -n "$case_id" ] || fail "case open printed no case id: $opened"
  due="$(due_in "$1")"
  out="$(as qinzhou.justice -o json refer "$case_id" --to qinzhou.labor-inspection \
    --purpose "责令支付工资" --due "$due" 2>&1)" || rc=$?
  [ "$rc" -eq 0 ] || fail "refer $case_id due $due, answered at $(date -u +%H:%M:%S.%N): $out"
  echo "$case_id"
}

# ------------------------------------------------------------------ 1
A="$(refer 3)"
[ "$(count "$A" deadline_set)" -eq 1 ] || fail "$A: the referral set no acceptance deadline"
wait_for "$A" deadline_breached 1
wait_for "$A" escalation_raised 1
out="$(as operator -o json log read "$A")"
expect_in "$out" "\"to_node\": \"$SUPERVISOR\"" "escalated to the default supervisor"
expect_in "$out" '"source": "qinzhou.deadlines"' "the deadlines service records as its node"
pass "$A breached and escalated to $SUPERVISOR"

# ------------------------------------------------------------------ 2, 3
# shellcheck disable=SC2154  # deadlines_pid is set by start
kill -KILL "$deadlines_pid"
wait "$deadlines_pid" 2>/dev/null || true
# A second referral falls due while the service is down.
B="$(refer 2)"
sleep 3  # B's due time, at most 3 s after refer chose it, has passed
[ "$(count "$B" deadline_breached)" -eq 0 ] || fail "$B breached with no deadlines service running"
start_deadlines
wait_for "$B" deadline_breached 1
wait_for "$B" escalation_raised 1
# B's breach was recorded by the restarted service, which read the log from
# its checkpoint; A, breached and never met, is not breached again.
[ "$(count "$A" deadline_breached)" -eq 1 ] || fail "$A: $(count "$A" deadline_breached) breaches after a restart"
[ "$(count "$A" escalation_raised)" -eq 1 ] || fail "$A: $(count "$A" escalation_raised) escalations after a restart"
[ "$(count "$B" deadline_breached)" -eq 1 ] || fail "$B: $(count "$B" deadline_breached) breaches"
[ "$(count "$B" escalation_raised)" -eq 1 ] || fail "$B: $(count "$B" escalation_raised) escalations"
pass "kill -9 and restart: $A breached once; $B, due while down, breached once after the restart"

# Once more, killed right after a round, then a third referral proves the
# new process has run its rounds.
kill -KILL "$deadlines_pid"
wait "$deadlines_pid" 2>/dev/null || true
start_deadlines
C="$(refer 2)"
wait_for "$C" deadline_breached 1
for c in "$A" "$B" "$C"; do
  [ "$(count "$c" deadline_breached)" -eq 1 ] || fail "$c: $(count "$c" deadline_breached) breaches"
  [ "$(count "$c" escalation_raised)" -eq 1 ] || fail "$c: $(count "$c" escalation_raised) escalations"
done
pass "a second kill -9: still one breach and one escalation per case"

# ------------------------------------------------------------------ 4
# A and B were breached before the last restart and its checkpoint is past
# them: the service lists them from the breaches it read at start.
out="$(as qinzhou.labor-inspection deadlines --overdue)"
for c in "$A" "$B" "$C"; do expect_in "$out" "$c/r1" "deadlines --overdue (responsible)"; done
expect_in "$out" "已逾期" "deadlines --overdue: state"
expect_in "$out" "受理转介 referral-acceptance" "deadlines --overdue: kind"
out="$(as "$SUPERVISOR" deadlines)"
expect_in "$out" "$A/r1" "deadlines of the supervisor (escalated to it)"
out="$(as qinzhou.labor-inspection -o json deadlines)"
expect_in "$out" '"state": "DEADLINE_STATE_BREACHED"' "deadlines -o json"
out="$(as qinzhou.justice trace "$A")"
expect_in "$out" "逾期 OVERDUE" "trace marks the overdue deadline"
expect_in "$out" "督办" "trace shows the escalation"
# Another node's deadlines only for the node that supervises it.
rc=0; out="$(as "$SUPERVISOR" deadlines --of qinzhou.labor-inspection 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "deadlines --of a node not supervised was answered: $out"
expect_in "$out" "NOT_A_PARTY" "deadlines --of a node not supervised"
# Accepting the referral meets the deadline late: no longer listed.
as qinzhou.labor-inspection accept "$A/r1" >/dev/null || fail "accept $A/r1"
out="$(as qinzhou.labor-inspection deadlines)"
case "$out" in *"$A/r1"*) fail "$A/r1 still listed after it was accepted: $out" ;; esac
# The calendar: 30 September 2026 at 18:00 is after the close on the eve of
# National Day; the same working day is 8 October.
out="$(as qinzhou.justice calendar due --from "2026-09-30 18:00" --days 0)"
expect_in "$out" "2026-10-08 17:30" "calendar due across National Day"
expect_in "$out" "cn-2026" "calendar due names the calendar"
pass "refctl deadlines, trace, calendar due"

echo "deadlines e2e: all checks passed"
