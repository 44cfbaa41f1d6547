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
# The justice bureau then convenes a mediation meeting with the developer,
# the general contractor and the subcontractor; it ends in an agreement paid
# in two instalments, the second late (the deadlines service escalates it to
# labour inspection before the money arrives). Finally a worker injured on the
# site applies for legal aid through the green channel: the financial review
# is waived and a labour-law lawyer is assigned the same day, never the one
# whose last quality evaluation failed.
#
# Environment:
#   REFCTL           the refctl binary (default build/clients/refctl/refctl)
#   PKI_DIR          certificates, as tools/pki.sh makes them (default var/pki)
#   REFCTL_REFERRAL  the broker (default 127.0.0.1:50103); REFCTL_MEDIATION,
#                    REFCTL_LEGALAID, REFCTL_DEADLINES likewise (50104-50106)
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
HOUSING=qinzhou.housing
UNION=qinzhou.union

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

current="convene mediation"
start_at="$(TZ=Asia/Shanghai date -d '+2 days 09:30' '+%Y-%m-%d %H:%M')"
end_at="$(TZ=Asia/Shanghai date -d '+2 days 11:30' '+%Y-%m-%d %H:%M')"
out="$(refctl "$JUSTICE" meeting convene "$CASE" --kind mediation \
  --title "欠薪纠纷联合调解会" --start "$start_at" --end "$end_at" \
  --place "秦州区公共法律服务中心调解室" \
  --agenda "核实欠薪人数与金额" --agenda "明确各方责任" --agenda "商定支付方案" \
  --invite-node "$LABOR" --invite-node "$HOUSING" --invite-node "$UNION" \
  --invite-party "developer:某房地产开发有限公司" \
  --invite-party "general_contractor:某建筑工程有限公司" \
  --invite-party "subcontractor:某劳务分包有限公司" \
  --invite-party "worker_representative:工人代表")"
MEETING="$(printf '%s\n' "$out" | field meeting_id)"
[ -n "$MEETING" ] || { echo "demo: no meeting id in the answer to meeting convene" >&2; exit 1; }
say "司法局召集调解会 $MEETING：邀请劳动监察、住建局、工会，以及开发商、总包、分包和工人代表。" \
    "The justice bureau convenes mediation meeting $MEETING with labour inspection, housing, the union, the developer, general contractor, subcontractor and the workers' representative."

current="invitees answer"
refctl "$LABOR" meeting answer "$MEETING" accept >/dev/null
refctl "$HOUSING" meeting answer "$MEETING" accept >/dev/null
refctl "$UNION" meeting answer "$MEETING" accept --note "派律师参加" >/dev/null
say "劳动监察、住建局、工会确认参会。" "Labour inspection, housing and the union accept."

current="meeting held"
refctl "$JUSTICE" meeting held "$MEETING" --attended i1,i2,i3,i4,i5,i6,i7 \
  --minutes "各方确认拖欠23名工人工资460,000元；总包单位同意先行清偿。" >/dev/null
refctl "$JUSTICE" meeting liability "$MEETING" \
  --finding "某建筑工程有限公司:460000:《保障农民工工资支付条例》第三十条 总承包单位先行清偿" \
  --finding "某劳务分包有限公司:0:直接用工单位，配合核算工资" >/dev/null
say "调解会召开：记录出席与纪要，责任分析——总包单位先行清偿。" \
    "The meeting is held: attendance and minutes recorded; liability analysis: the general contractor pays first."

current="agreement"
# The first instalment falls due in a few seconds, so the demo can show a
# late one being escalated; the second a month on.
first_due="$(date -d '+6 seconds' '+%Y-%m-%dT%H:%M:%S%:z')"
second_due="$(TZ=Asia/Shanghai date -d '+30 days 17:30' '+%Y-%m-%d %H:%M')"
out="$(refctl "$JUSTICE" meeting agree "$MEETING" \
  --terms "总包单位分两期支付拖欠工资，开发商承担连带担保责任" --total 460000 \
  --instalment "300000@$first_due@某建筑工程有限公司" \
  --instalment "160000@$second_due@某建筑工程有限公司" \
  --guarantor 某房地产开发有限公司 --fallback "$LABOR")"
say "达成调解协议：460,000 元分两期支付（300,000 + 160,000），开发商担保，逾期转劳动监察。" \
    "Agreement: 460,000 yuan in two instalments (300,000 + 160,000), guaranteed by the developer; a missed one goes to labour inspection."

current="first instalment missed"
missed=""
for _ in $(seq 1 60); do
  if refctl "$JUSTICE" meeting show "$MEETING" | grep -q INSTALMENT_STATE_MISSED; then
    missed=1
    break
  fi
  sleep 0.5
done
[ -n "$missed" ] || { echo "demo: the first instalment was not marked missed: is the deadlines service running?" >&2; exit 1; }
say "第一期到期未付：时限服务记录超期，并督办转劳动保障监察。" \
    "The first instalment falls due unpaid: the deadlines service records the breach and escalates to labour inspection."

current="first instalment paid late"
refctl "$JUSTICE" meeting pay "$MEETING" --instalment 1 --amount 300000 \
  --reference "银行回单 0001" >/dev/null
say "第一期 300,000 元逾期后支付（记为逾期履行）。" \
    "The first instalment, 300,000 yuan, is paid late (recorded as paid late)."

current="second instalment"
refctl "$JUSTICE" meeting pay "$MEETING" --instalment 2 --amount 160000 \
  --reference "银行回单 0002" >/dev/null
say "第二期 160,000 元按期支付，协议履行完毕。" \
    "The second instalment, 160,000 yuan, is paid on time: the agreement is performed."

current="lawyer roster"
refctl "$JUSTICE" lawyer enrol L-001 --name "王律师" --firm "甘肃某律师事务所" \
  --specialty wage_arrears --specialty work_injury --capacity 5 >/dev/null
refctl "$JUSTICE" lawyer enrol L-002 --name "李律师" --firm "天水某律师事务所" \
  --specialty wage_arrears --specialty work_injury --capacity 5 >/dev/null
refctl "$JUSTICE" lawyer evaluate L-001 --kind expert --score 52 --failed \
  --note "案卷评估不合格" >/dev/null
refctl "$JUSTICE" lawyer evaluate L-002 --kind follow-up --score 93 --passed \
  --note "受援人回访满意" >/dev/null
say "法律援助律师库：王律师最近一次质量评估不合格，李律师回访满意。" \
    "The lawyer roster: Wang's latest quality evaluation failed; Li's follow-up with the aided worker was good."

current="legal aid application"
out="$(refctl "$JUSTICE" legalaid apply "$CASE" --channel hotline \
  --applicant "工人代表" --matter work_injury --migrant-worker \
  --summary "工地受伤，请求工伤赔偿")"
APP="$(printf '%s\n' "$out" | field application_id)"
[ -n "$APP" ] || { echo "demo: no application id in the answer to legalaid apply" >&2; exit 1; }
say "一名受伤工人经 12348 热线申请法律援助 $APP：农民工工伤赔偿，免于经济困难审查，走绿色通道。" \
    "An injured worker applies for legal aid by the 12348 hotline, $APP: a migrant worker's work-injury claim, financial review waived, green channel."

current="legal aid review and assignment"
refctl "$JUSTICE" legalaid review "$APP" --approve >/dev/null
out="$(refctl "$JUSTICE" legalaid assign "$APP")"
if ! printf '%s\n' "$out" | grep -q 'L-002'; then
  echo "demo: expected lawyer L-002 to be assigned:" >&2
  printf '%s\n' "$out" >&2
  exit 1
fi
say "当天审查、当天指派：李律师（L-002）承办；评估不合格的王律师不予指派。" \
    "Reviewed and assigned the same day: Li (L-002) takes it; Wang, whose evaluation failed, is not assigned."

current="trace"
say "案件全程轨迹（上海时间）：" "The case's whole timeline (Asia/Shanghai time):"
echo
"$REFCTL" --pki "$PKI_DIR" --referral "$REFERRAL" --node "$JUSTICE" trace "$CASE"
echo
echo "== 完成 / done: refctl --pki $PKI_DIR --node $JUSTICE case show $CASE =="
