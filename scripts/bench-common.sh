# Shared by the benchmark scripts (sourced): `measure RUNS CMD...` prints the best wall-clock
# seconds over RUNS runs of CMD (process start included) and the largest peak RSS in KiB, as
# `SECONDS KIB`. Needs /usr/bin/time (GNU time) and $WORK, a scratch directory.
measure() {
  local runs=$1 best="" rss=0 kib secs t0 t1
  shift
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$WORK/t" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    read -r kib <"$WORK/t"
    secs=$(awk "BEGIN{printf \"%.3f\", ($t1 - $t0) / 1e9}")
    if [[ -z $best ]] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
    ((kib > rss)) && rss=$kib
  done
  printf '%s %s' "$best" "$rss"
}
