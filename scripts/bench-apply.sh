#!/usr/bin/env bash
# Benchmark of `topology apply` on a fresh vhost, beside RabbitMQ's own definitions import
# of the same topology (POST /api/definitions/{vhost}) and a no-op re-apply, in one run.
# Topologies from ../shared/bench/gen_topology.py (every binding to its own queue).
# Usage: scripts/bench-apply.sh [sizes...]   (default: 1000 10000; needs RabbitMQ, see
# scripts/ensure-rabbitmq.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
GEN=${GEN_TOPOLOGY:-../shared/bench/gen_topology.py}
SIZES=("${@:-1000 10000}")
read -r -a SIZES <<<"${SIZES[*]}"
MGMT=http://127.0.0.1:15672/api
scripts/ensure-rabbitmq.sh >/dev/null 2>&1
cargo build --release --quiet
BIN=target/release/topology
WORK=$(mktemp -d)
list_bench_vhosts() {
  curl -s -u guest:guest "$MGMT/vhosts" | python3 -c '
import json, sys
suffix = sys.argv[1]
for v in json.load(sys.stdin):
    if v["name"].startswith("topology-bench-") and v["name"].endswith(suffix):
        print(v["name"])
' "-$$"
}
cleanup() {
  # vhosts are made in command substitutions (subshells): find them by name
  for v in $(list_bench_vhosts); do
    curl -s -u guest:guest -X DELETE "$MGMT/vhosts/$v" >/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

vhost() {
  local v="topology-bench-$1-$$"
  curl -sf -u guest:guest -X PUT "$MGMT/vhosts/$v" >/dev/null
  curl -sf -u guest:guest -X PUT -H 'content-type: application/json' \
    -d '{"configure":".*","write":".*","read":".*"}' "$MGMT/permissions/$v/guest" >/dev/null
  echo "$v"
}
now() { date +%s%N; }
secs() { awk "BEGIN{printf \"%.2f\", ($2 - $1) / 1e9}"; }

printf '| queues + bindings | definitions import | topology apply (fresh vhost) | apply / import | no-op re-apply | no-op plan |\n|---|---|---|---|---|---|\n'
for n in "${SIZES[@]}"; do
  modules=$(( n >= 1000 ? n / 1000 : 1 )); per=$(( n / modules / 10 ))
  python3 "$GEN" --modules "$modules" --exchanges-per-module 10 --bindings-per-exchange "$per" \
    --out "$WORK/t$n" --definitions "$WORK/d$n.json" >/dev/null
  # the broker's own import
  vi=$(vhost "import$n")
  t0=$(now)
  curl -sf -u guest:guest -X POST -H 'content-type: application/json' --data-binary "@$WORK/d$n.json" "$MGMT/definitions/$vi" >/dev/null
  t1=$(now)
  # same conditions for ours: the imported vhost is removed, the broker left to settle
  curl -s -u guest:guest -X DELETE "$MGMT/vhosts/$vi" >/dev/null
  sleep "${SETTLE:-10}"
  # ours, from empty
  va=$(vhost "apply$n")
  url="amqp=amqp://guest:guest@127.0.0.1:5672/$va"
  t2=$(now)
  "$BIN" apply -q "$WORK/t$n" --connection "$url" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
  t2b=$(now)
  sleep "${SETTLE:-10}" # new queues' statistics settle in the management database
  t3=$(now)
  "$BIN" apply -q "$WORK/t$n" --connection "$url" >/dev/null 2>&1
  t4=$(now)
  "$BIN" plan -q "$WORK/t$n" --connection "$url" --detailed-exitcode >/dev/null 2>&1 || { echo "plan after apply is not empty"; exit 1; }
  t5=$(now)
  imp=$(secs "$t0" "$t1"); app=$(secs "$t2" "$t2b")
  printf '| %s | %s s | %s s | %s | %s s | %s s |\n' "$n" "$imp" "$app" \
    "$(awk "BEGIN{printf \"%.2fx\", $app / $imp}")" "$(secs "$t3" "$t4")" "$(secs "$t4" "$t5")"
done
