#!/usr/bin/env bash
# Benchmarks the stack against xargs -P and GNU Parallel on this machine, interleaving the runs, and
# prints one table; the same numbers go to .bench/<timestamp>.json. Starts the stack and stops it when
# done (or uses a running one, reshaped to 2 workers whose threads add up to the core count, and
# leaves it running).
#   ./scripts/bench.sh [--rounds R] [--items N] [--latency-tasks T] [--submit-seconds S] [--big-items B] [--big-seconds S]
# The big task is cancelled after --big-seconds (default 600) if not done by then; its rate is then what ran.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=3 ITEMS=20000 LATENCY_TASKS=200 SUBMIT_CLIENTS=16 SUBMIT_SECONDS=20 BIG_ITEMS=1000000 BIG_SECONDS=600
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --items) ITEMS="$2"; shift 2 ;;
    --latency-tasks) LATENCY_TASKS="$2"; shift 2 ;;
    --submit-seconds) SUBMIT_SECONDS="$2"; shift 2 ;;
    --big-items) BIG_ITEMS="$2"; shift 2 ;;
    --big-seconds) BIG_SECONDS="$2"; shift 2 ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done

ensure_packages parallel jq wrk
CORES="$(nproc)"
WORKERS=2
((CORES >= 2)) || WORKERS=1
THREADS=$((CORES / WORKERS))
BASE="http://127.0.0.1:${SCHEDULER_PORT:-30000}"
OUT_DIR="$DTS_ROOT/.bench"
mkdir -p "$OUT_DIR"
RESULT="$OUT_DIR/$(date -u +%Y%m%dT%H%M%SZ).json"
# The client is compiled once and kept off the services' CPU as far as it can be: Serial GC, C1 only.
javac -d "$OUT_DIR/classes" "$DTS_ROOT/scripts/bench/Bench.java"
BENCH=(java -Xmx1g -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$OUT_DIR/classes" Bench)

log "stack: $WORKERS workers x $THREADS threads = $CORES cores"
if ! is_running redis && ! is_running scheduler-1; then
  trap '"$DTS_ROOT/scripts/stack.sh" down' EXIT
fi
"$DTS_ROOT/scripts/stack.sh" up --workers "$WORKERS" --threads "$THREADS" --schedulers 1
# The API wants a token: $DTS_TOKEN, else the operator's that stack.sh made; Bench.java and wrk read it from there.
export DTS_TOKEN="${DTS_TOKEN:-$(<"$STACK_DIR/tokens/admin")}"
log "warm-up: one task of 5000 items (not measured)"
"${BENCH[@]}" throughput "$BASE" 5000 >/dev/null

# One trivial bash per item, exactly what the stack runs per item.
rate_of() { local start end; start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N); awk -v n="$ITEMS" -v ns=$((end - start)) 'BEGIN {print n * 1e9 / ns}'; }
# shellcheck disable=SC2016 # $1 is for the bash that xargs starts
run_xargs() { seq 0 $((ITEMS - 1)) | xargs -P "$CORES" -n 1 bash -c 'echo "$1" >/dev/null' dts; }
run_parallel() { seq 0 $((ITEMS - 1)) | parallel -j "$CORES" bash -c "'echo \"\$1\" >/dev/null'" dts; }

declare -a XARGS PARALLEL DTS
log "throughput: $ITEMS items, $ROUNDS interleaved rounds of xargs -P $CORES, parallel -j $CORES, the stack"
for ((r = 1; r <= ROUNDS; r++)); do
  XARGS+=("$(rate_of run_xargs)")
  PARALLEL+=("$(rate_of run_parallel)")
  DTS+=("$("${BENCH[@]}" throughput "$BASE" "$ITEMS" | jq .itemsPerSecond)")
  log "  round $r: xargs ${XARGS[-1]%.*}/s  parallel ${PARALLEL[-1]%.*}/s  stack ${DTS[-1]%.*}/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
X=$(median "${XARGS[@]}") P=$(median "${PARALLEL[@]}") D=$(median "${DTS[@]}")

log "latency: $LATENCY_TASKS one-item tasks, one after another"
LATENCY="$("${BENCH[@]}" latency "$BASE" "$LATENCY_TASKS")"

log "submit rate: $SUBMIT_CLIENTS connections for $SUBMIT_SECONDS s (wrk)"
WRK="$(wrk -t2 -c"$SUBMIT_CLIENTS" -d"${SUBMIT_SECONDS}s" --latency -s "$DTS_ROOT/scripts/bench/submit.lua" "$BASE")"
# wrk counts every answer; only 202s are accepted tasks.
SUBMIT="$(awk -v clients="$SUBMIT_CLIENTS" -v secs="$SUBMIT_SECONDS" '
  /requests in/ {total = $1} /Non-2xx/ {bad = $5} /Socket errors/ {gsub(/,/, ""); sock = $4 + $6 + $8 + $10}
  $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
  function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
  END {printf "{\"clients\":%d,\"seconds\":%d,\"accepted\":%d,\"acceptedPerSecond\":%.1f,\"errors\":%d,\"p50Ms\":%.1f,\"p99Ms\":%.1f}\n",
       clients, secs, total - bad, (total - bad) / secs, bad + sock, ms(p50), ms(p99)}' <<<"$WRK")"
log "waiting for the submitted tasks to drain"
drained() {
  local status
  for status in QUEUED RETRYING SUBMITTED INPROGRESS; do
    [[ "$(curl -fsS -H @<(printf 'Authorization: Bearer %s\n' "$DTS_TOKEN") "$BASE/api/tasks?status=$status&limit=1")" == "[]" ]] || return 1
  done
}
until drained; do sleep 2; done

log "big task: $BIG_ITEMS items (cancelled after $BIG_SECONDS s if not done)"
BIG="$("${BENCH[@]}" big "$BASE" "$BIG_ITEMS" "$BIG_SECONDS")"
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$(pid_of "$1")/status"; }
SCHED_RSS=$(peak_rss_mb scheduler-1)
WORKER_RSS=$(( $(peak_rss_mb worker-1) > $(peak_rss_mb worker-2) ? $(peak_rss_mb worker-1) : $(peak_rss_mb worker-2) ))

jq -n --argjson cores "$CORES" --argjson items "$ITEMS" --argjson xargs "$X" --argjson parallel "$P" --argjson stack "$D" \
  --argjson latency "$LATENCY" --argjson submit "$SUBMIT" --argjson big "$BIG" \
  --argjson schedulerRss "$SCHED_RSS" --argjson workerRss "$WORKER_RSS" --arg cpu "$(lscpu | sed -n 's/^Model name: *//p')" \
  '{machine: {cores: $cores, cpu: $cpu}, throughput: {items: $items, xargsPerSecond: $xargs, parallelPerSecond: $parallel,
    stackPerSecond: $stack, stackVsXargs: ($stack / $xargs), stackVsParallel: ($stack / $parallel)},
    latency: $latency, submitRate: $submit, bigTask: ($big + {schedulerPeakRssMb: $schedulerRss, workerPeakRssMb: $workerRss})}' >"$RESULT"

jq -r '
  "| measure | value |", "|---|---|",
  "| throughput, xargs -P \(.machine.cores) | \(.throughput.xargsPerSecond | floor) items/s |",
  "| throughput, parallel -j \(.machine.cores) | \(.throughput.parallelPerSecond | floor) items/s |",
  "| throughput, this stack | \(.throughput.stackPerSecond | floor) items/s |",
  "| stack / xargs | \(.throughput.stackVsXargs * 100 | floor / 100) |",
  "| stack / parallel | \(.throughput.stackVsParallel * 100 | floor / 100) |",
  "| one-item task, submit to done p50 / p90 / p99 | \(.latency.p50Ms) / \(.latency.p90Ms) / \(.latency.p99Ms) ms |",
  "| accepted submits/s (\(.submitRate.clients) clients, \(.submitRate.seconds) s) | \(.submitRate.acceptedPerSecond) (p99 \(.submitRate.p99Ms) ms, \(.submitRate.errors) errors) |",
  "| \(.bigTask.items)-item task: accepted in / done in | \(.bigTask.acceptedSeconds) s / \(if .bigTask.cutOff then "not done: \(.bigTask.succeeded) items in \(.bigTask.seconds) s (\(.bigTask.itemsPerSecond | floor) items/s), cancelled" else "\(.bigTask.seconds) s (\(.bigTask.status))" end) |",
  "| peak RSS scheduler / worker | \(.bigTask.schedulerPeakRssMb) / \(.bigTask.workerPeakRssMb) MB |"' "$RESULT"
log "numbers written to $RESULT"
