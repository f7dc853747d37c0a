#!/usr/bin/env bash
# Installs every Debian 12 package Tessera's build, tests and benchmarks need.
# Idempotent and non-interactive; exits quickly when everything is already installed.
# Runs as root, or through sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev libcli11-dev
  libfaiss-dev libopenblas-dev liblapack-dev libomp-dev
  libhnswlib-dev
  libisal-dev libzstd-dev libxxhash-dev
  libsqlite3-dev
  libnats-dev nats-server
  libcurl4-openssl-dev libssl-dev libexpat1-dev libcpp-httplib-dev libhttp-parser-dev
  python3-swift curl memcached openssl
  etcd-server libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  fiu-utils
)

# `install-deps.sh --bench` adds what the figure tools compare against (s3_bench: awscli).
if [ "${1:-}" = "--bench" ]; then
  packages+=(awscli)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
