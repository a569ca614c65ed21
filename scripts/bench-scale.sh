#!/usr/bin/env bash
# Scale benchmark: `topology lint` and `topology plan --offline` (human output, whole
# process) at 10,000, 100,000 and 1,000,000 bindings, beside `xmllint --noout --schema
# schemas/topology.xsd` on the same files: best wall time of N runs, time per binding,
# peak RSS, and plan's time over lint's (the target: at most 1.3 at every size), taken pair
# by pair: lint and plan run in turn N times and the median of the N ratios is printed
# (best times alone swing with a noisy machine's luck).
# Inputs come from ../shared/bench/gen_topology.py into a temporary directory (1M bindings:
# 137 MB of XML), removed at exit. Prints a Markdown table.
# Usage: scripts/bench-scale.sh [runs] [sizes...]   e.g. scripts/bench-scale.sh 3 10000 100000
#   TOPOLOGY_BIN=path: time that binary instead of building this tree's release one.
#   (needs python3 and GNU time; xmllint from libxml2-utils optional)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
shift || true
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(10000 100000 1000000)
GEN=${GEN_TOPOLOGY:-../shared/bench/gen_topology.py}
if [[ -n ${TOPOLOGY_BIN:-} ]]; then
  BIN=$TOPOLOGY_BIN
else
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/topology
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

per() { awk "BEGIN{printf \"%.2f\", $1 * 1e6 / $2}"; }

printf '| bindings | lint | µs/binding | peak RSS | plan --offline | µs/binding | peak RSS | plan/lint (median of pairs) | xmllint --schema | peak RSS |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for n in "${SIZES[@]}"; do
  # 100 bindings an exchange, 10 exchanges a module up to 100 modules, then more exchanges
  modules=$((n / 1000)) exchanges=10
  ((modules > 100)) && exchanges=$((n / 10000)) modules=100
  dir=$WORK/g$n
  python3 "$GEN" --modules "$modules" --exchanges-per-module "$exchanges" \
    --bindings-per-exchange 100 --out "$dir" >/dev/null 2>&1
  # lint and plan in turn: each one's best time and largest peak, and the median ratio.
  lt="" pt="" lrss=0 prss=0 ratios=()
  for _ in $(seq "$RUNS"); do
    read -r l lk < <(once "$BIN" lint "$dir"; echo)
    read -r p pk < <(once "$BIN" plan --offline "$dir"; echo)
    ratios+=("$(awk "BEGIN{printf \"%.4f\", $p / $l}")")
    [[ -z $lt ]] || awk "BEGIN{exit !($l < $lt)}" && lt=$l
    [[ -z $pt ]] || awk "BEGIN{exit !($p < $pt)}" && pt=$p
    ((lk > lrss)) && lrss=$lk
    ((pk > prss)) && prss=$pk
  done
  ratio=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.2f", m}')
  x="n/a | n/a"
  if command -v xmllint >/dev/null; then
    mapfile -t list < <(find "$dir" -name queue_topology.xml | sort)
    read -r xt xrss < <(measure "$RUNS" xmllint --noout --schema schemas/topology.xsd "${list[@]}"; echo)
    x="$xt s | $((xrss / 1024)) MiB"
  fi
  printf '| %s | %s s | %s | %s MiB | %s s | %s | %s MiB | %s | %s |\n' "$n" \
    "$lt" "$(per "$lt" "$n")" "$((lrss / 1024))" \
    "$pt" "$(per "$pt" "$n")" "$((prss / 1024))" "$ratio" "$x"
  rm -rf "$dir"
done
