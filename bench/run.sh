#!/usr/bin/env bash
# threadlint benchmark: bench/run.sh [LINES...]   (default: 100000 300000 1000000)
#
# For each size: generate a synthetic workspace (bench/work/ws-<lines>/, kept between runs), then time
#   floor    threadlint debug floor DIR                          read + syn-parse every file, nothing else
#   cold     threadlint check DIR --cache-dir EMPTY              the whole check, writing a new cache
#   nocache  threadlint check DIR --no-cache                     the whole check, no cache at all
#   warm     threadlint check DIR            (cache primed)      nothing changed since the last run
#   one      threadlint check DIR            (one file edited)   one file changed since the last run
# RUNS times each (median wall time; peak RSS is the largest seen), and print a Markdown table. Floor,
# cold and no-cache runs are interleaved round by round, and their ratios are medians of per-round ratios.
#
# Environment: BENCH_RUNS (default 5), BENCH_SEED (generator seed, default 42),
#              CARGO_TARGET_DIR (where the release binary is looked for, as cargo does).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK="$HERE/work"
RUNS=${BENCH_RUNS:-5}
SEED=${BENCH_SEED:-42}

die() {
    echo "bench: error: $*" >&2
    exit 1
}

if [ $# -gt 0 ]; then SIZES=("$@"); else SIZES=(100000 300000 1000000); fi
for n in "${SIZES[@]}"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "LINES must be a whole number, got '$n' (usage: bench/run.sh [LINES...])"
    [ "$n" -ge 10000 ] || die "LINES must be at least 10000, got $n"
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number, got '$RUNS'"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is required to measure wall time and peak RSS (apt-get install time)"
command -v python3 >/dev/null || die "python3 is required (it runs the workspace generator)"
command -v cargo >/dev/null || die "cargo is required to build threadlint"

# ---------------------------------------------------------------------------------------------- build
echo "bench: cargo build --release in $ROOT" >&2
(cd "$ROOT" && cargo build --release) || die "cargo build --release failed in $ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
BIN="$TARGET_DIR/release/threadlint"
[ -x "$BIN" ] || die "no threadlint binary at $BIN after the build"
"$BIN" debug floor --help >/dev/null 2>&1 ||
    die "$BIN has no working 'debug floor' subcommand ('threadlint debug floor --help' failed)"
"$BIN" check --help 2>&1 | grep -q -- '--cache-dir' ||
    die "$BIN check has no --cache-dir option"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/threadlint-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------------------------------------- helpers
# measure_once LABEL OK_EXIT_CODES I CMD... -> M_ONE_WALL (wall seconds), M_ONE_RSS (peak RSS, KiB) of run I;
# its stdout is kept in $TMP/LABEL.out and $TMP/LABEL.I.out. When the function `before_run` is set
# (BEFORE=name), it runs untimed first, with I as $1.
measure_once() {
    local label=$1 ok=$2 i=$3
    shift 3
    local rc wall rss t0 t1
    if [ -n "${BEFORE:-}" ]; then "$BEFORE" "$i"; fi
    set +e
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" >"$TMP/$label.out" 2>"$TMP/$label.err"
    rc=$?
    t1=$EPOCHREALTIME
    set -e
    if [[ " $ok " != *" $rc "* ]]; then
        echo "bench: error: $label run failed with exit status $rc: $*" >&2
        echo "--- last lines of its stderr:" >&2
        tail -n 25 "$TMP/$label.err" >&2
        exit 1
    fi
    cp "$TMP/$label.out" "$TMP/$label.$i.out"
    read -r wall rss < <(tail -n 1 "$TMP/time")
    # /usr/bin/time prints centiseconds: time the wall clock here, to the microsecond.
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    [[ "$wall" =~ ^[0-9.]+$ && "$rss" =~ ^[0-9]+$ ]] || die "could not read /usr/bin/time output for $label: $(cat "$TMP/time")"
    echo "bench:   $label run $i/$RUNS: ${wall}s, $((rss / 1024)) MiB" >&2
    M_ONE_WALL=$wall M_ONE_RSS=$rss
}

# measure LABEL OK_EXIT_CODES CMD...  -> M_WALL (median wall seconds), M_RSS (max peak RSS, KiB) of RUNS runs.
measure() {
    local label=$1 ok=$2
    shift 2
    local walls=() rss_max=0 i
    for ((i = 1; i <= RUNS; i++)); do
        measure_once "$label" "$ok" "$i" "$@"
        walls+=("$M_ONE_WALL")
        if ((M_ONE_RSS > rss_max)); then rss_max=$M_ONE_RSS; fi
    done
    M_WALL=$(printf '%s\n' "${walls[@]}" | median)
    M_RSS=$rss_max
}

# json_field FILE KEY -> the value of top-level KEY of the JSON object in FILE (empty if absent)
json_field() {
    python3 - "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(3)
v = d.get(sys.argv[2], "") if isinstance(d, dict) else ""
print(v)
PY
}

median() { sort -g | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

gen_stamp() { echo "lines=$1 seed=$SEED generator=$(sha256sum "$HERE/gen_workspace.py" | cut -c1-16)"; }

# ---------------------------------------------------------------------------------------------- runs
mkdir -p "$WORK"
ROWS=()
for n in "${SIZES[@]}"; do
    ws="$WORK/ws-$n"
    if [ ! -f "$ws/.bench-stamp" ] || [ "$(cat "$ws/.bench-stamp")" != "$(gen_stamp "$n")" ]; then
        echo "bench: generating $ws" >&2
        python3 "$HERE/gen_workspace.py" --lines "$n" --seed "$SEED" --out "$ws" || die "the generator failed for $n lines"
        gen_stamp "$n" >"$ws/.bench-stamp"
    fi
    # bring the sources into the page cache so that the first timed run is not an outlier
    find "$ws" -name '*.rs' -exec cat {} + >/dev/null

    lines=$(find "$ws" -name '*.rs' -not -path '*/target/*' -exec cat {} + | wc -l)
    cache="$TMP/cache-$n"
    fresh_cache() { rm -rf "$cache"; }

    # The floor, cold and no-cache runs are interleaved, round after round, and each ratio is the median
    # of the ratios within a round: on a shared machine the load drifts from minute to minute, and runs
    # seconds apart see about the same machine.
    echo "bench: $n lines: floor, cold (empty cache) and no-cache runs, interleaved" >&2
    floor_walls=() floor_secs=() cold_walls=() nocache_walls=() cold_ratios=() nocache_ratios=()
    cold_rss=0 nocache_rss=0
    for ((i = 1; i <= RUNS; i++)); do
        measure_once floor "0" "$i" "$BIN" debug floor "$ws"
        floor_walls+=("$M_ONE_WALL")
        # `debug floor` times its read+parse pass itself and reports it as "seconds"; its process wall time
        # also includes discovery and whatever else the command does before that pass. The internal figure
        # is the SPEC §10 baseline ("merely read and syn-parse the same files"), so prefer it.
        fs=$(json_field "$TMP/floor.out" seconds || true)
        [[ "$fs" =~ ^[0-9.eE+-]+$ ]] || fs=$M_ONE_WALL
        floor_secs+=("$fs")
        BEFORE=fresh_cache measure_once cold "0 1" "$i" "$BIN" check "$ws" --cache-dir "$cache" --format concise
        cold_walls+=("$M_ONE_WALL")
        cold_ratios+=("$(ratio "$M_ONE_WALL" "$fs")")
        if ((M_ONE_RSS > cold_rss)); then cold_rss=$M_ONE_RSS; fi
        measure_once nocache "0 1" "$i" "$BIN" check "$ws" --no-cache --format concise
        nocache_walls+=("$M_ONE_WALL")
        nocache_ratios+=("$(ratio "$M_ONE_WALL" "$fs")")
        if ((M_ONE_RSS > nocache_rss)); then nocache_rss=$M_ONE_RSS; fi
    done
    cold_rss=$((cold_rss / 1024)) nocache_rss=$((nocache_rss / 1024))
    floor_wall=$(printf '%s\n' "${floor_walls[@]}" | median)
    floor_s=$(printf '%s\n' "${floor_secs[@]}" | median)
    floor_s=$(awk -v s="$floor_s" 'BEGIN { printf "%.3f", s }')
    cold_s=$(printf '%s\n' "${cold_walls[@]}" | median)
    nocache_s=$(printf '%s\n' "${nocache_walls[@]}" | median)
    cold_ratio=$(printf '%s\n' "${cold_ratios[@]}" | median)
    nocache_ratio=$(printf '%s\n' "${nocache_ratios[@]}" | median)
    echo "bench:   floor: ${floor_s}s read+parse (reported by the tool), ${floor_wall}s process wall time" >&2
    echo "bench:   cold/floor by round: ${cold_ratios[*]}; no-cache/floor by round: ${nocache_ratios[*]}" >&2
    files=$(json_field "$TMP/floor.out" files) ||
        die "'threadlint debug floor' did not print a JSON object on stdout; got: $(head -c 300 "$TMP/floor.out")"
    [ -n "$files" ] || files=$(find "$ws" -name '*.rs' | wc -l)
    parsed=$(json_field "$TMP/floor.out" parsed || true)
    if [ -n "$parsed" ] && [ "$parsed" != "$files" ]; then
        echo "bench: warning: debug floor parsed $parsed of $files files in $ws" >&2
    fi
    cmp -s "$TMP/cold.out" "$TMP/nocache.out" || die "check with and without the cache disagree on $ws"

    echo "bench: $n lines: warm (nothing changed)" >&2
    "$BIN" check "$ws" --cache-dir "$cache" --format concise >/dev/null 2>&1 || true
    measure warm "0 1" "$BIN" check "$ws" --cache-dir "$cache" --format concise
    warm_s=$M_WALL warm_rss=$((M_RSS / 1024))
    cmp -s "$TMP/warm.out" "$TMP/nocache.out" || die "the warm run's report differs from a --no-cache run on $ws"

    echo "bench: $n lines: one file changed" >&2
    edited=$(find "$ws/crates" -name '*.rs' -path '*/src/*' | sort | awk 'NR == 1')
    cp "$edited" "$TMP/edited.orig"
    edit_one() { { cat "$TMP/edited.orig"; echo "pub fn bench_edit_$1() {}"; } >"$edited"; }
    BEFORE=edit_one measure one "0 1" "$BIN" check "$ws" --cache-dir "$cache" --format concise
    one_s=$M_WALL one_rss=$((M_RSS / 1024))
    cp "$TMP/edited.orig" "$edited"

    ROWS+=("| $lines | $files | $floor_s | $cold_s | $cold_ratio | $nocache_s | $nocache_ratio | $warm_s | $(ratio "$warm_s" "$floor_s") | $one_s | $(ratio "$one_s" "$floor_s") | $cold_rss / $nocache_rss / $warm_rss / $one_rss |")
done

# ---------------------------------------------------------------------------------------------- report
{
    echo
    echo "threadlint benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $RUNS runs each (median wall time)"
    echo "binary: $BIN ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    echo
    echo "| lines | files | floor s | cold s | cold/floor | no-cache s | no-cache/floor | warm s | warm/floor | one-file s | one-file/floor | peak RSS MiB (cold / no-cache / warm / one-file) |"
    echo "|------:|------:|--------:|-------:|-----------:|-----------:|---------------:|-------:|-----------:|-----------:|---------------:|------:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "cold = check with an empty cache (it writes one); no-cache = check --no-cache; warm = check with nothing changed;"
    echo "one-file = check after one file was edited. All are process wall times (start-up included)."
    echo "floor s = the read+parse time that \`debug floor\` measures itself and prints as \"seconds\" (median); its process"
    echo "wall time, which also covers discovery and start-up, is in the log above. Floor, cold and no-cache runs are"
    echo "interleaved; cold/floor and no-cache/floor are medians of the ratios within each round. warm/floor and"
    echo "one-file/floor divide medians."
    echo "Budgets (SPEC §10, 1M lines, 2 cores): cold/floor <= 1.5, warm/floor <= 0.15, peak RSS < 1024 MiB."
} | tee "$WORK/last-results.md"
