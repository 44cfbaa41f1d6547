#!/usr/bin/env bash
# shellcheck disable=SC2046  # $(tls NAME) splits into its flags on purpose
# refctl against the real caselog, directory and referral executables on
# loopback, end to end:
#   1. mTLS (certificates from tools/pki.sh): tools/demo.sh plays the whole
#      scene; then refctl's own promises: labels and JSON, a retried command
#      with the same --request-id has its effect once, a reused id with
#      another body is refused, the wrong node is told what to do, inbox
#      --ack empties the backlog, and inbox --follow sees each new item once
#      across a restart of the referral service;
#   2. plaintext (--plaintext on both sides): the node travels as metadata.
#
# Usage: refctl_referral_e2e.sh REFCTL CASELOG DIRECTORY REFERRAL MEDIATION
#        LEGALAID DEADLINES
# (ctest passes the built binaries). Exits non-zero with the reason and the
# services' logs on the first failed check.
set -euo pipefail

[ "$#" -eq 7 ] || { echo "usage: $0 REFCTL CASELOG DIRECTORY REFERRAL MEDIATION LEGALAID DEADLINES" >&2; exit 2; }
REFCTL="$1" CASELOG_BIN="$2" DIRECTORY_BIN="$3" REFERRAL_BIN="$4"
MEDIATION_BIN="$5" LEGALAID_BIN="$6" DEADLINES_BIN="$7"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# shellcheck source-path=SCRIPTDIR/../.. source=tests/integration/e2e_lib.sh
source "$ROOT/tests/integration/e2e_lib.sh"
e2e_init refctl_referral_e2e

PKI="$work/pki"
NODES=(qinzhou.justice qinzhou.labor-inspection qinzhou.arbitration qinzhou.union qinzhou.housing qinzhou.petition)
"$ROOT/tools/pki.sh" "$PKI" caselog directory referral mediation legalaid deadlines operator \
  "${NODES[@]}"
# The case log's head-signing key, and its public half as it is published.
openssl genpkey -algorithm ed25519 -out "$work/caselog-head.key" 2>/dev/null
openssl pkey -in "$work/caselog-head.key" -pubout -out "$work/caselog-head.pub.pem"
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -out "$work/other.pub.pem"

# ------------------------------------------------------------------ mTLS
# A case log told to admit nobody refuses to start rather than admit everyone.
rc=0; out="$("$CASELOG_BIN" --listen=127.0.0.1:0 --data_dir="$work/never" --admit= $(tls caselog) 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "caselog started with an empty --admit"
expect_in "$out" "--admit names nobody" "empty --admit"
start caselog 127.0.0.1:0 "$CASELOG_BIN" --data_dir="$work/caselog" $(tls caselog) \
  --signing_key="$work/caselog-head.key"
CASELOG="127.0.0.1:$PORT"
start directory 127.0.0.1:0 "$DIRECTORY_BIN" \
  --config="$ROOT/services/directory/qinzhou.toml" $(tls directory)
DIRECTORY="127.0.0.1:$PORT"
start referral 127.0.0.1:0 "$REFERRAL_BIN" --caselog="$CASELOG" \
  --directory="$DIRECTORY" $(tls referral)
REFERRAL="127.0.0.1:$PORT"
healthy "$CASELOG" --pki "$PKI" --node caselog
healthy "$DIRECTORY" --pki "$PKI" --node directory
healthy "$REFERRAL" --pki "$PKI" --node referral
CAL="--calendar=$ROOT/config/calendar.toml"
start mediation 127.0.0.1:0 "$MEDIATION_BIN" --caselog="$CASELOG" \
  --directory="$DIRECTORY" "$CAL" $(tls mediation)
MEDIATION="127.0.0.1:$PORT"
start legalaid 127.0.0.1:0 "$LEGALAID_BIN" --caselog="$CASELOG" \
  --directory="$DIRECTORY" "$CAL" $(tls legalaid)
LEGALAID="127.0.0.1:$PORT"
start deadlines 127.0.0.1:0 "$DEADLINES_BIN" --caselog="$CASELOG" \
  --directory="$DIRECTORY" "$CAL" --poll=200ms $(tls deadlines)
DEADLINES="127.0.0.1:$PORT"
healthy "$MEDIATION" --pki "$PKI" --node mediation
healthy "$LEGALAID" --pki "$PKI" --node legalaid
healthy "$DEADLINES" --pki "$PKI" --node deadlines
pass "services up with mTLS: caselog $CASELOG, directory $DIRECTORY, referral $REFERRAL, mediation $MEDIATION, legalaid $LEGALAID, deadlines $DEADLINES"

# The whole scene, as ./dev demo plays it.
demo_out="$(REFCTL="$REFCTL" PKI_DIR="$PKI" REFCTL_REFERRAL="$REFERRAL" \
  REFCTL_MEDIATION="$MEDIATION" REFCTL_LEGALAID="$LEGALAID" REFCTL_DEADLINES="$DEADLINES" \
  "$ROOT/tools/demo.sh" 2>&1)" \
  || fail "tools/demo.sh failed:"$'\n'"$demo_out"
expect_in "$demo_out" "ReferralResubmitted" "demo trace"
expect_in "$demo_out" "追回工资 · 460,000.00 元" "demo trace"
expect_in "$demo_out" "需补充 劳动合同复印件、考勤记录" "demo trace"
CASE="$(printf '%s\n' "$demo_out" | sed -n 's/.*绿色通道立案 \([^：]*\)：.*/\1/p' | head -n 1)"
[ -n "$CASE" ] || fail "no case id in the demo's output"
expect_in "$demo_out" "达成调解协议" "demo: mediation agreement"
expect_in "$demo_out" "第一期到期未付" "demo: late instalment escalated"
expect_in "$demo_out" "李律师（L-002）承办" "demo: same-day lawyer"
pass "demo.sh played the scene ($CASE)"

# A saved context makes later commands short; flags still win.
"$REFCTL" context set --node qinzhou.justice --pki "$PKI" --referral "$REFERRAL" \
  --caselog "$CASELOG" --directory "$DIRECTORY" >/dev/null
out="$("$REFCTL" context show)"
expect_in "$out" "qinzhou.justice" "context show"
expect_in "$out" "mTLS" "context show"
out="$("$REFCTL" cases)"
expect_in "$out" "$CASE" "cases"
expect_in "$out" "是" "cases: green channel column"
out="$("$REFCTL" case show "$CASE")"
expect_in "$out" "农民工群体 worker_group" "case show: parties"
expect_in "$out" "460,000.00 元" "case show: amount"
expect_in "$out" "办结 completed" "case show: referral states"
expect_in "$out" "已转出 requested" "case show: referral states"
out="$("$REFCTL" -o json referral "$CASE/r1")"
expect_in "$out" '"amount_recovered_fen": "46000000"' "referral -o json"
expect_in "$out" '"outcome": "OUTCOME_WAGES_RECOVERED"' "referral -o json"
out="$("$REFCTL" trace "$CASE")"
expect_in "$out" "补正后重新提交" "trace: Chinese event"
expect_in "$out" "间隔 SINCE" "trace: gap column"
svg="$("$REFCTL" -o svg trace "$CASE")"; [[ "$svg" == "<svg"* ]] || fail "trace -o svg: not an SVG: ${svg:0:200}"; expect_in "$svg" "劳动保障监察" "trace -o svg: lane"
pass "context, cases, case show, referral, trace"

# Proof: the case log's verdict with its signed head, an evidence bundle
# checked with no server against the published key, and negative controls:
# an altered event named by sequence, a cut tail, another key.
out="$("$REFCTL" verify "$CASE" --trust "$work/caselog-head.pub.pem")"
expect_in "$out" "intact 完整" "verify CASE"
expect_in "$out" "signed by the trusted key" "verify CASE checks the signed head"
head="$(printf '%s\n' "$out" | sed -n 's/.*head \([0-9a-f]\{64\}\).*/\1/p')"
[ -n "$head" ] || fail "verify CASE printed no head hash: $out"
out="$("$REFCTL" export "$CASE" --out "$work/bundle.json")"
expect_in "$out" "case log intact, head signed by key" "export"
out="$("$REFCTL" --caselog 127.0.0.1:1 --referral 127.0.0.1:1 verify --bundle "$work/bundle.json" --trust "$work/caselog-head.pub.pem")"
expect_in "$out" "intact 完整: bundle of case $CASE" "verify --bundle offline"
expect_in "$out" "signed by the trusted key" "verify --bundle checks the signed head"
[ "$(stat -c %a "$work/bundle.json")" = 600 ] || fail "the bundle (personal data in clear) is readable by others"
out="$("$REFCTL" verify --bundle "$work/bundle.json")"
expect_in "$out" "signed by an unverified key" "without --trust the key proves nothing"
out="$("$REFCTL" -o json verify --bundle "$work/bundle.json" --trust "$work/caselog-head.pub.pem")"
node -e 'const v = JSON.parse(process.argv[1]); if (!v.intact || !v.signature_trusted) process.exit(1)' "$out" \
  || fail "verify -o json is not the JSON verdict: $out"
# A bundle without a signed head cannot be checked against a key: exit 2, not "tampered".
node -e 'const fs = require("fs"); const b = JSON.parse(fs.readFileSync(process.argv[1])); delete b.signed_head; fs.writeFileSync(process.argv[2], JSON.stringify(b))' \
  "$work/bundle.json" "$work/unsigned.json"
rc=0; out="$("$REFCTL" verify --bundle "$work/unsigned.json" --trust "$work/caselog-head.pub.pem" 2>&1)" || rc=$?
[ "$rc" -eq 2 ] || fail "an unsigned bundle against a key did not exit 2 (exit $rc): $out"
expect_in "$out" "NOT CHECKED" "unsigned bundle with --trust"
awk 'BEGIN{n=0} /"body": "C/{n++; if(n==2){sub(/"body": "C/, "\"body\": \"D")}} {print}' \
  "$work/bundle.json" >"$work/forged.json"
rc=0; out="$("$REFCTL" verify --bundle "$work/forged.json" 2>&1)" || rc=$?
[ "$rc" -eq 3 ] || fail "an altered bundle verified (exit $rc): $out"
expect_in "$out" "at sequence 2" "altered bundle names the event"
rc=0; out="$("$REFCTL" verify --bundle "$work/bundle.json" --trust "$work/other.pub.pem" 2>&1)" || rc=$?
[ "$rc" -eq 3 ] || fail "a bundle verified against another key (exit $rc): $out"
expect_in "$out" "not by the trusted key" "another key refused"
rc=0; out="$("$REFCTL" verify --bundle "$work/bundle.json" --expect-head "$(printf '0%.0s' $(seq 64))" 2>&1)" || rc=$?
[ "$rc" -eq 3 ] || fail "a bundle with another head verified (exit $rc): $out"
# A later export still holds the earlier one; the earlier one cannot stand
# for the later (negative control).
"$REFCTL" refer "$CASE" --to qinzhou.housing --purpose "住建协助" >/dev/null
"$REFCTL" export "$CASE" --out "$work/bundle2.json" >/dev/null
out="$("$REFCTL" verify --bundle "$work/bundle2.json" --extends "$work/bundle.json" --trust "$work/caselog-head.pub.pem")"
expect_in "$out" "holds the earlier export of" "a later export extends the earlier"
rc=0; out="$("$REFCTL" verify --bundle "$work/bundle.json" --extends "$work/bundle2.json" 2>&1)" || rc=$?
[ "$rc" -eq 3 ] || fail "an earlier export passed for a later one (exit $rc): $out"
expect_in "$out" "removed since the earlier export" "a shorter history does not extend a longer"
# The case log itself admits services and the operator only.
rc=0; out="$("$REFCTL" log read "$CASE" 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "an agency read the case log directly: $out"
expect_in "$out" "NOT_ALLOWED_FOR_ROLE" "an agency on the case log"
out="$("$REFCTL" --node operator log read "$CASE" --limit 1)"
expect_in "$out" "referral.v1.CaseOpened" "the operator on the case log"
pass "verify (signed head), export, verify --bundle offline with --trust; altered, other key, other head refused; case log closed to agencies"

# A retried command with the same request id has its effect once.
first="$("$REFCTL" --request-id e2e-open-1 -o json case open --title "重试测试" --matter wage_arrears)"
again="$("$REFCTL" --request-id e2e-open-1 -o json case open --title "重试测试" --matter wage_arrears)"
id1="$(printf '%s\n' "$first" | sed -n 's/.*"case_id": "\([^"]*\)".*/\1/p' | head -n 1)"
id2="$(printf '%s\n' "$again" | sed -n 's/.*"case_id": "\([^"]*\)".*/\1/p' | head -n 1)"
[ -n "$id1" ] && [ "$id1" = "$id2" ] || fail "retry opened another case: $id1 vs $id2"
if out="$("$REFCTL" --request-id e2e-open-1 case open --title "另一个" --matter wage_arrears 2>&1)"; then
  fail "a reused request id with another body was accepted"
fi
expect_in "$out" "REQUEST_ID_REUSED" "reused request id"
out="$("$REFCTL" -v refer "$id1" --to qinzhou.union --purpose "工会协助" 2>&1)"
expect_in "$out" "request_id: refctl-" "--verbose prints the request id"
pass "retries by request id: once; reuse refused; --verbose shows the id"

# The wrong node is told what to do.
if out="$("$REFCTL" --node qinzhou.petition case show "$CASE" 2>&1)"; then
  fail "a node outside the case could read it"
fi
expect_in "$out" "NOT_A_PARTY" "outsider"
expect_in "$out" "not party to this case" "outsider hint"
if out="$("$REFCTL" accept "$CASE/r2" 2>&1)"; then fail "the sender accepted its own referral"; fi
expect_in "$out" "NOT_ALLOWED_FOR_ROLE" "sender accepting"
if out="$("$REFCTL" --node qinzhou.labor-inspection start "$CASE/r1" 2>&1)"; then
  fail "a completed referral started again"
fi
expect_in "$out" "REFERRAL_STATE_CONFLICT" "step from a terminal state"
expect_in "$out" "办结 (completed)" "state conflict hint"
if out="$("$REFCTL" --pki "$work/nowhere" cases 2>&1)"; then fail "no certificates, yet it worked"; fi
expect_in "$out" "tools/pki.sh" "missing certificates"
if out="$("$REFCTL" --referral 127.0.0.1:1 --timeout 300ms refer "$CASE" --to qinzhou.union --purpose x 2>&1)"; then
  fail "a dead address answered"
fi
expect_in "$out" "./dev up" "unreachable service"
expect_in "$out" "--request-id refctl-" "retry advice"
pass "errors: NOT_A_PARTY, NOT_ALLOWED_FOR_ROLE, REFERRAL_STATE_CONFLICT, no certificates, unreachable"

# The union's inbox: the demo's meeting invitation and the referral sent
# above; --ack empties the backlog.
out="$("$REFCTL" --node qinzhou.union inbox)"
expect_in "$out" "邀请参会 MeetingParticipantInvited" "union inbox: the invitation"
expect_in "$out" "转出 ReferralRequested" "union inbox"
out="$("$REFCTL" --node qinzhou.union backlog)"
expect_in "$out" "未确认 UNACKNOWLEDGED  2" "union backlog before ack"
"$REFCTL" --node qinzhou.union inbox --ack >/dev/null 2>&1
out="$("$REFCTL" --node qinzhou.union backlog)"
expect_in "$out" "未确认 UNACKNOWLEDGED  0" "union backlog after ack"
out="$("$REFCTL" --node qinzhou.union inbox)"
expect_in "$out" "inbox empty" "union inbox after ack"
pass "inbox --ack advances the cursor"

# inbox --follow: live items, once each, across a restart of the broker.
"$REFCTL" --node qinzhou.union -o json inbox --follow >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
pids+=("$follow_pid")
sleep 1
R1="$("$REFCTL" -o json refer "$CASE" --to qinzhou.union --purpose "第一次" |
      sed -n 's/.*"referral_id": "\([^"]*\)".*/\1/p' | head -n 1)"
for _ in $(seq 1 50); do grep -q "$R1" "$work/follow.out" && break; sleep 0.1; done
grep -q "$R1" "$work/follow.out" || fail "inbox --follow did not show $R1 live"
# shellcheck disable=SC2154  # referral_pid is set by start
kill -TERM "$referral_pid"
wait "$referral_pid" 2>/dev/null || true
start referral "$REFERRAL" "$REFERRAL_BIN" --caselog="$CASELOG" \
  --directory="$DIRECTORY" $(tls referral)
healthy "$REFERRAL" --pki "$PKI" --node referral
R2="$("$REFCTL" -o json refer "$CASE" --to qinzhou.union --purpose "重启之后" |
      sed -n 's/.*"referral_id": "\([^"]*\)".*/\1/p' | head -n 1)"
for _ in $(seq 1 100); do grep -q "$R2" "$work/follow.out" && break; sleep 0.1; done
grep -q "$R2" "$work/follow.out" || fail "inbox --follow did not resume after the restart"$'\n'"$(cat "$work/follow.err")"
kill -TERM "$follow_pid"
wait "$follow_pid" 2>/dev/null || true
n1="$(grep -c "\"referral_id\":\"$R1\"" "$work/follow.out" || true)"
n2="$(grep -c "\"referral_id\":\"$R2\"" "$work/follow.out" || true)"
[ "$n1" = 1 ] && [ "$n2" = 1 ] || fail "inbox --follow printed $R1 $n1 times and $R2 $n2 times (want once each):"$'\n'"$(cat "$work/follow.out")"
pass "inbox --follow: live, once each, across a broker restart"

for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()
rm -f "$REFCTL_CONTEXT"

# ------------------------------------------------------------------ plaintext
start caselog 127.0.0.1:0 "$CASELOG_BIN" --data_dir="$work/caselog-plain" --plaintext
CASELOG="127.0.0.1:$PORT"
start directory 127.0.0.1:0 "$DIRECTORY_BIN" \
  --config="$ROOT/services/directory/qinzhou.toml" --plaintext
DIRECTORY="127.0.0.1:$PORT"
start referral 127.0.0.1:0 "$REFERRAL_BIN" --caselog="$CASELOG" \
  --directory="$DIRECTORY" --plaintext
REFERRAL="127.0.0.1:$PORT"
healthy "$REFERRAL" --plaintext
P=(--plaintext --referral "$REFERRAL")
out="$("$REFCTL" "${P[@]}" --node qinzhou.justice case open --title "明文测试" \
  --matter wage_arrears --workers 3)"
expect_in "$out" "opened qinzhou.justice:" "plaintext case open"
out="$("$REFCTL" "${P[@]}" --node qinzhou.justice cases)"
expect_in "$out" "明文测试" "plaintext cases"
if out="$("$REFCTL" --plaintext --referral "$REFERRAL" cases 2>&1)"; then
  fail "no --node, yet it worked"
fi
expect_in "$out" "--node" "missing node"
if out="$("$REFCTL" --pki "$PKI" --node qinzhou.justice --referral "$REFERRAL" --timeout 1s cases 2>&1)"; then
  fail "mTLS client against a plaintext server worked"
fi
expect_in "$out" "--plaintext" "TLS mismatch hint"
pass "plaintext: the node as metadata; mismatches explained"

echo "PASS"
