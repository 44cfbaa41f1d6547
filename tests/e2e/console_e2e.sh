#!/usr/bin/env bash
# shellcheck disable=SC2046  # $(tls NAME) splits into its flags on purpose
# The web console end to end, as a person sees it: the real caselog,
# directory, referral (and mediation and deadlines when built) and gateway
# executables on loopback ports with mTLS certificates from tools/pki.sh; a
# case seeded with refctl (opened by the justice bureau, referred to labour
# inspection, with a worker's ID number, and 21 more of the bureau's own to
# page through); then console.spec.mjs drives Debian's Chromium headless with
# npm's playwright-core (never a downloaded browser) through the inbox, the
# case page with its timeline picture, the case search, the dashboard, and a
# node that is not party to the case (which must see the 403, not the case).
#
# Usage: console_e2e.sh REFCTL CASELOG DIRECTORY REFERRAL GATEWAY
#                       [--mediation=BIN] [--deadlines=BIN]
# Exits 77 (skipped) only when /usr/bin/chromium is missing.
set -euo pipefail

[ "$#" -ge 5 ] || { echo "usage: $0 REFCTL CASELOG DIRECTORY REFERRAL GATEWAY [--mediation=BIN] [--deadlines=BIN]" >&2; exit 2; }
REFCTL="$1" CASELOG_BIN="$2" DIRECTORY_BIN="$3" REFERRAL_BIN="$4" GATEWAY_BIN="$5"
shift 5
MEDIATION_BIN="" DEADLINES_BIN=""
for arg in "$@"; do
  case "$arg" in
    --mediation=*) MEDIATION_BIN="${arg#*=}" ;;
    --deadlines=*) DEADLINES_BIN="${arg#*=}" ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "SKIP: $CHROMIUM is missing (apt-get install chromium, or ./dev build)"
  exit 77
fi
if [ ! -f "$ROOT/tools/node_modules/playwright-core/package.json" ]; then
  echo "FAIL: playwright-core is not installed: cd tools && npm ci (./dev build does it)" >&2
  exit 1
fi

# shellcheck source-path=SCRIPTDIR/../.. source=tests/integration/e2e_lib.sh
source "$ROOT/tests/integration/e2e_lib.sh"
e2e_init console_e2e

JUSTICE=qinzhou.justice
LABOR=qinzhou.labor-inspection
HOUSING=qinzhou.housing
PKI="$work/pki"
"$ROOT/tools/pki.sh" "$PKI" caselog directory referral mediation deadlines \
  "$JUSTICE" "$LABOR" "$HOUSING"

start caselog 127.0.0.1:0 "$CASELOG_BIN" --data_dir="$work/caselog" $(tls caselog)
CASELOG="127.0.0.1:$PORT"
start directory 127.0.0.1:0 "$DIRECTORY_BIN" --config="$ROOT/services/directory/qinzhou.toml" $(tls directory)
DIRECTORY="127.0.0.1:$PORT"
start referral 127.0.0.1:0 "$REFERRAL_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" $(tls referral)
REFERRAL="127.0.0.1:$PORT"
MEDIATION="" DEADLINES=""
if [ -n "$MEDIATION_BIN" ]; then
  start mediation 127.0.0.1:0 "$MEDIATION_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" $(tls mediation)
  MEDIATION="127.0.0.1:$PORT"
fi
if [ -n "$DEADLINES_BIN" ]; then
  start deadlines 127.0.0.1:0 "$DEADLINES_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" $(tls deadlines)
  DEADLINES="127.0.0.1:$PORT"
fi
for addr in "$CASELOG" "$DIRECTORY" "$REFERRAL" $MEDIATION $DEADLINES; do
  healthy "$addr" --pki "$PKI" --node "$JUSTICE"
done
pass "services up: referral $REFERRAL, mediation ${MEDIATION:-none}, deadlines ${DEADLINES:-none}"

# The gateway refuses to listen beyond the loopback, and says why.
rc=0
out="$("$GATEWAY_BIN" --listen=0.0.0.0:0 --pki="$PKI" 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "the gateway listened on 0.0.0.0"
case "$out" in *loopback*) ;; *) fail "no reason given for refusing 0.0.0.0: $out" ;; esac
pass "--listen=0.0.0.0 refused: loopback only"

# Every node certificate in the folder (justice, labour inspection, housing).
start gateway 127.0.0.1:0 "$GATEWAY_BIN" --pki="$PKI" --referral="$REFERRAL" --directory="$DIRECTORY" \
  --mediation="$MEDIATION" --deadlines="$DEADLINES"
GATEWAY="http://127.0.0.1:$PORT/"
for _ in $(seq 1 100); do
  curl -fsS "${GATEWAY}healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "${GATEWAY}healthz" >/dev/null || fail "the gateway does not answer at $GATEWAY"

# A page of another site reaching the console through a name that resolves to
# 127.0.0.1 (DNS rebinding) is refused.
code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: console.example.com' "${GATEWAY}api/v1/nodes")"
[ "$code" = 403 ] || fail "a foreign Host header got $code, want 403"
code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example.com' \
  -H "X-Referral-Node: $LABOR" "${GATEWAY}api/v1/inbox")"
[ "$code" = 403 ] || fail "a foreign Origin got $code, want 403"
pass "gateway at $GATEWAY; foreign Host and Origin refused"

# The scene: the justice bureau opens a green-channel case (23 workers, one
# of them named with his ID number) and refers it to labour inspection.
WORKER_ID=620502199003071610
R=(--pki "$PKI" --referral "$REFERRAL" --node "$JUSTICE" -o json)
out="$("$REFCTL" "${R[@]}" case open --title "某住宅小区项目农民工欠薪" --matter wage_arrears \
  --channel hotline --amount 460000 --workers 23 --claimant "张三:13912345678:$WORKER_ID" \
  --project "玉泉花园二期" --respondent general_contractor=某建筑工程有限公司 --green)" ||
  fail "case open: $out"
CASE="$(printf '%s\n' "$out" | sed -n 's/.*"case_id": "\([^"]*\)".*/\1/p' | head -n 1)"
[ -n "$CASE" ] || fail "no case id in: $out"
out="$("$REFCTL" "${R[@]}" refer "$CASE" --to "$LABOR" --purpose "责令支付拖欠工资" \
  --priority green)" || fail "refer: $out"
REF="$(printf '%s\n' "$out" | sed -n 's/.*"referral_id": "\([^"]*\)".*/\1/p' | head -n 1)"
[ -n "$REF" ] || fail "no referral id in: $out"
# More than one page (20) of the bureau's own cases, none referred.
for i in $(seq 1 21); do
  out="$("$REFCTL" "${R[@]}" case open --title "秦州花园欠薪 $i" --matter wage_arrears \
    --workers 3 --project "秦州花园")" || fail "case open $i: $out"
done
pass "seeded $CASE with $REF to $LABOR, and 21 more cases of $JUSTICE"

GATEWAY_URL="$GATEWAY" CASE_ID="$CASE" REFERRAL_ID="$REF" WORKER_ID="$WORKER_ID" \
  HAS_MEDIATION="${MEDIATION:+1}" HAS_DEADLINES="${DEADLINES:+1}" \
  ARTIFACT_DIR="${CONSOLE_E2E_ARTIFACTS:-$work}" CHROMIUM="$CHROMIUM" \
  node "$ROOT/tests/e2e/console.spec.mjs" || fail "the browser test failed (above)"
echo "PASS"
