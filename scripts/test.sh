#!/usr/bin/env bash
# The test command: makes sure RabbitMQ is there (see ensure-rabbitmq.sh), then runs every
# test. Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-rabbitmq.sh
# Tools some tests use: xmllint (optional: the XSD is checked too), Graphviz's dot
# (tests/it/export.rs draws every fixture; with CI set, a missing dot fails it) and openssl
# (tests/tls.rs makes its certificates with it).
missing=()
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if ((${#missing[@]})) && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } \
    || true
fi
exec cargo test --locked "$@"
