# Shared by the benchmark scripts (sourced). Needs /usr/bin/time (GNU time) and $WORK, a
# scratch directory.
# `once CMD...` runs CMD once (its output thrown away) and prints its wall-clock seconds,
# process start included, and its peak RSS in KiB, as `SECONDS KIB`.
once() {
  local kib t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$WORK/t" "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  read -r kib <"$WORK/t"
  printf '%s %s' "$(awk "BEGIN{printf \"%.3f\", ($t1 - $t0) / 1e9}")" "$kib"
}

# `measure RUNS CMD...` prints the best wall-clock seconds over RUNS runs of CMD and the
# largest peak RSS in KiB, as `SECONDS KIB`.
measure() {
  local runs=$1 best="" rss=0 kib secs
  shift
  for _ in $(seq "$runs"); do
    read -r secs kib < <(once "$@"; echo)
    if [[ -z $best ]] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
    ((kib > rss)) && rss=$kib
  done
  printf '%s %s' "$best" "$rss"
}
