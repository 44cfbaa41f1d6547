#!/usr/bin/env bash
# pki.sh DIR [IDENTITY...]
#
# Creates, once, a local development CA (DIR/ca.pem, DIR/ca.key) and for each
# identity a key and a certificate signed by it (DIR/<id>.pem, DIR/<id>.key)
# whose common name is the identity: a node name such as qinzhou.justice, or
# a service (caselog, directory, referral). Each certificate also names
# localhost and 127.0.0.1, so it can serve on loopback as well as identify a
# client. Without identities: every node of services/directory/qinzhou.toml
# and the services. Existing files are kept. Never commit DIR.
set -euo pipefail

dir="${1:?usage: pki.sh DIR [IDENTITY...]}"
shift
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$#" -eq 0 ]; then
  mapfile -t ids < <(sed -n 's/^name *= *"\([^"]*\)".*/\1/p' "$root/services/directory/qinzhou.toml")
  ids+=(caselog directory referral)
else
  ids=("$@")
fi

command -v openssl >/dev/null || { echo "pki.sh: openssl is needed (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
umask 077

if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
    -subj "/O=Referral broker (development)/CN=Referral broker dev CA" \
    -out "$dir/ca.pem" 2>/dev/null
fi

for id in "${ids[@]}"; do
  case "$id" in
    *[!a-z0-9._-]*|"") echo "pki.sh: \"$id\" is not a node or service name" >&2; exit 1 ;;
  esac
  [ -f "$dir/$id.pem" ] && [ -f "$dir/$id.key" ] && continue
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$id.key" 2>/dev/null
  ext="$(mktemp)"
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\nbasicConstraints=CA:FALSE\n' "$id" >"$ext"
  openssl req -new -key "$dir/$id.key" -subj "/O=Referral broker (development)/CN=$id" 2>/dev/null |
    openssl x509 -req -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
      -days 825 -sha256 -extfile "$ext" -out "$dir/$id.pem" 2>/dev/null
  rm -f "$ext"
done
chmod 600 "$dir"/*.key
