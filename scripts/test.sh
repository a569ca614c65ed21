#!/usr/bin/env bash
# The test command: makes sure RabbitMQ is there (see ensure-rabbitmq.sh), then runs every
# test. Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-rabbitmq.sh
if ! command -v xmllint >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  # Optional: lets the tests check the XSD too.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null 2>&1 || true
fi
exec cargo test --locked "$@"
