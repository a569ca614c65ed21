#!/usr/bin/env bash
# Benchmark of replacing a queue that holds messages, beside RabbitMQ's own shovel moving the
# same messages, in one run, on a private single node (scripts/private-rabbit.sh, with
# rabbitmq_management and rabbitmq_shovel; started afresh, stopped at the end):
#   (a) publish N persistent messages of 1 KB into queue `src` (publisher confirms);
#   (b) a dynamic shovel (ack-mode on-confirm, src-delete-after queue-length) moves them all
#       from `src` to `dst` (which has x-message-ttl 3600000): timed until dst holds N, src 0;
#   (c) `topology apply --allow-recreate` of a file declaring `dst` with x-message-ttl 7200000
#       replaces dst holding the N messages: timed, then checked (dst holds N, has the new
#       argument). Target: at most 2x the shovel (a swap moves every message twice).
# Counts come from passive declares over AMQP (exact), not from the management statistics.
#
# Usage: scripts/bench-swap.sh [N]     (default 100000)
# Env: TOPOLOGY_BIN (default target/release/topology of this repository: build it first with
#      `cargo build --release`), BENCH_BASE_PORT (default 5700: AMQP 5700, management 15700).
# Exit status: 0 when the swap was done right (slow or not), 1 otherwise (the figures of (a)
# and (b) are printed all the same).
# Needs python3 with pika (installed with pip when missing) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
N=${1:-100000}
SIZE=1024
NAME=bench-swap
BASE=${BENCH_BASE_PORT:-5700}
MPORT=$((BASE + 10000))
VHOST=bench
TOPOLOGY_BIN=${TOPOLOGY_BIN:-$REPO/target/release/topology}
URL=amqp://guest:guest@127.0.0.1:$BASE/$VHOST
MGMT=http://127.0.0.1:$MPORT/api
say() { printf 'bench-swap: %s\n' "$*" >&2; }

python3 -c 'import pika' 2>/dev/null || {
  say "installing pika (pip)"
  python3 -m pip install --quiet pika >&2
}
amqp() { python3 "$REPO/scripts/bench_amqp.py" "$@"; }
api() { # METHOD PATH [JSON]
  curl -sS -f -u guest:guest -X "$1" -H 'content-type: application/json' ${3:+-d "$3"} "$MGMT$2"
}
now() { date +%s%N; }
secs() { awk "BEGIN{printf \"%.2f\", ($2 - $1) / 1e9}"; }
rate() { awk "BEGIN{printf \"%.0f\", $N / $1}"; }

WORK=$(mktemp -d)
cleanup() {
  scripts/private-rabbit.sh stop --name "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
scripts/private-rabbit.sh stop --name "$NAME" >/dev/null 2>&1 || true
scripts/private-rabbit.sh start --name "$NAME" --nodes 1 --base-port "$BASE" \
  --plugins "rabbitmq_management rabbitmq_shovel" >/dev/null
api PUT "/vhosts/$VHOST" >/dev/null
api PUT "/permissions/$VHOST/guest" '{"configure":".*","write":".*","read":".*"}' >/dev/null
api PUT "/queues/$VHOST/src" '{"durable":true}' >/dev/null
api PUT "/queues/$VHOST/dst" '{"durable":true,"arguments":{"x-message-ttl":3600000}}' >/dev/null

# (a)
say "publishing $N persistent messages of $SIZE bytes to src"
pub=$(amqp publish "$URL" src "$N" "$SIZE")
[[ $(amqp count "$URL" src) == "$N" ]] || { say "src does not hold $N messages"; exit 1; }

# (b) the shovel, over AMQP to 127.0.0.1 like topology itself
say "shovelling src -> dst"
shovel=$(printf '{"value":{"src-protocol":"amqp091","src-uri":"%s","src-queue":"src","dest-protocol":"amqp091","dest-uri":"%s","dest-queue":"dst","ack-mode":"on-confirm","src-delete-after":"queue-length"}}' "$URL" "$URL")
t0=$(now)
api PUT "/parameters/shovel/$VHOST/move" "$shovel" >/dev/null
amqp wait "$URL" 600 "dst=$N" src=0 >/dev/null
t1=$(now)
shovel_s=$(secs "$t0" "$t1")
[[ $(api GET "/queues/$VHOST/dst" | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"])') == "{'x-message-ttl': 3600000}" ]] ||
  { say "dst lost its x-message-ttl"; exit 1; }

# (c) topology apply replacing dst
mkdir -p "$WORK/t"
cat >"$WORK/t/queue_topology.xml" <<'EOF'
<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <queue name="dst">
    <arguments>
      <argument name="x-message-ttl" xsi:type="number">7200000</argument>
    </arguments>
  </queue>
</config>
EOF
apply_row="" verdict="" details=""
if [[ ! -x $TOPOLOGY_BIN ]]; then
  apply_row="| topology apply: replace dst | not run: no $TOPOLOGY_BIN (cargo build --release, or set TOPOLOGY_BIN) | | |"
  verdict="swap: NOT MEASURED (no topology binary)"
else
  say "topology apply: replacing dst ($N messages; x-message-ttl 3600000 -> 7200000)"
  t2=$(now)
  rc=0
  "$TOPOLOGY_BIN" apply -v "$WORK/t" --allow-recreate --connection "amqp=$URL" \
    --management "amqp=http://guest:guest@127.0.0.1:$MPORT" >"$WORK/out" 2>"$WORK/err" || rc=$?
  t3=$(now)
  apply_s=$(secs "$t2" "$t3")
  left=$(amqp count "$URL" dst 2>/dev/null || echo "?")
  ttl=$(api GET "/queues/$VHOST/dst" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"].get("x-message-ttl"))' 2>/dev/null || echo "no queue")
  details="apply exited $rc in ${apply_s}s; afterwards dst holds $left message(s), x-message-ttl $ttl"
  if [[ $rc == 0 && $left == "$N" && $ttl == 7200000 ]]; then
    ratio=$(awk "BEGIN{printf \"%.2f\", $apply_s / $shovel_s}")
    apply_row="| topology apply: replace dst (swap) | $apply_s | $(rate "$apply_s") | ${ratio}x |"
    if awk "BEGIN{exit !($apply_s <= 2 * $shovel_s)}"; then
      verdict="swap: OK, ${ratio}x the shovel (target: at most 2x)"
    else
      verdict="swap: done but SLOW, ${ratio}x the shovel (target: at most 2x)"
    fi
  elif [[ $rc != 0 ]]; then
    apply_row="| topology apply: replace dst (swap) | REFUSED/FAILED (exit $rc, after $apply_s s) | - | - |"
    verdict="swap: REFUSED/FAILED: the swap protocol is not there (yet); $details"
  else
    apply_row="| topology apply: replace dst (swap) | WRONG RESULT (exit 0, $apply_s s) | - | - |"
    verdict="swap: WRONG: $details (wanted $N messages and x-message-ttl 7200000)"
  fi
fi

cat <<EOF

$N persistent messages of $SIZE bytes; private RabbitMQ $(api GET /overview | python3 -c 'import json,sys; print(json.load(sys.stdin)["rabbitmq_version"])') node $NAME-1@localhost, 127.0.0.1:$BASE

| step | seconds | messages/s | vs shovel |
|---|---|---|---|
| publish to src (publisher confirms, python/pika) | $pub | $(rate "$pub") | |
| RabbitMQ shovel src -> dst (on-confirm, src-delete-after queue-length) | $shovel_s | $(rate "$shovel_s") | 1.00x |
$apply_row

$verdict
EOF
if [[ ${rc:-0} != 0 ]]; then
  echo
  echo "topology apply said:"
  sed 's/^/  /' "$WORK/out" "$WORK/err"
elif [[ -s $WORK/err ]]; then
  echo
  echo "phases (topology apply -v):"
  sed 's/^/  /' "$WORK/err"
fi
[[ $verdict == "swap: OK"* || $verdict == "swap: done but SLOW"* ]]
