#!/usr/bin/env bash
# Makes a development PKI for etserver / etclient mutual TLS (SPEC §6):
#   ca.pem, ca.key          a self-signed dev CA (10 years)
#   server.pem, server.key  signed by the CA; SANs IP:127.0.0.1 and DNS:localhost
#   client.pem, client.key  signed by the CA; extendedKeyUsage clientAuth
# Usage: certs/make-certs.sh [OUTPUT_DIR]   (default: the directory of this script)
# Keys are EC P-256 and never committed (.gitignore). Re-running overwrites the files.
set -euo pipefail

out="${1:-$(cd "$(dirname "$0")" && pwd)}"
days="${CERT_DAYS:-3650}"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

command -v openssl >/dev/null || { echo "make-certs: openssl not found" >&2; exit 1; }

# CA
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/ca.key" 2>/dev/null
openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" -subj "/CN=dora dev CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$out/ca.pem"

# issue NAME CN EXTENSIONS: a key and a certificate signed by the CA
issue() {
  local name="$1" cn="$2" ext="$3"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$name.key" 2>/dev/null
  openssl req -new -key "$out/$name.key" -subj "/CN=$cn" -out "$tmp/$name.csr"
  printf '%s\n' "$ext" > "$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/$name.ext" -out "$out/$name.pem" 2>/dev/null
}

issue server localhost "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"

issue client "etclient" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

chmod 600 "$out"/*.key
openssl verify -CAfile "$out/ca.pem" "$out/server.pem" "$out/client.pem" >/dev/null
echo "make-certs: wrote ca.pem, server.pem/.key, client.pem/.key to $out"
