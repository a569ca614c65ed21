#!/usr/bin/env bash
# Start-up and small inputs, whole process: `topology lint` of the Magento corpus and of
# 10,000 generated bindings beside `xmllint --noout --schema` of the same files (which only
# checks each file against the XSD), and `topology --version` beside `/bin/true`. Commands
# run in turns (scripts/paired.py); each ratio is the median of the ratios round by round.
# `TOPOLOGY_BASELINE=path` adds another build's lint to each table.
# Usage: scripts/bench-startup.sh [rounds]   (needs python3 and xmllint from libxml2-utils)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-300}
GEN=${GEN_TOPOLOGY:-../shared/bench/gen_topology.py}
CORPUS=${TOPOLOGY_CORPUS:-../shared/corpus/magento}
cargo build --release --quiet
BIN=target/release/topology
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 "$GEN" --modules 10 --exchanges-per-module 10 --bindings-per-exchange 100 \
  --out "$WORK/g10k" >/dev/null

table() {
  local title=$1 dir=$2 list
  list=$(find "$dir" -name queue_topology.xml | sort | tr '\n' ' ')
  printf '\n%s\n\n| command | median | / xmllint |\n|---|---|---|\n' "$title"
  local commands=("$BIN lint $dir")
  [[ -n ${TOPOLOGY_BASELINE:-} ]] && commands+=("$TOPOLOGY_BASELINE lint $dir")
  scripts/paired.py "$ROUNDS" "${commands[@]}" "xmllint --noout --schema schemas/topology.xsd $list"
}
table "Magento corpus ($CORPUS)" "$CORPUS"
ROUNDS=$(( ROUNDS / 3 > 30 ? ROUNDS / 3 : 30 )) table "10,000 bindings" "$WORK/g10k"
printf '\nStart-up\n\n| command | median | / /bin/true |\n|---|---|---|\n'
scripts/paired.py "$ROUNDS" "$BIN --version" /bin/true
