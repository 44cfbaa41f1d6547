# shellcheck shell=bash
# What every end-to-end script needs around its checks: a work directory
# that is cleaned up with every service it started, refctl isolated from the
# user's saved context and REFCTL_* environment, and services started on
# loopback ports and waited for.
#
#   source "$ROOT/tests/integration/e2e_lib.sh"
#   e2e_init NAME          work dir "$work", cleanup on EXIT
#   fail MSG / pass MSG    the first failure exits 1 with the services' log tails
#   expect_in TEXT NEEDLE WHAT / expect_not_in TEXT NEEDLE WHAT
#   start NAME LISTEN CMD...  sets PORT and NAME_pid
#   healthy ADDR REFCTL_FLAGS...
#   tls ID                 the service flags for ID's certificate under $PKI
#
# The caller sets REFCTL (the refctl binary) before healthy, PKI before tls,
# and E2E_LOG_TAIL (lines of each log on failure, 20 by default) if it wants.

# e2e_init NAME: a fresh work directory under ${TMPDIR:-/tmp} in $work; on
# exit every started pid is sent TERM and waited for, and the directory is
# removed unless KEEP_E2E_DIR is set (then its path is printed).
e2e_init() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  pids=()
  trap e2e_cleanup EXIT
  # The user's saved context and environment must not leak into the test.
  export REFCTL_CONTEXT="$work/no-context.json"
  unset REFCTL_NODE REFCTL_REFERRAL REFCTL_CASELOG REFCTL_DIRECTORY REFCTL_PKI \
    REFCTL_PLAINTEXT REFCTL_MEDIATION REFCTL_LEGALAID REFCTL_DEADLINES
}

e2e_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP_E2E_DIR:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}

fail() {
  local log
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do
    [ -f "$log" ] || continue
    echo "--- $log" >&2
    tail -n "${E2E_LOG_TAIL:-20}" "$log" >&2
  done
  exit 1
}
pass() { echo "ok: $*"; }

# expect_in TEXT NEEDLE WHAT
expect_in() {
  case "$1" in
    *"$2"*) ;;
    *) fail "$3: expected \"$2\" in:"$'\n'"$1" ;;
  esac
}

# expect_not_in TEXT NEEDLE WHAT
expect_not_in() {
  case "$1" in
    *"$2"*) fail "$3: did not expect \"$2\" in:"$'\n'"$1" ;;
    *) ;;
  esac
}

# start NAME LISTEN CMD...: runs CMD --listen=LISTEN, logging to
# $work/NAME.log, and waits for its port file; sets PORT and NAME_pid. Give
# LISTEN 127.0.0.1:0 for a free port, or an old address to restart there.
start() {
  local name="$1" listen="$2" pid
  shift 2
  rm -f "$work/$name.port"
  "$@" --listen="$listen" --port_file="$work/$name.port" >>"$work/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  printf -v "${name}_pid" '%s' "$pid"
  for _ in $(seq 1 200); do
    [ -s "$work/$name.port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "$name exited at start"
    sleep 0.05
  done
  [ -s "$work/$name.port" ] || fail "$name wrote no port file"
  # shellcheck disable=SC2034  # PORT is read by the caller
  PORT="$(cat "$work/$name.port")"
}

# healthy ADDR REFCTL_FLAGS...: waits until the gRPC service at ADDR answers
# SERVING to refctl with those flags (e.g. --pki "$PKI" --node caselog).
healthy() {
  local addr="$1"
  shift
  for _ in $(seq 1 100); do
    if "$REFCTL" "$@" --timeout=1s health --addr="$addr" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "the service at $addr did not become healthy"
}

# tls ID: the --tls_* flags of ID's certificate from tools/pki.sh under $PKI;
# used unquoted, $(tls ID), so that it splits into its three flags.
tls() { echo "--tls_ca=$PKI/ca.pem --tls_cert=$PKI/$1.pem --tls_key=$PKI/$1.key"; }
