#!/usr/bin/env bash
# Benchmark of reading a broker: a no-op `topology plan` and a no-op `topology apply` of N
# queues + N bindings (whole process: start, files, reading the vhost, planning), beside one
# `GET /api/definitions/{vhost}` of the same vhost by curl, in one run. The commands take
# turns (definitions, plan, apply, definitions, ...), and each ratio is the median of the
# ratios run by run, so that a machine whose speed drifts during the run moves both sides.
# The vhost is made by a definitions import of ../shared/bench/gen_topology.py's
# `--definitions` output (it matches the files it writes), and removed at the end.
# Usage: scripts/bench-read.sh [runs] [sizes...]   (default: 10 runs, 10000; needs RabbitMQ
# with the management plugin on 127.0.0.1, see scripts/ensure-rabbitmq.sh, python3 and
# GNU time)
#   TOPOLOGY_BIN=path       time that binary instead of building this tree's release one
#   TOPOLOGY_BASELINE=path  also time another build's no-op plan (e.g. main's), in turn
#   SETTLE=seconds          wait after the import, for the broker to settle (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
shift || true
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(10000)
GEN=${GEN_TOPOLOGY:-../shared/bench/gen_topology.py}
MGMT=http://127.0.0.1:15672/api
scripts/ensure-rabbitmq.sh >/dev/null 2>&1
if [[ -n ${TOPOLOGY_BIN:-} ]]; then
  BIN=$TOPOLOGY_BIN
else
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/topology
fi
BASE=${TOPOLOGY_BASELINE:-}
WORK=$(mktemp -d)
VHOSTS=()
cleanup() {
  for v in "${VHOSTS[@]}"; do
    curl -s -u guest:guest -X DELETE "$MGMT/vhosts/$v" >/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m}'; }
# `column FILE K` is the K-th field of each line of FILE.
column() { awk -v k="$2" '{print $k}' "$1"; }
# `ratios FILE A B` is field A over field B, line by line.
ratios() { awk -v a="$2" -v b="$3" '{print $a / $b}' "$1"; }

header='| queues + bindings | runs | GET /api/definitions | topology plan (no-op) | plan / definitions | topology apply (no-op) | apply / definitions | peak RSS plan, apply |'
rule='|---|---|---|---|---|---|---|---|'
if [[ -n $BASE ]]; then
  header+=' baseline plan (no-op) | baseline / definitions | peak RSS baseline |'
  rule+='---|---|---|'
fi
printf '%s\n%s\n' "$header" "$rule"
for n in "${SIZES[@]}"; do
  # 100 bindings an exchange, each binding to its own queue; 10 exchanges a module
  modules=$((n >= 1000 ? n / 1000 : 1))
  python3 "$GEN" --modules "$modules" --exchanges-per-module 10 \
    --bindings-per-exchange $((n / modules / 10)) \
    --out "$WORK/t$n" --definitions "$WORK/d$n.json" >/dev/null 2>&1
  v="topology-bench-read$n-$$"
  VHOSTS+=("$v")
  curl -sf -u guest:guest -X PUT "$MGMT/vhosts/$v" >/dev/null
  curl -sf -u guest:guest -X PUT -H 'content-type: application/json' \
    -d '{"configure":".*","write":".*","read":".*"}' "$MGMT/permissions/$v/guest" >/dev/null
  curl -sf -u guest:guest -X POST -H 'content-type: application/json' \
    --data-binary "@$WORK/d$n.json" "$MGMT/definitions/$v" >/dev/null
  sleep "${SETTLE:-20}"
  url="amqp=amqp://guest:guest@127.0.0.1:5672/$v"
  # Both must be no-ops: the files say what the vhost holds.
  for bin in "$BIN" ${BASE:+"$BASE"}; do
    "$bin" plan -q "$WORK/t$n" --connection "$url" --detailed-exitcode >/dev/null ||
      { echo "$bin: the plan of the imported vhost is not empty" >&2; exit 1; }
  done
  : >"$WORK/runs"
  for _ in $(seq "$RUNS"); do
    {
      once curl -sf -u guest:guest "$MGMT/definitions/$v" -o /dev/null
      printf ' '
      once "$BIN" plan -q "$WORK/t$n" --connection "$url"
      printf ' '
      once "$BIN" apply -q "$WORK/t$n" --connection "$url"
      if [[ -n $BASE ]]; then
        printf ' '
        once "$BASE" plan -q "$WORK/t$n" --connection "$url"
      fi
      echo
    } >>"$WORK/runs"
  done
  # fields: definitions seconds, KiB, plan seconds, KiB, apply seconds, KiB[, baseline…]
  defs=$(column "$WORK/runs" 1 | median)
  plan=$(column "$WORK/runs" 3 | median)
  apply=$(column "$WORK/runs" 5 | median)
  mib() { column "$WORK/runs" "$1" | sort -g | tail -1 | awk '{printf "%d MiB", $1 / 1024}'; }
  row="| $n | $RUNS | $defs s | $plan s | $(ratios "$WORK/runs" 3 1 | median) | $apply s | $(ratios "$WORK/runs" 5 1 | median) | $(mib 4), $(mib 6) |"
  if [[ -n $BASE ]]; then
    row+=" $(column "$WORK/runs" 7 | median) s | $(ratios "$WORK/runs" 7 1 | median) | $(mib 8) |"
  fi
  echo "$row"
done
