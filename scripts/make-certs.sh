#!/usr/bin/env bash
# Makes certificates for development and tests (never for production: the CA keys sit next to
# the certificates, unprotected). Needs the openssl command.
#
#   scripts/make-certs.sh DIR [NODES]
#
# Writes into DIR (created if missing), every key an unencrypted PKCS#8 ECDSA P-256 key:
#   ca.pem ca-key.pem                  a CA for the client-facing gateway port
#   server.pem server-key.pem          the gateway's certificate (localhost, 127.0.0.1, ::1)
#   client.pem client-key.pem          a client certificate for --tls-client-ca (mutual TLS)
#   cluster-ca.pem cluster-ca-key.pem  the cluster CA, for --cluster-tls-ca
#   node-<i>.pem node-<i>-key.pem      one per broker, i = 0 .. NODES-1 (default 3), CN tern-node-<i>
#   gateway.pem gateway-key.pem        for a standalone tern-gateway calling the brokers, CN tern-gateway
# Server and node certificates name localhost, 127.0.0.1 and ::1, plus the DNS names in
# $TERN_CERT_HOSTS (comma-separated, e.g. "tern-broker-0.tern,tern-gateway"): a client checks
# that the certificate names the host it called.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 DIR [NODES]" >&2
  exit 2
fi
dir=$1
nodes=${2:-3}
days=${TERN_CERT_DAYS:-365}
mkdir -p "$dir"
umask 077

names="DNS:localhost,IP:127.0.0.1,IP:::1"
if [[ -n "${TERN_CERT_HOSTS:-}" ]]; then
  IFS=',' read -ra extra <<<"$TERN_CERT_HOSTS"
  for host in "${extra[@]}"; do names+=",DNS:$host"; done
fi

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# new_ca NAME SUBJECT
new_ca() {
  new_key "$dir/$1-key.pem"
  openssl req -x509 -new -key "$dir/$1-key.pem" -sha256 -days "$days" -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/$1.pem"
}

# new_cert NAME CA SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
new_cert() {
  local name=$1 ca=$2 subject=$3 usage=$4 alt=${5:-}
  new_key "$dir/$name-key.pem"
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyAgreement"
    echo "extendedKeyUsage=$usage"
    if [[ -n "$alt" ]]; then echo "subjectAltName=$alt"; fi
  } >"$ext"
  openssl req -new -key "$dir/$name-key.pem" -subj "$subject" -out "$dir/$name.csr"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca-key.pem" \
    -CAcreateserial -sha256 -days "$days" -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr" "$ext"
}

new_ca ca "/O=Tern development/CN=Tern development CA"
new_cert server ca "/O=Tern development/CN=localhost" serverAuth "$names"
new_cert client ca "/O=Tern development/CN=tern-client" clientAuth

new_ca cluster-ca "/O=Tern development/CN=Tern development cluster CA"
for ((i = 0; i < nodes; i++)); do
  # A broker's certificate serves its cluster port and identifies it when it calls its peers.
  new_cert "node-$i" cluster-ca "/O=Tern development/CN=tern-node-$i" serverAuth,clientAuth "$names"
done
new_cert gateway cluster-ca "/O=Tern development/CN=tern-gateway" serverAuth,clientAuth "$names"
rm -f "$dir"/*.srl
# Certificates are public; keys stay private to the user (umask 077 above).
chmod 644 "$dir"/ca.pem "$dir"/server.pem "$dir"/client.pem "$dir"/cluster-ca.pem \
  "$dir"/node-*[0-9].pem "$dir"/gateway.pem
echo "certificates in $dir"
