#!/usr/bin/env bash
# Makes sure a RabbitMQ broker with the management plugin answers on 127.0.0.1:
# installs the Debian package when missing (as root), starts the server when stopped,
# enables rabbitmq_management, then waits until AMQP (5672) and the management API (15672)
# answer. Idempotent: on a machine where all is already up it only checks.
set -euo pipefail

AMQP_PORT=${AMQP_PORT:-5672}
MGMT_PORT=${MGMT_PORT:-15672}
WAIT=${RABBITMQ_WAIT_SECONDS:-120}

say() { printf 'ensure-rabbitmq: %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

if ! command -v rabbitmq-server >/dev/null 2>&1 && [[ ! -x /usr/sbin/rabbitmq-server ]]; then
  say "RabbitMQ is not installed: installing the Debian package rabbitmq-server"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq rabbitmq-server >/dev/null
fi
export PATH="$PATH:/usr/sbin:/usr/lib/rabbitmq/bin"

if ! port_open "$AMQP_PORT"; then
  say "starting rabbitmq-server"
  as_root rabbitmq-server -detached || true
  for _ in $(seq "$WAIT"); do port_open "$AMQP_PORT" && break; sleep 1; done
fi
port_open "$AMQP_PORT" || { say "RabbitMQ does not answer on 127.0.0.1:$AMQP_PORT"; exit 1; }

if ! port_open "$MGMT_PORT"; then
  say "enabling rabbitmq_management"
  as_root rabbitmq-plugins enable rabbitmq_management >/dev/null
fi
for _ in $(seq "$WAIT"); do
  if curl -fsS -u guest:guest "http://127.0.0.1:$MGMT_PORT/api/overview" >/dev/null 2>&1; then
    say "RabbitMQ is up: amqp://127.0.0.1:$AMQP_PORT, http://127.0.0.1:$MGMT_PORT"
    exit 0
  fi
  sleep 1
done
say "the management API does not answer on 127.0.0.1:$MGMT_PORT"
exit 1
