#!/usr/bin/env bash
# demo.sh: plays the source report's scene against a running system, with
# refctl, one line per step in Chinese and English, then the case timeline.
#
#   ./dev up          # in one terminal
#   ./dev demo        # in another (runs this script)
#
# A 12348 hotline call: 23 migrant workers are owed wages on a construction
# project. The justice bureau opens a green-channel case and refers it to
# labour inspection and to arbitration. Labour inspection receives, accepts,
# starts and completes it with the wages recovered; arbitration returns it for
# material, and the justice bureau resubmits with the material attached.
#
# Environment:
#   REFCTL           the refctl binary (default build/clients/refctl/refctl)
#   PKI_DIR          certificates, as tools/pki.sh makes them (default var/pki)
#   REFCTL_REFERRAL  the broker (default 127.0.0.1:50103)
#   REFCTL_PLAINTEXT=1  against services run with --plaintext (tests)
# A saved `refctl context` is ignored, so the demo acts exactly as written.
# Every run opens a new case. Any failure stops the demo with refctl's error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REFCTL="${REFCTL:-$ROOT/build/clients/refctl/refctl}"
PKI_DIR="${PKI_DIR:-$ROOT/var/pki}"
REFERRAL="${REFCTL_REFERRAL:-127.0.0.1:50103}"

JUSTICE=qinzhou.justice
LABOR=qinzhou.labor-inspection
ARBITRATION=qinzhou.arbitration

[ -x "$REFCTL" ] || { echo "demo: no refctl at $REFCTL: run ./dev build" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Not the user's saved context: the demo names every node itself.
export REFCTL_CONTEXT="$work/no-context.json"

step=0
current="starting"
trap 'echo "demo: FAILED after step $step, at: $current; see the error above" >&2' ERR

# refctl AS_NODE ARGS...: JSON output, as that node.
refctl() {
  local node="$1"
  shift
  "$REFCTL" --pki "$PKI_DIR" --referral "$REFERRAL" --node "$node" -o json "$@"
}

# field NAME < JSON: the first "NAME": "value" of refctl's JSON.
field() {
  sed -n "s/^ *\"$1\": \"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# say ZH EN: one numbered line.
say() {
  step=$((step + 1))
  printf '%2d. %s\n    %s\n' "$step" "$1" "$2"
}

# expect_state JSON STATE: the referral in the answer is in STATE.
expect_state() {
  local got
  got="$(printf '%s\n' "$1" | field state)"
  if [ "$got" != "REFERRAL_STATE_$2" ]; then
    echo "demo: expected the referral in $2, but it is ${got:-unknown}" >&2
    exit 1
  fi
}

current="checking the broker"
if ! "$REFCTL" --pki "$PKI_DIR" --node "$JUSTICE" --timeout 3s health --addr "$REFERRAL" >/dev/null; then
  echo "demo: the referral broker at $REFERRAL does not answer: start it with ./dev up" >&2
  exit 1
fi

# Material the justice bureau holds, referred to by SHA-256 (contents are
# placeholders: no personal data).
printf '工资欠条（示例）\n' >"$work/iou.txt"
printf '劳动合同复印件（示例）\n' >"$work/contracts.txt"
printf '考勤记录（示例）\n' >"$work/attendance.txt"

echo "== 秦州区：农民工欠薪案件跨部门转介演示 / Qinzhou: a migrant workers' wage case across agencies =="

current="hotline call"
say "12348 热线来电：某住宅小区项目 23 名农民工被拖欠工资约 46 万元。" \
    "12348 hotline call: 23 migrant workers owed about 460,000 yuan on a housing project."

current="case open"
out="$(refctl "$JUSTICE" case open \
  --title "某住宅小区项目23名农民工欠薪" --matter wage_arrears \
  --channel hotline --area gansu/tianshui/qinzhou/yuquan \
  --project "秦州区某住宅小区二期" --amount 460000 --workers 23 \
  --respondent developer=某房地产开发有限公司 \
  --respondent general_contractor=某建筑工程有限公司 \
  --respondent subcontractor=某劳务分包有限公司 \
  --green)"
CASE="$(printf '%s\n' "$out" | field case_id)"
[ -n "$CASE" ] || { echo "demo: no case id in the answer to case open" >&2; exit 1; }
say "司法局（法律援助中心）走绿色通道立案 $CASE：23 名工人，被申请方为开发商、总包、分包，请求金额 460,000 元。" \
    "The justice bureau opens green-channel case $CASE: a group of 23 workers against the developer, general contractor and subcontractor, claiming 460,000 yuan."

current="refer to labour inspection"
out="$(refctl "$JUSTICE" refer "$CASE" --to "$LABOR" \
  --purpose "责令用人单位及总包单位支付拖欠工资" --priority green --due +1d \
  --attach "工资欠条=$work/iou.txt")"
expect_state "$out" REQUESTED
R_LABOR="$(printf '%s\n' "$out" | field referral_id)"
say "司法局将案件转介劳动保障监察（绿色通道，附工资欠条）：$R_LABOR。" \
    "The justice bureau refers it to labour inspection (green channel, the wage IOU attached): $R_LABOR."

current="refer to arbitration"
out="$(refctl "$JUSTICE" refer "$CASE" --to "$ARBITRATION" \
  --purpose "申请劳动争议仲裁" --priority green --due +3d)"
expect_state "$out" REQUESTED
R_ARB="$(printf '%s\n' "$out" | field referral_id)"
say "司法局同时转介劳动人事争议仲裁院：$R_ARB。" \
    "The justice bureau also refers it to labour dispute arbitration: $R_ARB."

current="labour inspection receives"
out="$(refctl "$LABOR" receive "$R_LABOR")"
expect_state "$out" RECEIVED
say "劳动保障监察签收转介。" "Labour inspection receives the referral."

current="labour inspection accepts"
out="$(refctl "$LABOR" accept "$R_LABOR" --note "绿色通道，当日受理")"
expect_state "$out" ACCEPTED
say "劳动保障监察当日受理。" "Labour inspection accepts it the same day."

current="labour inspection starts"
out="$(refctl "$LABOR" start "$R_LABOR")"
expect_state "$out" IN_PROGRESS
say "劳动保障监察立案查处，责令总包单位从工资专户支付。" \
    "Labour inspection starts: the general contractor is ordered to pay from the project wage account."

current="labour inspection completes"
out="$(refctl "$LABOR" complete "$R_LABOR" --outcome wages_recovered --amount 460000 \
  --note "总包单位已足额支付23名工人工资")"
expect_state "$out" COMPLETED
say "劳动保障监察办结：追回工资 460,000 元，结果回告司法局。" \
    "Labour inspection completes it: 460,000 yuan of wages recovered, reported back to the justice bureau."

current="arbitration receives"
out="$(refctl "$ARBITRATION" receive "$R_ARB")"
expect_state "$out" RECEIVED
say "仲裁院签收转介。" "Arbitration receives its referral."

current="arbitration returns"
out="$(refctl "$ARBITRATION" return "$R_ARB" \
  --missing 劳动合同复印件 --missing 考勤记录 --by +7d --note "请补充证据材料")"
expect_state "$out" RETURNED
say "仲裁院退回补正：缺劳动合同复印件、考勤记录。" \
    "Arbitration returns it for material: copies of the labour contracts and the attendance records are missing."

current="justice resubmits"
out="$(refctl "$JUSTICE" resubmit "$R_ARB" \
  --attach "劳动合同复印件=$work/contracts.txt" \
  --attach "考勤记录=$work/attendance.txt" --note "已补齐材料")"
expect_state "$out" REQUESTED
say "司法局补齐材料后重新提交（附件以 SHA-256 摘要标识）。" \
    "The justice bureau resubmits with the material attached (each identified by its SHA-256)."

current="trace"
say "案件全程轨迹（上海时间）：" "The case's whole timeline (Asia/Shanghai time):"
echo
"$REFCTL" --pki "$PKI_DIR" --referral "$REFERRAL" --node "$JUSTICE" trace "$CASE"
echo
echo "== 完成 / done: refctl --pki $PKI_DIR --node $JUSTICE case show $CASE =="
