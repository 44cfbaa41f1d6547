#!/usr/bin/env bash
# refctl's meeting commands against the real caselog, directory, referral and
# mediation executables on loopback, plaintext (--plaintext on both sides):
# convene with nodes and outside parties, a visible overlap warning (and
# none for a meeting that only touches), answers by the node and for a
# party, a retried command with the same --request-id that has its effect
# once, bad input told what to fix, reschedule, held, liability, agreement,
# a payment, show and list, in tables and JSON.
#
# Usage: refctl_mediation_e2e.sh REFCTL CASELOG DIRECTORY REFERRAL MEDIATION
# (ctest passes the built binaries). Exits non-zero with the reason and the
# services' logs on the first failed check.
set -euo pipefail

[ "$#" -eq 5 ] || {
  echo "usage: $0 REFCTL CASELOG DIRECTORY REFERRAL MEDIATION" >&2
  exit 2
}
REFCTL="$1" CASELOG_BIN="$2" DIRECTORY_BIN="$3" REFERRAL_BIN="$4" MEDIATION_BIN="$5"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# shellcheck source-path=SCRIPTDIR/../.. source=tests/integration/e2e_lib.sh
source "$ROOT/tests/integration/e2e_lib.sh"
e2e_init refctl_mediation_e2e
export REFCTL_PLAINTEXT=1

start caselog 127.0.0.1:0 "$CASELOG_BIN" --data_dir="$work/caselog" --plaintext
CASELOG="127.0.0.1:$PORT"
start directory 127.0.0.1:0 "$DIRECTORY_BIN" --config="$ROOT/services/directory/qinzhou.toml" \
  --plaintext
DIRECTORY="127.0.0.1:$PORT"
start referral 127.0.0.1:0 "$REFERRAL_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" \
  --plaintext
export REFCTL_REFERRAL="127.0.0.1:$PORT"
start mediation 127.0.0.1:0 "$MEDIATION_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" \
  --plaintext
export REFCTL_MEDIATION="127.0.0.1:$PORT"
healthy "$REFCTL_MEDIATION"
pass "services up: mediation $REFCTL_MEDIATION"

JUSTICE=qinzhou.justice LABOR=qinzhou.labor-inspection UNION=qinzhou.union
as() {
  local node="$1"
  shift
  "$REFCTL" --node "$node" "$@"
}
field() { sed -n "s/^ *\"$1\": \"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }
day="$(TZ=Asia/Shanghai date -d '+3 days' '+%Y-%m-%d')"

open_case() {
  as "$1" -o json case open --title "$2" --matter wage_arrears --workers 23 \
    --respondent general_contractor=某建筑工程有限公司 | field case_id
}
CASE="$(open_case "$JUSTICE" "23名农民工欠薪")"
[ -n "$CASE" ] || fail "no case id"

out="$(as "$JUSTICE" meeting convene "$CASE" --kind mediation --title 欠薪调解会 \
  --start "$day 09:30" --end "$day 11:30" --place 秦州区司法局三楼调解室 \
  --agenda 核实金额 --agenda 明确责任 --invite-node "$LABOR" \
  --invite-party "general_contractor:某建筑工程有限公司:0938-0000000")"
MEETING="$CASE/m1"
expect_in "$out" "convened $MEETING" "convene"
expect_in "$out" "调解会 mediation" "convene: kind label"
expect_in "$out" "某建筑工程有限公司" "convene: party invitee"
expect_not_in "$out" "warning" "convene: first meeting"
pass "meeting convene"

# Another node's meeting that overlaps: the warning shows, also with JSON.
OTHER="$(open_case "$UNION" "另一欠薪案")"
out="$(as "$UNION" meeting convene "$OTHER" --kind joint --title 联席会商 \
  --start "$day 10:00" --end "$day 12:00" --place 工会会议室 --invite-node "$LABOR")"
expect_in "$out" "warning: 时间冲突 $LABOR" "overlap warning"
# The union is not party to $CASE: the warning does not name its meeting.
expect_not_in "$out" "$MEETING" "overlap warning hides another case's meeting"
expect_in "$out" "in a case you are not party to" "overlap warning says why"
err="$(as "$UNION" -o json meeting convene "$OTHER" --kind joint --title 联席会商2 \
  --start "$day 10:00" --end "$day 12:00" --place 工会会议室 --invite-node "$LABOR" \
  2>&1 >/dev/null)"
expect_in "$err" "warning: 时间冲突" "overlap warning with -o json (stderr)"
# Justice, party to $CASE and not to $OTHER, sees its own case's meeting only.
THIRD="$(open_case "$JUSTICE" "第三案")"
out="$(as "$JUSTICE" meeting convene "$THIRD" --kind joint --title 会商三 \
  --start "$day 10:30" --end "$day 11:00" --place 三楼 --invite-node "$LABOR")"
expect_in "$out" "has another meeting then: $MEETING" "a party to the other case sees it"
expect_in "$out" "in a case you are not party to" "and only the fact of the union's"
expect_not_in "$out" "$OTHER/m" "the union's meetings stay hidden"
# Negative control: a meeting that only touches them (from 12:00) is no conflict.
out="$(as "$JUSTICE" meeting convene "$CASE" --kind joint --title 会商 \
  --start "$day 12:00" --end "$day 12:30" --place 三楼 --invite-node "$LABOR" \
  --request-id touch-1)"
expect_not_in "$out" "warning" "a touching meeting"
pass "overlap warnings, and none for a touching meeting"

# Retrying with the same request id: the same meeting, once.
again="$(as "$JUSTICE" meeting convene "$CASE" --kind joint --title 会商 \
  --start "$day 12:00" --end "$day 12:30" --place 三楼 --invite-node "$LABOR" \
  --request-id touch-1)"
expect_in "$again" "convened $CASE/m2" "retry"
out="$(as "$JUSTICE" meetings --case "$CASE")"
expect_not_in "$out" "$CASE/m3" "retry made no third meeting"
set +e
err="$(as "$JUSTICE" meeting convene "$CASE" --kind joint --title 别的 \
  --start "$day 12:00" --end "$day 12:30" --place 三楼 --invite-node "$LABOR" \
  --request-id touch-1 2>&1)"
code=$?
set -e
[ "$code" -ne 0 ] || fail "a reused request id with another body succeeded"
expect_in "$err" "REQUEST_ID_REUSED" "reused request id"
pass "retry has its effect once; reuse is refused"

out="$(as "$LABOR" meeting answer "$MEETING" accept --note 派监察员参加)"
expect_in "$out" "接受 accept" "answer"
out="$(as "$JUSTICE" meeting answer "$MEETING" propose --invitee i2 \
  --start "$day 14:00" --end "$day 16:00")"
expect_in "$out" "另约时间 propose" "answer for a party"
set +e
err="$(as "$JUSTICE" meeting answer "$MEETING" accept 2>&1)"
code=$?
set -e
[ "$code" -ne 0 ] || fail "the convener answered an invitation it does not have"
expect_in "$err" "NOT_ALLOWED_FOR_ROLE" "convener answering for itself"
expect_in "$err" "--invitee" "the hint names --invitee"
set +e
err="$(as "$JUSTICE" meeting convene "$CASE" --kind mediation --title x \
  --start "$day 12:00" --end "$day 11:00" --place 三楼 --invite-node "$LABOR" 2>&1)"
code=$?
set -e
[ "$code" -ne 0 ] || fail "a meeting ending before it starts was convened"
expect_in "$err" "INVALID_FIELD" "bad slot"
expect_in "$err" "slot.end_time" "bad slot names the field"
pass "answers, and errors that say what to fix"

out="$(as "$JUSTICE" meeting reschedule "$MEETING" --start "$day 14:00" \
  --end "$day 16:00" --reason 应总包请求)"
expect_in "$out" "14:00–16:00  秦州区司法局三楼调解室" "reschedule keeps the place"
expect_in "$out" "未答复 pending" "reschedule resets answers"
as "$JUSTICE" meeting held "$MEETING" --attended i1,i2 --minutes 核实欠薪 >/dev/null
as "$JUSTICE" meeting liability "$MEETING" \
  --finding "某建筑工程有限公司:12000:《保障农民工工资支付条例》第三十条" >/dev/null
first="$(TZ=Asia/Shanghai date -d '+10 days' '+%Y-%m-%d 17:30')"
out="$(as "$JUSTICE" meeting agree "$MEETING" --terms 分两期清偿 --total 12000.00 \
  --instalment "6000.00@$first" --instalment "6000.00@+40d" \
  --payer 某建筑工程有限公司 --fallback qinzhou.arbitration)"
expect_in "$out" "待履行 due" "agree"
out="$(as "$JUSTICE" meeting pay "$MEETING" --instalment 1 --amount 6000.00 \
  --reference 银行回单0001)"
expect_in "$out" "已履行 paid" "pay"
out="$(as qinzhou.arbitration -o json meeting show "$MEETING")"
expect_in "$out" '"state": "INSTALMENT_STATE_PAID"' "show -o json, by the fallback node"
expect_in "$out" '"state": "INSTALMENT_STATE_DUE"' "show -o json: the second instalment"
out="$(as "$LABOR" meetings)"
expect_in "$out" "$MEETING" "meetings of the node"
expect_in "$out" "$OTHER/m1" "meetings of the node, across cases"
out="$(as "$LABOR" trace "$CASE")"
expect_in "$out" "达成调解协议" "trace: agreement"
expect_in "$out" "m1 第1期 6,000.00 元" "trace: payment summary"
pass "reschedule, held, liability, agreement, payment, show, meetings, trace"
