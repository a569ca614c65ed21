#!/usr/bin/env bash
# Benchmark of parse + merge + lint (`topology lint`, whole process): wall time (best of N
# runs) and peak memory, for generated topologies of 1,000, 10,000 and 100,000 bindings and
# for the Magento corpus, beside `xmllint --noout --schema` on the same files (which checks
# each file against the XSD only), and start-up alone (`topology --version` beside
# `/bin/true`). Prints a Markdown table; then the ratios that matter at this size, taken
# with the commands in turns (scripts/paired.py, ROUNDS rounds, default 300): lint / xmllint
# on the corpus and at 10,000 bindings, --version / /bin/true. `TOPOLOGY_BASELINE=path`
# adds another build's lint to those. With DROP_CACHES=1 (root), the page cache is emptied
# first, so that every binary is read back from disk alike: a binary just written (by cargo,
# cp) sits in the page cache in larger pieces and starts faster, by up to 10% here.
# Usage: scripts/bench-lint.sh [runs]   (needs python3; xmllint optional)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
GEN=${GEN_TOPOLOGY:-../shared/bench/gen_topology.py}
CORPUS=${TOPOLOGY_CORPUS:-../shared/corpus/magento}
cargo build --release --quiet
BIN=target/release/topology
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

printf '| input | files | bindings | topology lint | peak RSS | xmllint --schema |\n|---|---|---|---|---|---|\n'
row() {
  local label=$1 dir=$2 bindings=$3 files
  mapfile -t list < <(find "$dir" -name queue_topology.xml | sort)
  files=${#list[@]}
  read -r t rss < <(measure "$RUNS" "$BIN" lint "$dir"; echo)
  local x="n/a"
  if command -v xmllint >/dev/null; then
    read -r xt _ < <(measure "$RUNS" xmllint --noout --schema schemas/topology.xsd "${list[@]}"; echo)
    x="${xt} s"
  fi
  printf '| %s | %s | %s | %s s | %s MiB |  %s |\n' "$label" "$files" "$bindings" "$t" "$((rss / 1024))" "$x"
}

read -r st _ < <(measure "$RUNS" "$BIN" --version; echo)
read -r tt _ < <(measure "$RUNS" /bin/true; echo)
printf '| start-up (--version) | | | %s s | | /bin/true: %s s |\n' "$st" "$tt"
[[ -d $CORPUS ]] && row "Magento corpus" "$CORPUS" "72"
for spec in "1000:10:10:10" "10000:10:10:100" "100000:100:10:100"; do
  IFS=: read -r n m e b <<<"$spec"
  python3 "$GEN" --modules "$m" --exchanges-per-module "$e" --bindings-per-exchange "$b" --out "$WORK/g$n" >/dev/null
  row "generated" "$WORK/g$n" "$n"
done
python3 "$GEN" --modules 1 --exchanges-per-module 10 --bindings-per-exchange 10000 --out "$WORK/one" >/dev/null
row "generated, one file" "$WORK/one" "100000"

command -v xmllint >/dev/null || exit 0
ROUNDS=${ROUNDS:-300}
if [[ ${DROP_CACHES:-} == 1 ]]; then sync && echo 3 >/proc/sys/vm/drop_caches; fi
paired() {
  local title=$1 dir=$2 rounds=$3 list
  list=$(find "$dir" -name queue_topology.xml | sort | tr '\n' ' ')
  printf '\n%s, %s rounds\n\n| command | median | / xmllint (quartiles) |\n|---|---|---|\n' "$title" "$rounds"
  local commands=("$BIN lint $dir")
  [[ -n ${TOPOLOGY_BASELINE:-} ]] && commands+=("$TOPOLOGY_BASELINE lint $dir")
  scripts/paired.py "$rounds" "${commands[@]}" "xmllint --noout --schema schemas/topology.xsd $list" |
    sed -E 's/(xmllint --noout --schema schemas\/topology.xsd) [^|]*/\1 (the same files) /'
}
[[ -d $CORPUS ]] && paired "Magento corpus" "$CORPUS" "$ROUNDS"
paired "10,000 bindings" "$WORK/g10000" "$(( ROUNDS / 5 > 30 ? ROUNDS / 5 : 30 ))"
printf '\nStart-up, %s rounds\n\n| command | median | / /bin/true (quartiles) |\n|---|---|---|\n' "$ROUNDS"
scripts/paired.py "$ROUNDS" "$BIN --version" /bin/true
