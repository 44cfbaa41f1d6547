#!/usr/bin/env bash
# pki.sh DIR [IDENTITY...]
#
# Creates a local development CA (DIR/ca.pem, DIR/ca.key: ECDSA P-256, ten
# years) and, for each identity, a key and a certificate signed by it
# (DIR/<id>.pem, DIR/<id>.key) whose common name is the identity: a node name
# such as qinzhou.justice, or a service (caselog, directory, referral). Every
# certificate also names localhost and 127.0.0.1 and allows both serverAuth
# and clientAuth, so one file can serve on loopback and identify a client.
#
# Without identities: every `name = "..."` of services/directory/qinzhou.toml
# and the services caselog, directory, referral, mediation, legalaid,
# deadlines, plus `operator`: the one non-service identity the case log
# admits, for refctl's low-level `log` commands.
#
# Idempotent: what exists and still verifies against DIR/ca.pem is kept, so a
# second run changes nothing; a missing, expired or foreign certificate is
# made again. Keys are 0600, DIR is 0700. Quiet on success; on failure says
# what failed, with openssl's own message, and exits non-zero.
#
# For development and tests only (./dev up uses var/pki). Never commit DIR.
set -euo pipefail

die() { echo "pki.sh: $*" >&2; exit 1; }

if [ "$#" -lt 1 ] || [ -z "$1" ]; then die "usage: pki.sh DIR [IDENTITY...]"; fi
dir="$1"
shift
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "$#" -eq 0 ]; then
  directory="$root/services/directory/qinzhou.toml"
  [ -r "$directory" ] || die "cannot read $directory (the default node list)"
  mapfile -t ids < <(sed -n 's/^[[:space:]]*name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$directory")
  [ "${#ids[@]}" -gt 0 ] || die "no name = \"...\" lines in $directory"
  ids+=(caselog directory referral mediation legalaid deadlines operator)
else
  ids=("$@")
fi

# Same rule as storage::ValidateNodeName, and "ca" would overwrite the CA.
for id in "${ids[@]}"; do
  case "$id" in
    ca) die "\"ca\" is reserved for the CA's own files" ;;
    [a-z0-9]*) ;;
    *) die "\"$id\" is not a node or service name (a-z, 0-9, '.', '_', '-'; starts with a letter or digit)" ;;
  esac
  case "$id" in
    *[!a-z0-9._-]*) die "\"$id\" is not a node or service name (a-z, 0-9, '.', '_', '-'; starts with a letter or digit)" ;;
  esac
  # X.509 limits a common name to 64 characters.
  [ "${#id}" -le 64 ] || die "\"$id\" is longer than the 64 characters a certificate name may have"
done

command -v openssl >/dev/null || die "openssl is needed (apt-get install openssl)"

mkdir -p "$dir" 2>/dev/null || die "cannot create the directory $dir"
chmod 700 "$dir"
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run WHAT COMMAND...: runs quietly; on failure prints WHAT and openssl's output.
run() {
  local what="$1"
  shift
  if ! "$@" >"$work/out" 2>&1; then
    echo "pki.sh: cannot $what:" >&2
    sed 's/^/  /' "$work/out" >&2
    exit 1
  fi
}

# A minimal openssl config, so the result does not depend on the system's
# openssl.cnf defaults.
cat >"$work/req.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
EOF

subject_org="/O=Referral broker (development)"

if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca.key" ]; then
  run "create the CA key" openssl genpkey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$work/ca.key"
  run "create the CA certificate" openssl req -config "$work/req.cnf" -x509 -new \
    -key "$work/ca.key" -sha256 -days 3650 \
    -subj "$subject_org/CN=Referral broker development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$work/ca.pem"
  # Key first: a run interrupted between the two moves redoes the CA.
  mv -f "$work/ca.key" "$dir/ca.key"
  mv -f "$work/ca.pem" "$dir/ca.pem"
  chmod 644 "$dir/ca.pem"
fi

for id in "${ids[@]}"; do
  if [ -s "$dir/$id.key" ] && [ -s "$dir/$id.pem" ] &&
     openssl verify -CAfile "$dir/ca.pem" "$dir/$id.pem" >/dev/null 2>&1; then
    continue
  fi
  run "create the key of $id" openssl genpkey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$work/$id.key"
  run "create the certificate request of $id" openssl req -config "$work/req.cnf" -new \
    -key "$work/$id.key" -subj "$subject_org/CN=$id" -out "$work/$id.csr"
  cat >"$work/$id.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:$id,DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  run "sign the certificate of $id" openssl x509 -req -in "$work/$id.csr" \
    -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 825 -sha256 -extfile "$work/$id.ext" -out "$work/$id.pem"
  mv -f "$work/$id.key" "$dir/$id.key"
  mv -f "$work/$id.pem" "$dir/$id.pem"
  chmod 644 "$dir/$id.pem"
done
chmod 600 "$dir"/*.key
