#!/usr/bin/env bash
# shellcheck disable=SC2046  # $(tls NAME) splits into its flags on purpose
# refctl's search, investigator traces and the audit against the real
# caselog, directory and referral executables with mTLS, the referral
# service started with --access config/access.toml and a --search_key file:
#   - case open --claimant "NAME:CONTACT:ID_NUMBER" keeps the worker's ID
#     number; a wrong check digit is refused saying so;
#   - the owner sees it in clear, an addressee that has not accepted masked;
#   - search by ID number, by worker and page by page with the printed
#     next-page command;
#   - an investigator traces with --purpose (refused without one) and
#     searches every case; the auditor reads the record, nobody else does;
#   - the referral service refuses a bad --access or --search_key at start.
#
# Usage: refctl_privacy_e2e.sh REFCTL CASELOG DIRECTORY REFERRAL
set -euo pipefail

[ "$#" -eq 4 ] || { echo "usage: $0 REFCTL CASELOG DIRECTORY REFERRAL" >&2; exit 2; }
REFCTL="$1" CASELOG_BIN="$2" DIRECTORY_BIN="$3" REFERRAL_BIN="$4"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# shellcheck source-path=SCRIPTDIR/../.. source=tests/integration/e2e_lib.sh
source "$ROOT/tests/integration/e2e_lib.sh"
e2e_init refctl_privacy_e2e

PKI="$work/pki"
"$ROOT/tools/pki.sh" "$PKI" caselog directory referral qinzhou.justice \
  qinzhou.labor-inspection qinzhou.procuratorate qinzhou.discipline
WORKER_ID=620502199003071610
MASKED_ID='620*************10'

# A bad configuration stops the service at start, saying where.
printf 'investigators = ["qinzhou.procuratorate"]\nauditors = ["qinzhou.procuratorate"]\n' \
  >"$work/both.toml"
rc=0; out="$("$REFERRAL_BIN" --access="$work/both.toml" --plaintext 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "referral started with an investigator that audits itself"
expect_in "$out" "both.toml:2:" "bad --access names file and line"
printf 'short' >"$work/short.key"
rc=0; out="$("$REFERRAL_BIN" --search_key="$work/short.key" --plaintext 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "referral started with a 5-byte search key"
expect_in "$out" "at least 32" "short --search_key"
pass "bad --access and --search_key refused at start"

mkdir -p "$work/secrets"
head -c 32 /dev/urandom >"$work/secrets/search.key"
start caselog 127.0.0.1:0 "$CASELOG_BIN" --data_dir="$work/caselog" $(tls caselog)
CASELOG="127.0.0.1:$PORT"
start directory 127.0.0.1:0 "$DIRECTORY_BIN" \
  --config="$ROOT/services/directory/qinzhou.toml" $(tls directory)
DIRECTORY="127.0.0.1:$PORT"
start referral 127.0.0.1:0 "$REFERRAL_BIN" --caselog="$CASELOG" --directory="$DIRECTORY" \
  --access="$ROOT/config/access.toml" --search_key="$work/secrets/search.key" $(tls referral)
REFERRAL="127.0.0.1:$PORT"
healthy "$REFERRAL" --pki "$PKI" --node referral
pass "services up with mTLS, investigators from config/access.toml"

as() { local node="$1"; shift; "$REFCTL" --pki "$PKI" --referral "$REFERRAL" --node "$node" "$@"; }

# ------------------------------------------------------------------ intake
rc=0; out="$(as qinzhou.justice case open --title "欠薪" --matter wage_arrears \
  --claimant "张三:13912345678:620502199003071611" 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "a wrong check digit was accepted"
expect_in "$out" "check digit" "bad ID number"
expect_in "$out" "parties[0].id_number" "bad ID number names the field"
out="$(as qinzhou.justice -o json case open --title "张三等欠薪" --matter wage_arrears \
  --project "玉泉花园二期" --workers 23 --claimant "张三:13912345678:$WORKER_ID")"
CASE="$(printf '%s\n' "$out" | sed -n 's/.*"case_id": "\([^"]*\)".*/\1/p' | head -n 1)"
[ -n "$CASE" ] || fail "no case id: $out"
expect_in "$out" "\"id_number\": \"$WORKER_ID\"" "case open keeps the ID number"
expect_in "$out" '"name": "23名农民工"' "case open: the group and the worker"
out="$(as qinzhou.justice case show "$CASE")"
expect_in "$out" "张三  13912345678  身份证 $WORKER_ID" "owner sees it in clear"
as qinzhou.justice refer "$CASE" --to qinzhou.labor-inspection --purpose "责令支付工资" >/dev/null
out="$(as qinzhou.labor-inspection case show "$CASE")"
expect_in "$out" "139****5678  身份证 $MASKED_ID" "addressee not working yet sees it masked"
expect_not_in "$out" "$WORKER_ID" "addressee sees no clear ID"
pass "case open --claimant NAME:CONTACT:ID, clear for the owner, masked for the addressee"

# ------------------------------------------------------------------ search
for i in 1 2; do
  as qinzhou.justice case open --title "欠薪 $i" --matter wage_arrears --workers 3 >/dev/null
done
out="$(as qinzhou.justice search --id-number "$WORKER_ID")"
expect_in "$out" "$CASE" "search by ID number"
expect_in "$out" "张三 $MASKED_ID" "search results masked"
expect_in "$out" "1 case" "search by ID number: one"
out="$(as qinzhou.justice search --worker 张)"
expect_in "$out" "$CASE" "search by worker name prefix"
seen=""
out="$(as qinzhou.justice search --matter wage_arrears --limit 1)"
for page in 1 2 3; do
  id="$(printf '%s\n' "$out" | grep -o 'qinzhou\.justice:[0-9]*-[0-9]*' | head -n 1)"
  [ -n "$id" ] || fail "page $page: no case: $out"
  case " $seen " in *" $id "*) fail "page $page repeats $id" ;; esac
  seen="$seen $id"
  next="$(printf '%s\n' "$out" | sed -n 's/^next page: refctl //p')"
  if [ "$page" -lt 3 ]; then
    [ -n "$next" ] || fail "page $page printed no next-page command: $out"
    expect_in "$next" "--matter wage_arrears --limit 1 --page" "next-page command"
    # shellcheck disable=SC2086  # the printed command, as a person would paste it
    out="$(eval as qinzhou.justice $next)"
  else
    [ -z "$next" ] || fail "the last page printed a next page: $out"
  fi
done
out="$(as qinzhou.labor-inspection search)"
expect_in "$out" "1 case" "labour inspection finds only the case referred to it"
pass "search by ID number, by name, three pages by the printed command"

# ------------------------------------------------------------------ investigators
rc=0; out="$(as qinzhou.procuratorate trace "$CASE" 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "an investigator traced without a purpose"
expect_in "$out" "purpose" "trace without --purpose"
out="$(as qinzhou.procuratorate trace "$CASE" --purpose "秦检民监〔2026〕17号")"
expect_in "$out" "立案" "investigator trace"
out="$(as qinzhou.procuratorate search --purpose "秦检民监〔2026〕17号")"
expect_in "$out" "3 cases (recorded for the auditors)" "investigator search of every case"
out="$(as qinzhou.procuratorate search)"
expect_in "$out" "0 cases" "investigator without a purpose: its own cases only"
pass "investigators trace and search with --purpose only"

# ------------------------------------------------------------------ audit
out="$(as qinzhou.discipline audit --case "$CASE")"
expect_in "$out" "调查调阅 CaseTracedByInvestigator" "audit --case: the trace"
expect_in "$out" "qinzhou.procuratorate 查阅 contact、id_number · 调查机关 · TraceCase" \
  "audit --case: the read of personal data"
expect_in "$out" "qinzhou.justice 查阅" "audit --case: the owner's clear read"
out="$(as qinzhou.discipline -o json audit --accessor qinzhou.procuratorate)"
expect_in "$out" '"cases_searched_by_investigator"' "audit --accessor -o json: the search"
expect_not_in "$out" "$WORKER_ID" "audit record holds no ID number"
rc=0; out="$(as qinzhou.procuratorate audit --case "$CASE" 2>&1)" || rc=$?
[ "$rc" -ne 0 ] || fail "an investigator read the audit"
expect_in "$out" "NOT_ALLOWED_FOR_ROLE" "investigator reading the audit"
expect_in "$out" "qinzhou.discipline" "the refusal names the auditors"
out="$(as qinzhou.justice trace "$CASE")"
expect_not_in "$out" "qinzhou.procuratorate" "the owner's trace shows no investigation"
pass "auditor reads by case and by accessor; investigators and parties do not"
