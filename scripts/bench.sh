#!/usr/bin/env bash
# Benchmarks the stack against xargs -P and GNU Parallel on this machine, interleaving the runs, and
# prints one table; the same numbers go to .bench/<timestamp>.json. Next to each measure it measures
# what this machine allows for it: ceilings on the rate (bash loops forking a subshell per item, the
# workers' own shell loop without the workers, the CPU each accepted submit costs the scheduler, Redis
# and Kafka) and a floor on the latency (the POST, the item's own time, one Kafka hop alone). Starts the
# stack and stops it when done (or uses a running one, reshaped to one Redis, one Kafka broker, one
# scheduler and 2 workers whose threads add up to the core count, and leaves it running).
#   ./scripts/bench.sh [--rounds R] [--items N] [--latency-tasks T] [--fairness-probes P] [--submit-seconds S] [--big-items B] [--big-seconds S]
#                      [--without-stealing]
# The big task is cancelled after --big-seconds (default 600) if not done by then; its rate is then what ran.
# --without-stealing: each round also runs the stack's task with work stealing off (the workers restarted with
# WORKER_STEALINTERVAL=0s, then back; the order alternates by round, and a warm-up task follows each restart),
# so what stealing costs is a ratio measured in the same run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

WITHOUT_STEALING=0 ROUNDS=3 ITEMS=20000 LATENCY_TASKS=200 FAIRNESS_PROBES=10 SUBMIT_CLIENTS=16 SUBMIT_SECONDS=20 BIG_ITEMS=1000000 BIG_SECONDS=600
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --items) ITEMS="$2"; shift 2 ;;
    --latency-tasks) LATENCY_TASKS="$2"; shift 2 ;;
    --fairness-probes) FAIRNESS_PROBES="$2"; shift 2 ;;
    --submit-seconds) SUBMIT_SECONDS="$2"; shift 2 ;;
    --big-items) BIG_ITEMS="$2"; shift 2 ;;
    --big-seconds) BIG_SECONDS="$2"; shift 2 ;;
    --without-stealing) WITHOUT_STEALING=1; shift ;;
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
STACK_SHAPE=(--workers "$WORKERS" --threads "$THREADS" --schedulers 1 --redis-single --kafka-brokers 1)
"$DTS_ROOT/scripts/stack.sh" up "${STACK_SHAPE[@]}"
# The API wants a token: $DTS_TOKEN, else the operator's that stack.sh made; Bench.java and wrk read it from there.
export DTS_TOKEN="${DTS_TOKEN:-$(<"$STACK_DIR/tokens/admin")}"
warm_up() {
  log "warm-up: one task of 5000 items (not measured)"
  "${BENCH[@]}" throughput "$BASE" 5000 >/dev/null
}
warm_up
# restart_workers [ENV=VALUE...]: the workers again, with these settings in their environment, then warmed up.
restart_workers() {
  stop worker-1 worker-2
  env "$@" "$DTS_ROOT/scripts/stack.sh" up "${STACK_SHAPE[@]}" --no-build >/dev/null
  warm_up
}

# Items/s of one run of the given command over $ITEMS items.
rate_of() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null || die "$1 failed (above)"
  end=$(date +%s%N)
  awk -v n="$ITEMS" -v ns=$((end - start)) 'BEGIN {print n * 1e9 / ns}'
}
# One trivial bash per item, exactly what the stack runs per item.
# shellcheck disable=SC2016 # $1 is for the bash that xargs starts
run_xargs() { seq 0 $((ITEMS - 1)) | xargs -P "$CORES" -n 1 bash -c 'echo "$1" >/dev/null' dts; }
run_parallel() { seq 0 $((ITEMS - 1)) | parallel -j "$CORES" bash -c "'echo \"\$1\" >/dev/null'" dts; }
# per_core ARGS...: one `bash -c ARGS...` per core at once, each reading its share of the items on stdin.
per_core() {
  local c pids=()
  for ((c = 0; c < CORES; c++)); do
    seq "$c" "$CORES" $((ITEMS - 1)) | bash -c "$@" "$c" &
    pids+=($!)
  done
  for c in "${pids[@]}"; do wait "$c" || return 1; done
}
# The ceiling of any way of running items that forks once per item: one bash loop per core forks a
# subshell per item for the same command, with nothing else in the way.
# shellcheck disable=SC2016 # $i and $1 are the loop's
run_fork_loops() { per_core 'while read -r i; do ( set -- "$i"; echo "$1" >/dev/null ); done' fork-loop; }
# The ceiling of the workers' own way: one long-lived bash per core runs the loop of PersistentShell.java
# (read from the source, so it is the loop the workers run), driven by a bash that does a subset of what a
# worker thread does per item: write its input file, send its request line, read its exit code. The loop
# gives each item its limits (the workers' defaults), stdin/stdout/stderr files, working directory and
# environment as in the stack. Left out, so the ceiling can only be higher than the stack could reach:
# Java, Redis and Kafka; a fresh home directory per item (one is reused); reading the item's outputs; the
# sandbox namespace and user, the kill of an item's leftovers and the emptying of its private /tmp (outside a
# namespace both would reach the host's). Like the workers, it execs a bash -c per item (its own $$).
SHELL_LOOP="$(sed -n '/LOOP = """/,/""";/p' "$DTS_ROOT/worker-service/src/main/java/io/dts/worker/item/PersistentShell.java" |
  sed '1d;$d; s/^            //; s/\\\\/\\/g')"
# What the exec per item costs: the same loop running each command in its subshell, as items ran before
# they got their own $$ (they all shared the long-lived bash's).
# shellcheck disable=SC2016 # the loop's own text, not expanded here
EXEC_PER_ITEM='exec bash -c "$__dts_command" dts "$@"'
SHARED_PID_LOOP="${SHELL_LOOP/"$EXEC_PER_ITEM"/eval \"\$__dts_command\"}"
if ! bash -n <<<"$SHELL_LOOP" || [[ $SHELL_LOOP != *'while IFS='* || $SHARED_PID_LOOP == "$SHELL_LOOP" ]]; then
  die "could not read the shell loop from PersistentShell.java"
fi
SHELL_LOOPS_DIR="$OUT_DIR/shell-loops"
# shellcheck disable=SC2016 # the driver's variables are its own
SHELL_DRIVER='
  dir=$1/$3 new=1
  mkdir -p "$dir/home" && printf "%s" "echo \"\$1\" >/dev/null" >"$dir/cmd"
  # The environment a worker gives its shells: PATH and the locale, nothing of the caller.
  coproc LOOP { env -i PATH="$PATH" LANG="${LANG-}" bash -c "$2" dts "$dir" 0 "ulimit -H -S -c 0 -t 3600 -v 4194304 -u 512 -f 262144 -n 1024"; }
  while read -r i; do
    echo "$i" >"$dir/in"
    echo "1 $i 0 bench $new $dir/home" >&"${LOOP[1]}"
    new=0
    read -r code <&"${LOOP[0]}" && [[ $code == 0 ]] || { echo "shell loop: item $i exited ${code:-without an answer}" >&2; exit 1; }
  done'
run_shell_loops() { # run_shell_loops [LOOP]
  rm -rf "$SHELL_LOOPS_DIR"
  per_core "$SHELL_DRIVER" driver "$SHELL_LOOPS_DIR" "${1:-$SHELL_LOOP}" && rm -rf "$SHELL_LOOPS_DIR"
}

declare -a XARGS PARALLEL FORKS SHELLS SHARED DTS UNSTOLEN
STEALING=1
stack_without_stealing() { # appends to UNSTOLEN, the workers left as they were
  ((STEALING == 0)) || { restart_workers WORKER_STEALINTERVAL=0s; STEALING=0; }
  UNSTOLEN+=("$("${BENCH[@]}" throughput "$BASE" "$ITEMS" | jq .itemsPerSecond)")
}
stack_with_stealing() {
  ((STEALING == 1)) || { restart_workers; STEALING=1; }
  DTS+=("$("${BENCH[@]}" throughput "$BASE" "$ITEMS" | jq .itemsPerSecond)")
}
log "throughput: $ITEMS items, $ROUNDS interleaved rounds of xargs -P $CORES, parallel -j $CORES, $CORES fork loops, $CORES shell loops (and without the exec per item), the stack"
for ((r = 1; r <= ROUNDS; r++)); do
  XARGS+=("$(rate_of run_xargs)")
  PARALLEL+=("$(rate_of run_parallel)")
  FORKS+=("$(rate_of run_fork_loops)")
  SHELLS+=("$(rate_of run_shell_loops)")
  SHARED+=("$(rate_of run_shell_loops "$SHARED_PID_LOOP")")
  if ((WITHOUT_STEALING == 0)); then
    stack_with_stealing
  elif ((STEALING == 1)); then
    stack_with_stealing && stack_without_stealing
  else
    stack_without_stealing && stack_with_stealing
  fi
  unstolen="" && ((WITHOUT_STEALING == 0)) || unstolen=" (${UNSTOLEN[-1]%.*}/s without stealing)"
  log "  round $r: xargs ${XARGS[-1]%.*}/s  parallel ${PARALLEL[-1]%.*}/s  fork loops ${FORKS[-1]%.*}/s  shell loops ${SHELLS[-1]%.*}/s (${SHARED[-1]%.*}/s without exec)  stack ${DTS[-1]%.*}/s$unstolen"
done
((STEALING == 1)) || { restart_workers; STEALING=1; }
json_array() { printf '%s\n' "$@" | jq -s -c .; }
ROUNDS_JSON="$(jq -n -c --argjson xargs "$(json_array "${XARGS[@]}")" --argjson parallel "$(json_array "${PARALLEL[@]}")" \
  --argjson forkLoops "$(json_array "${FORKS[@]}")" --argjson shellLoops "$(json_array "${SHELLS[@]}")" \
  --argjson sharedPidLoops "$(json_array "${SHARED[@]}")" --argjson stack "$(json_array "${DTS[@]}")" \
  --argjson withoutStealing "$(json_array "${UNSTOLEN[@]}")" \
  '{xargs: $xargs, parallel: $parallel, forkLoops: $forkLoops, shellLoops: $shellLoops, sharedPidLoops: $sharedPidLoops, stack: $stack}
   + if $withoutStealing == [] then {} else {stackWithoutStealing: $withoutStealing} end')"

log "latency: $LATENCY_TASKS one-item tasks, one after another"
LATENCY="$("${BENCH[@]}" latency "$BASE" "$LATENCY_TASKS")"
log "fairness: $FAIRNESS_PROBES one-item tasks, one a second, while a long task fills all $CORES slots"
FAIRNESS="$("${BENCH[@]}" saturated "$BASE" "$CORES" "$FAIRNESS_PROBES")"
# A task crosses Kafka twice (scheduler to scheduler, scheduler to worker): one hop alone, produce then
# consume one record at a time, timed by Kafka's own EndToEndLatency on the stack's broker, in a topic of its
# own deleted afterwards. The tool polls in a tight loop (fetch.max.wait.ms=0): a floor for one hop.
log "one Kafka hop alone: 2000 records, Kafka's EndToEndLatency"
KAFKA_TOOLS=(java -Xmx256m -Duser.language=en -Duser.country=US -cp "$STACK_DIR/kafka/libs/*")
KAFKA_ADDRESS="127.0.0.1:${KAFKA_PORT:-9092}"
HOP_OUT="$("${KAFKA_TOOLS[@]}" org.apache.kafka.tools.EndToEndLatency "$KAFKA_ADDRESS" bench-kafka-hop 2000 all 300 "$KAFKA_CLIENT_CONFIG" 2>&1)" ||
  die "Kafka's EndToEndLatency failed: $HOP_OUT"
HOP="$(sed -n 's/^Avg latency: \([0-9.]*\) ms$/{"kafkaHopAvgMs":\1}/p' <<<"$HOP_OUT")"
[[ -n $HOP ]] || die "Kafka's EndToEndLatency printed no average: $HOP_OUT"
"${KAFKA_TOOLS[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_ADDRESS" --command-config "$KAFKA_CLIENT_CONFIG" \
  --delete --topic bench-kafka-hop >/dev/null 2>&1 || warn "could not delete the topic bench-kafka-hop"

log "submit rate: $SUBMIT_CLIENTS connections for $SUBMIT_SECONDS s (wrk)"
# pid_or_die NAME: the PID of a component this run measures.
pid_or_die() { pid_of "$1" || die "$1 is not running (bench.sh measures one Redis, one Kafka broker, scheduler-1, worker-1 and worker-2)"; }
SCHEDULER_PID="$(pid_or_die scheduler-1)" REDIS_PID="$(pid_or_die redis)" KAFKA_PID="$(pid_or_die kafka)"
# CPU time (user + system, in clock ticks) of a process, and the busy time of the whole machine, around the wrk run.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
cpu_snapshot() { echo "$(cpu_ticks "$SCHEDULER_PID") $(cpu_ticks "$REDIS_PID") $(cpu_ticks "$KAFKA_PID") $(machine_ticks)"; }
CPU_BEFORE="$(cpu_snapshot)"
WRK="$(wrk -t2 -c"$SUBMIT_CLIENTS" -d"${SUBMIT_SECONDS}s" --latency -s "$DTS_ROOT/scripts/bench/submit.lua" "$BASE")"
CPU_AFTER="$(cpu_snapshot)"
# wrk counts every answer; only 202s are accepted tasks.
SUBMIT="$(awk -v clients="$SUBMIT_CLIENTS" -v secs="$SUBMIT_SECONDS" '
  /requests in/ {total = $1} /Non-2xx/ {bad = $5} /Socket errors/ {gsub(/,/, ""); sock = $4 + $6 + $8 + $10}
  $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
  function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
  END {printf "{\"clients\":%d,\"seconds\":%d,\"accepted\":%d,\"acceptedPerSecond\":%.1f,\"errors\":%d,\"p50Ms\":%.1f,\"p99Ms\":%.1f}\n",
       clients, secs, total - bad, (total - bad) / secs, bad + sock, ms(p50), ms(p99)}' <<<"$WRK")"
ACCEPTED="$(jq .accepted <<<"$SUBMIT")"
((ACCEPTED > 0)) || die "wrk got no task accepted: $WRK"
# Milliseconds of CPU per accepted submit while wrk ran: the scheduler, Redis and Kafka accepting and
# sharding every task, plus the completions of the few that ran meanwhile. At that cost these cores take
# at most servicesCeilingPerSecond submits a second, even if the workers took no CPU at all.
SUBMIT_CPU="$(awk -v before="$CPU_BEFORE" -v after="$CPU_AFTER" -v accepted="$ACCEPTED" \
  -v tick_ms="$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN {print 1000 / hz}')" -v cores="$CORES" 'BEGIN {
    split(before, b); split(after, a); for (i = 1; i <= 4; i++) ms[i] = (a[i] - b[i]) * tick_ms / accepted
    printf "{\"schedulerMs\":%.2f,\"redisMs\":%.2f,\"kafkaMs\":%.2f,\"machineMs\":%.2f,\"servicesCeilingPerSecond\":%.0f}\n",
      ms[1], ms[2], ms[3], ms[4], cores * 1000 / (ms[1] + ms[2] + ms[3]) }')"
log "waiting for the submitted tasks to drain"
# Is any task in this status? A filtered page looks at a window of the newest tasks and, when there are
# older ones, says where to go on (Link: <...>; rel="next"), so an empty page is not yet "none".
any_task_in() {
  local path="/api/tasks?status=$1&limit=1" reply next
  while [[ -n $path ]]; do
    reply="$(curl -fsS -D - -H @<(printf 'Authorization: Bearer %s\n' "$DTS_TOKEN") "$BASE$path" | tr -d '\r')" ||
      die "could not list the tasks: GET $path"
    [[ ${reply##*$'\n\n'} == "[]" ]] || return 0
    next="$(sed -n 's/^link: <\([^>]*\)>; rel="next".*/\1/Ip' <<<"$reply")"
    [[ $next != "$path" ]] || die "GET $path answered a next page that is itself"
    path="$next"
  done
  return 1
}
drained() {
  local status
  for status in QUEUED RETRYING SUBMITTED INPROGRESS; do
    if any_task_in "$status"; then return 1; fi
  done
}
DRAIN_DEADLINE=$((SECONDS + 3600))
until drained; do
  ((SECONDS < DRAIN_DEADLINE)) || die "the submitted tasks did not drain within an hour"
  sleep 2
done

log "big task: $BIG_ITEMS items (cancelled after $BIG_SECONDS s if not done)"
BIG="$("${BENCH[@]}" big "$BASE" "$BIG_ITEMS" "$BIG_SECONDS")"
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$(pid_or_die "$1")/status"; }
SCHED_RSS=$(peak_rss_mb scheduler-1) WORKER_1_RSS=$(peak_rss_mb worker-1) WORKER_2_RSS=$(peak_rss_mb worker-2)
WORKER_RSS=$((WORKER_1_RSS > WORKER_2_RSS ? WORKER_1_RSS : WORKER_2_RSS))

jq -n --argjson cores "$CORES" --argjson items "$ITEMS" --argjson rounds "$ROUNDS_JSON" --argjson latency "$LATENCY" --argjson hop "$HOP" --argjson submit "$SUBMIT" \
  --argjson fairness "$FAIRNESS" \
  --argjson submitCpu "$SUBMIT_CPU" --argjson big "$BIG" --argjson schedulerRss "$SCHED_RSS" --argjson workerRss "$WORKER_RSS" \
  --arg cpu "$(lscpu | sed -n 's/^Model name: *//p')" '
  def per_round(a; b): [range($rounds.xargs | length) as $i | $rounds[a][$i] / $rounds[b][$i]];
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  ($rounds | map_values(median)) as {xargs: $xargs, parallel: $parallel, forkLoops: $forks, shellLoops: $shells, sharedPidLoops: $shared,
    stack: $stack} |
  {machine: {cores: $cores, cpu: $cpu},
   throughput: {items: $items, xargsPerSecond: $xargs, parallelPerSecond: $parallel, forkLoopsPerSecond: $forks,
    shellLoopsPerSecond: $shells, sharedPidLoopsPerSecond: $shared, shellLoopsVsSharedPidLoops: ($shells / $shared), stackPerSecond: $stack, stackVsXargs: ($stack / $xargs), stackVsParallel: ($stack / $parallel),
    forkLoopsVsXargs: ($forks / $xargs), shellLoopsVsXargs: ($shells / $xargs), stackVsShellLoops: ($stack / $shells),
    rounds: $rounds, perRound: {stackVsXargs: per_round("stack"; "xargs"), shellLoopsVsXargs: per_round("shellLoops"; "xargs"),
      forkLoopsVsXargs: per_round("forkLoops"; "xargs"), stackVsShellLoops: per_round("stack"; "shellLoops"),
      shellLoopsVsSharedPidLoops: per_round("shellLoops"; "sharedPidLoops")},
    withoutStealing: (if $rounds.stackWithoutStealing then
      {perSecond: ($rounds.stackWithoutStealing | median), vsXargs: (($rounds.stackWithoutStealing | median) / $xargs),
       stackVsWithoutStealing: ($stack / ($rounds.stackWithoutStealing | median)),
       perRound: {vsXargs: per_round("stackWithoutStealing"; "xargs"), stackVsWithoutStealing: per_round("stack"; "stackWithoutStealing")}}
      else null end)},
   latency: ($latency + $hop + {stagesMs: ($latency.acceptP50Ms + $latency.itemP50Ms + 2 * $hop.kafkaHopAvgMs)}),
   fairness: ($fairness + {idleP50Ms: $latency.p50Ms, p50VsIdle: ($fairness.p50Ms / $latency.p50Ms)}),
   submitRate: ($submit + {cpuPerAccepted: $submitCpu}),
   bigTask: ($big + {schedulerPeakRssMb: $schedulerRss, workerPeakRssMb: $workerRss, secondsAtShellLoopsRate: ($big.items / $shells)})}' >"$RESULT"

jq -r '
  def r2: . * 100 | round / 100;
  def list: map(r2 | tostring) | join(" / ");
  "| measure | value |", "|---|---|",
  "| throughput, xargs -P \(.machine.cores) | \(.throughput.xargsPerSecond | round) items/s |",
  "| throughput, parallel -j \(.machine.cores) | \(.throughput.parallelPerSecond | round) items/s |",
  "| throughput, this stack | \(.throughput.stackPerSecond | round) items/s |",
  "| stack / xargs (medians; by round) | \(.throughput.stackVsXargs | r2) (\(.throughput.perRound.stackVsXargs | list)) |",
  (.throughput.withoutStealing // empty |
    "| the stack with work stealing off (same rounds) | \(.perSecond | round) items/s = \(.vsXargs | r2) x xargs (\(.perRound.vsXargs | list)); the stack with it runs \(.stackVsWithoutStealing | r2) of it (\(.perRound.stackVsWithoutStealing | list)) |"),
  "| stack / parallel | \(.throughput.stackVsParallel | r2) |",
  "| ceiling: \(.machine.cores) bash loops forking a subshell per item, nothing else | \(.throughput.forkLoopsPerSecond | round) items/s = \(.throughput.forkLoopsVsXargs | r2) x xargs (\(.throughput.perRound.forkLoopsVsXargs | list)) |",
  "| ceiling: the worker shell loop, \(.machine.cores) of them driven by bash, no Java, Redis or Kafka | \(.throughput.shellLoopsPerSecond | round) items/s = \(.throughput.shellLoopsVsXargs | r2) x xargs (\(.throughput.perRound.shellLoopsVsXargs | list)); the stack runs \(.throughput.stackVsShellLoops | r2) of it (\(.throughput.perRound.stackVsShellLoops | list)) |",
  "| what the exec per item (its own `$$`) costs: the shell loops / the same loops running each command in their subshell | \(.throughput.shellLoopsVsSharedPidLoops | r2) (\(.throughput.perRound.shellLoopsVsSharedPidLoops | list)); \(.throughput.sharedPidLoopsPerSecond | round) items/s without it |",
  "| one-item task, submit to done p50 / p90 / p99 | \(.latency.p50Ms) / \(.latency.p90Ms) / \(.latency.p99Ms) ms |",
  "| one-item task while a long task fills every slot (\(.fairness.longTaskItems) items of sleep 0.25), p50 / p99, next to idle p50 | \(.fairness.p50Ms) / \(.fairness.p99Ms) ms vs \(.fairness.idleP50Ms) ms idle (\(.fairness.p50VsIdle | r2) x); \(.fairness.endedWhileSaturated) of \(.fairness.probes) ended before the long task |",
  "| floor of it: the POST p50 + the item on its worker p50 + 2 Kafka hops alone (avg, tight polling) | \(.latency.acceptP50Ms) + \(.latency.itemP50Ms) + 2 x \(.latency.kafkaHopAvgMs | r2) = \(.latency.stagesMs * 10 | round / 10) ms |",
  "| accepted submits/s (\(.submitRate.clients) clients, \(.submitRate.seconds) s) | \(.submitRate.acceptedPerSecond) (p99 \(.submitRate.p99Ms) ms, \(.submitRate.errors) errors) |",
  "| CPU per accepted submit while wrk ran: scheduler / Redis / Kafka / whole machine | \(.submitRate.cpuPerAccepted | "\(.schedulerMs) / \(.redisMs) / \(.kafkaMs) / \(.machineMs) ms; at the first three alone \(.servicesCeilingPerSecond)/s") |",
  "| \(.bigTask.items)-item task: accepted in / done in | \(.bigTask.acceptedSeconds) s / \(if .bigTask.cutOff then "not done: \(.bigTask.succeeded) items in \(.bigTask.seconds) s (\(.bigTask.itemsPerSecond | round) items/s), cancelled" else "\(.bigTask.seconds) s (\(.bigTask.status))" end); at the shell loops\u0027 rate \(.bigTask.secondsAtShellLoopsRate | round) s |",
  "| peak RSS scheduler / worker | \(.bigTask.schedulerPeakRssMb) / \(.bigTask.workerPeakRssMb) MB |"' "$RESULT"
log "numbers written to $RESULT"
