#!/bin/bash
# make-test-certs.sh DIR
#
# A throwaway certificate authority and one server certificate signed by it, for TLS
# tests on loopback. Writes (and overwrites) in DIR:
#   ca.pem                    the CA certificate: what a client's CA file points at
#   server.pem, server.key    the server's certificate and its unencrypted key
#   client.pem, client.key    a client certificate (CN=root, extendedKeyUsage clientAuth) and
#                             its unencrypted key, for servers that require mutual TLS
# The server certificate names localhost, *.localhost, s3.localhost, *.s3.localhost,
# 127.0.0.1 and ::1. curl (like most clients) ignores a wildcard with only one label
# after it, so *.localhost matches nothing there; virtual-hosted buckets on loopback
# use <bucket>.s3.localhost instead. ECDSA P-256, valid for 2 days from now; the CA
# key (ca.key) is left in DIR and should go with it.
# Needs: the openssl command (Debian package openssl).
set -euo pipefail

DIR=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$DIR"
cd "$DIR"
command -v openssl >/dev/null || { echo "ERROR: openssl not found (apt-get install openssl)" >&2; exit 1; }
trap 'echo "ERROR: openssl failed:" >&2; cat openssl.log >&2' ERR

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout ca.key -out ca.pem -subj "/CN=Tessera throwaway test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>openssl.log
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=localhost" 2>>openssl.log
cat > server.ext <<'EOF'
subjectAltName = DNS:localhost, DNS:*.localhost, DNS:s3.localhost, DNS:*.s3.localhost, IP:127.0.0.1, IP:::1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.pem 2>>openssl.log
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout client.key -out client.csr -subj "/CN=root" 2>>openssl.log
cat > client.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile client.ext -out client.pem 2>>openssl.log
rm -f server.csr server.ext client.csr client.ext ca.srl openssl.log
echo "ca=$DIR/ca.pem cert=$DIR/server.pem key=$DIR/server.key"
