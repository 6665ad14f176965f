#!/usr/bin/env bash
# A real cluster under random faults, with a client submitting a mix of tasks, then every invariant
# of exact accounting checked. Starts its own stack in .soak/ (2 schedulers behind nginx, 3 workers,
# Kafka, Redis with appendfsync always) on ports of its own, so it runs beside ./scripts/stack.sh.
#
# For --minutes N a client submits short, long, failing, halting (soon and now), cancelled, retried
# capped (maxParallel 2, a random priority) and skewed (its slow items first, for idle workers to take) tasks while a fault loop, bounded in count, picks at random: kill -9 or SIGSTOP/SIGCONT of
# a worker or a scheduler, a Kafka restart, a Redis restart (SIGTERM or kill -9), and, through a proxy
# between the services and Redis (redis-fault-proxy.py), every Redis connection cut at once or Redis
# answering late (every packet held 0.4 s) for a few seconds. Every run of an
# item appends a start and an end line to a side-effect log: task, item, worker process, time. Then,
# with the faults stopped, every task must finish within --settle seconds, and for each:
#   - its counts add up (succeeded + failed + skipped = total; CANCELLED: at most total);
#   - it ends as its kind must (short, long, capped and skewed COMPLETED, failing and halting FAILED, retried
#     COMPLETED after retry-failed, cancelled CANCELLED or COMPLETED);
#   - each item's result comes from a run of that item (its stdout names the task and the item);
#   - no item ran twice at the same time, and an item ran again only after the worker process
#     running it was killed or stopped, or its task was retried (from the side-effect log);
#   - a capped task never ran more than 2 items at once (from the same log), unless a worker was killed or
#     stopped within the 15 s before (a frozen worker's items run on while its leases run out);
#   - it is in the task listing.
# Prints the faults injected and the invariants checked, with counts, ends with "violations: N" and
# exits 1 when N > 0. Stops its stack at the end (logs stay in .soak/logs) unless --keep.
set -euo pipefail
export DTS_STACK_DIR="${DTS_STACK_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.soak}"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [--minutes N] [--faults MAX] [--settle SECONDS] [--seed S] [--keep] [--no-build]

  --minutes N      how long the client submits and the faults run (default 20)
  --faults MAX     at most this many faults in all (default: one per 20 s of the run)
  --settle S       after the faults, how long every task has to finish (default 300)
  --seed S         the random seed (default: the time); the same seed picks the same faults and mix
  --keep           leave the soak's stack running (./scripts/stack.sh with DTS_STACK_DIR=.soak)
  --no-build       use the service jars in */target

Env: SOAK_REDIS_PORT=16379 (the proxy on the next port) SOAK_KAFKA_PORT=19092 SOAK_SCHEDULER_PORT=31000 SOAK_WORKER_PORT=31101
EOF
}

MINUTES=20 MAX_FAULTS="" SETTLE=300 SEED="$(date +%s)" KEEP=0 BUILD=()
while (($#)); do
  case "$1" in
    --minutes) MINUTES="${2:?--minutes needs a number}"; shift 2 ;;
    --faults) MAX_FAULTS="${2:?--faults needs a number}"; shift 2 ;;
    --settle) SETTLE="${2:?--settle needs seconds}"; shift 2 ;;
    --seed) SEED="${2:?--seed needs a number}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-build) BUILD=(--no-build); shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[[ $MINUTES =~ ^[0-9]+(\.[0-9]+)?$ && $SETTLE =~ ^[0-9]+$ && $SEED =~ ^[0-9]+$ ]] || die "--minutes, --settle and --seed take numbers"
RUN_SECONDS="$(awk -v m="$MINUTES" 'BEGIN {printf "%d", m * 60}')"
MAX_FAULTS="${MAX_FAULTS:-$((RUN_SECONDS / 20 + 1))}"
RANDOM="$SEED"

export REDIS_PORT="${SOAK_REDIS_PORT:-16379}" KAFKA_PORT="${SOAK_KAFKA_PORT:-19092}"
export KAFKA_CONTROLLER_PORT="$((KAFKA_PORT + 1))" SCHEDULER_PORT="${SOAK_SCHEDULER_PORT:-31000}"
export WORKER_PORT="${SOAK_WORKER_PORT:-31101}" REDIS_APPENDFSYNC=always
# The services reach Redis through the fault proxy, on the next port.
export REDIS_CLIENT_PORT="$((REDIS_PORT + 1))"
STACK=("$DTS_ROOT/scripts/stack.sh")
API="http://127.0.0.1:$SCHEDULER_PORT/api"
WORKERS=3 SCHEDULERS=2
SOAK="$STACK_DIR/soak"
# Written by items (the sandbox user): the side-effect log and markers. Outside /tmp (items get a private one),
# so not in a checkout under /tmp: as root, where workers put their items' directories too.
ITEMS_DIR="$STACK_DIR/items"
((EUID == 0)) && ITEMS_DIR="/var/lib/dts-soak/items"
SIDE_EFFECTS="$ITEMS_DIR/runs.log"
TASKS="$SOAK/tasks.tsv"   # id kind submittedAt
EVENTS="$SOAK/events.tsv" # time what target: kill|stop|cont|restart|retry (asked)|retried (taken)|cancel
FAULTS_LOG="$SOAK/faults.log"

CHILDREN=() PROXY_PID=""
finish() {
  local rc=$? pid
  for pid in "${CHILDREN[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -n $PROXY_PID ]] && kill -HUP "$PROXY_PID" 2>/dev/null # no delay left behind by an interrupted fault
  # A worker or scheduler left stopped by an interrupted fault goes on, so the stack can stop.
  for name in worker-1 worker-2 worker-3 scheduler-1 scheduler-2; do
    if pid="$(pid_of "$name")"; then kill -CONT "$pid" 2>/dev/null || true; fi
  done
  if ((KEEP)); then
    log "the soak's stack keeps running (--keep): DTS_STACK_DIR=$STACK_DIR ./scripts/stack.sh status|down"
  else
    log "stopping the soak's stack (logs stay in $LOG_DIR)"
    "${STACK[@]}" down >/dev/null || warn "stopping failed; run: DTS_STACK_DIR=$STACK_DIR ./scripts/stack.sh down"
  fi
  if [[ -n $PROXY_PID ]]; then
    if ((KEEP)); then log "the Redis fault proxy keeps running too, PID $PROXY_PID"; else kill "$PROXY_PID" 2>/dev/null || true; fi
  fi
  exit "$rc"
}
trap finish EXIT

now() { date +%s.%N; }
event() { printf '%s\t%s\t%s\n' "$(now)" "$1" "$2" >>"$EVENTS"; }
# pick N: a random 0..N-1 in PICKED. Not echoed: a command substitution is a subshell, which bash reseeds.
pick() { PICKED=$((RANDOM % $1)); }

log "soak: $MINUTES min, at most $MAX_FAULTS faults, seed $SEED, stack in $STACK_DIR"
"${STACK[@]}" down >/dev/null 2>&1 || true
rm -rf "$SOAK" "$ITEMS_DIR"
ensure_packages python3
mkdir -p "$LOG_DIR"
python3 "$DTS_ROOT/scripts/redis-fault-proxy.py" "$REDIS_CLIENT_PORT" "$REDIS_PORT" >>"$LOG_DIR/redis-fault-proxy.log" 2>&1 &
PROXY_PID=$!
"${STACK[@]}" up --schedulers "$SCHEDULERS" --workers "$WORKERS" --threads 2 "${BUILD[@]}"
mkdir -p "$SOAK" "$ITEMS_DIR"
chmod 755 "$(dirname "$ITEMS_DIR")"
chmod 777 "$ITEMS_DIR"
for file in "$TASKS" "$EVENTS" "$FAULTS_LOG"; do : >"$file"; done
AUTH="$SOAK/auth"
printf 'Authorization: Bearer %s\n' "$(<"$STACK_DIR/tokens/admin")" >"$AUTH"

# api METHOD PATH [BODY-FILE] [HEADER...]: one request; prints the HTTP status, the body in $REPLY_TO (each
# process that calls it sets its own: it is called in command substitutions, whose BASHPID is not the caller's).
REPLY_TO="$SOAK/reply.main"
api() {
  local method="$1" path="$2" body="${3:-}" args=() header
  shift 3 || shift $#
  [[ -n $body ]] && args=(-H 'Content-Type: application/json' --data-binary "@$body")
  for header in "$@"; do args+=(-H "$header"); done
  curl -sS -o "$REPLY_TO" -w '%{http_code}' --max-time 10 -X "$method" -H "@$AUTH" "${args[@]}" "$API$path" 2>/dev/null || echo 000
}

# retrying METHOD PATH [BODY-FILE] [HEADER...]: the request again (same Idempotency-Key) until a 2xx or a 4xx, for up to
# 2 min. A 429 and a submit's 409 (the same request still being saved, after a failed save: "retry in a moment") are retried.
retrying() {
  local status i
  for ((i = 0; i < 120; i++)); do
    status="$(api "$@")"
    [[ $status == 2* || ($status == 4* && $status != 429 && ! ($status == 409 && $1 == POST && $2 == /tasks)) ]] &&
      { echo "$status"; return; }
    sleep 1
  done
  echo "$status"
}

# ---------------------------------------------------------------------------------------------
# The mix: each item logs its run, names its task and item on stdout, and does its kind's work.
# shellcheck disable=SC2016 # the commands are the items' own: their variables expand when they run
template() { # template WORK: the command around an item's work; the work's exit code is the item's
  printf '%s' 'export LC_ALL=C; w=${HOME%/*/*}; w=${w##*/}; echo "S $DTS_TASK_ID $DTS_ITEM_INDEX $w $EPOCHREALTIME" >> "{{log}}"; '
  printf '%s' "rc=0; $1; "
  printf '%s' 'echo "E $DTS_TASK_ID $DTS_ITEM_INDEX $w $EPOCHREALTIME $rc" >> "{{log}}"; echo "$DTS_TASK_ID $DTS_ITEM_INDEX"; exit $rc'
}

KINDS=(short short short long failing failing halting-soon halting-now cancelled retried retried capped skewed)
CAP=2
# shellcheck disable=SC2016 # the same: the items' own commands
submit_one() {
  local kind="$1" items work halt='null' sharing='{}' body="$SOAK/body" key status id
  case "$kind" in
    short) pick 40; items=$((20 + PICKED)) work='sleep 0.0$((RANDOM % 5))' ;;
    long) pick 5; items=$((4 + PICKED)) work='sleep $((2 + RANDOM % 3))' ;;
    failing) items=20 work='sleep 0.1; [ $((DTS_ITEM_INDEX % 5)) = 2 ] && rc=3' ;;
    halting-soon | halting-now)
      items=30 work='sleep 0.3; [ $((DTS_ITEM_INDEX % 7)) = 3 ] && rc=1'
      halt="{\"when\":\"${kind#halting-}\",\"failures\":2}" ;;
    cancelled) items=30 work='sleep 1' ;;
    skewed) items=16 work='[ "$DTS_ITEM_INDEX" -lt 8 ] && sleep 1' ;;
    capped) pick 6; items=12 work='sleep 0.3' sharing="{\"maxParallel\":$CAP,\"priority\":$PICKED}" ;;
    retried) items=15 work='m="{{dir}}/$DTS_TASK_ID.$DTS_ITEM_INDEX"; if [ $((DTS_ITEM_INDEX % 3)) = 0 ] && [ ! -e "$m" ]; then : > "$m"; rc=1; fi; sleep 0.1' ;;
  esac
  jq -n --arg t "$(template "$work")" --arg log "$SIDE_EFFECTS" --arg dir "$ITEMS_DIR" --argjson n "$items" --argjson halt "$halt" --argjson sharing "$sharing" \
    '{templateFunction: $t, variableJson: {log: $log, dir: $dir}, inputList: [range($n) | "i\(.)"]} + (if $halt then {halt: $halt} else {} end) + $sharing' >"$body"
  key="soak-$SEED-$RANDOM-$RANDOM-$BASHPID"
  status="$(retrying POST /tasks "$body" "Idempotency-Key: $key")"
  if [[ $status != 20[02] ]]; then
    printf '%s\tsubmit\t%s %s\n' "$(now)" "$kind" "$status" >>"$SOAK/refused.tsv"
    return
  fi
  id="$(jq -r .id "$REPLY_TO")"
  printf '%s\t%s\t%s\n' "$id" "$kind" "$(now)" >>"$TASKS"
  # shellcheck disable=SC2030 # each background job answers into its own file
  case "$kind" in
    cancelled) pick 9; (REPLY_TO="$SOAK/reply.$BASHPID"; sleep "1.$PICKED"; [[ $(retrying POST "/tasks/$id/cancel") == 2* ]] && event cancel "$id") & ;;
    retried) (REPLY_TO="$SOAK/reply.$BASHPID"; retry_when_failed "$id" "$CLIENT_END") & ;;
  esac
}

# shellcheck disable=SC2031 # the caller's own reply file
status_of() { [[ $(api GET "/tasks/$1") == 200 ]] && jq -r .status "$REPLY_TO" || echo unknown; }

retry_when_failed() { # retry_when_failed ID UNTIL: the retried kind, once FAILED, is retried once (until SECONDS = UNTIL)
  local deadline="$2" status
  while ((SECONDS < deadline)); do
    status="$(status_of "$1")"
    case "$status" in
      FAILED) event retry "$1"; [[ $(retrying POST "/tasks/$1/retry-failed") == 2* ]] && event retried "$1"; return ;;
      COMPLETED | CANCELLED | SUBMISSION_FAILED) return ;;
    esac
    sleep 1
  done
}

CLIENT_END=$((SECONDS + RUN_SECONDS))
client() {
  RANDOM=$((SEED + 1))
  REPLY_TO="$SOAK/reply.client"
  while ((SECONDS < CLIENT_END)); do
    pick ${#KINDS[@]}
    submit_one "${KINDS[PICKED]}"
    pick 7
    sleep "0.$((3 + PICKED))"
  done
  wait
}

# ---------------------------------------------------------------------------------------------
# The faults, one at a time, each ended (restarted, continued) before the next.

fault() {
  local kind="$1" name="$2" pid
  pid="$(pid_of "$name")" || { warn "fault $kind $name: $name is not running"; return 0; }
  case "$kind" in
    kill)
      kill -KILL "$pid"; event kill "$name"
      pick 4
      sleep "$((1 + PICKED))"
      event restart "$name"; "${STACK[@]}" up --no-build >>"$SOAK/restarts.log" 2>&1 || warn "restarting $name failed (see $SOAK/restarts.log)" ;;
    stop)
      kill -STOP "$pid"; event stop "$name"
      pick 12
      sleep "$((2 + PICKED))"
      event cont "$name"; kill -CONT "$pid" ;;
    term)
      kill -TERM "$pid"; event kill "$name"
      local i; for ((i = 0; i < 60 && $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 1; done
      event restart "$name"; "${STACK[@]}" up --no-build >>"$SOAK/restarts.log" 2>&1 || warn "restarting $name failed (see $SOAK/restarts.log)" ;;
    cut)
      kill -USR1 "$PROXY_PID"; event cut "$name" ;;
    slow)
      kill -USR2 "$PROXY_PID"; event slow "$name"
      pick 12
      sleep "$((2 + PICKED))"
      kill -HUP "$PROXY_PID"; event fast "$name" ;;
  esac
  printf '%s %s %s\n' "$(date +%T)" "$kind" "$name" >>"$FAULTS_LOG"
}

faults() {
  RANDOM=$((SEED + 2))
  local end=$((SECONDS + RUN_SECONDS)) count=0
  sleep 5
  while ((SECONDS < end && count < MAX_FAULTS)); do
    pick 10
    local what="$PICKED"
    case "$what" in
      0 | 1 | 2) pick "$WORKERS" ;;
      3 | 4) pick "$SCHEDULERS" ;;
    esac
    case "$what" in
      0 | 1) fault kill "worker-$((1 + PICKED))" ;;
      2) fault stop "worker-$((1 + PICKED))" ;;
      3) fault kill "scheduler-$((1 + PICKED))" ;;
      4) fault stop "scheduler-$((1 + PICKED))" ;;
      5) fault term kafka ;;
      6) fault term redis ;;
      7) fault kill redis ;;
      8) fault cut redis ;;
      9) fault slow redis ;;
    esac
    count=$((count + 1))
    pick 15
    sleep "$((5 + PICKED))"
  done
}

log "client and faults for $RUN_SECONDS s"
client &
CHILDREN+=($!)
faults &
CHILDREN+=($!)
wait "${CHILDREN[@]}" || true
CHILDREN=()
log "faults stopped ($(wc -l <"$FAULTS_LOG") injected); making sure the whole stack is up"
kill -0 "$PROXY_PID" 2>/dev/null || die "the Redis fault proxy died (see $LOG_DIR/redis-fault-proxy.log)"
"${STACK[@]}" up --no-build >>"$SOAK/restarts.log" 2>&1 || die "the stack did not come back up (see $SOAK/restarts.log)"

# ---------------------------------------------------------------------------------------------
# Settle: every task finished (a retried one after its retry), within the bound.

log "waiting up to $SETTLE s for $(wc -l <"$TASKS") tasks to finish"
VIOLATIONS="$SOAK/violations.txt"
: >"$VIOLATIONS"
violation() { printf '%s\n' "$*" >>"$VIOLATIONS"; }
SETTLE_END=$((SECONDS + SETTLE))
while IFS=$'\t' read -r id kind _; do
  while :; do
    status="$(status_of "$id")"
    case "$status" in
      COMPLETED | CANCELLED | SUBMISSION_FAILED) break ;;
      FAILED)
        [[ $kind == retried ]] || break
        # Retried once FAILED: by the client during the run, else here.
        if ! grep -q "	retried	$id\$" "$EVENTS"; then
          event retry "$id"
          [[ $(retrying POST "/tasks/$id/retry-failed") == 2* ]] && event retried "$id"
        fi ;;
    esac
    ((SECONDS < SETTLE_END)) || { violation "task $id ($kind): not finished within ${SETTLE}s after the faults, status $status"; break; }
    sleep 1
  done
done <"$TASKS"

# ---------------------------------------------------------------------------------------------
# Check each task: status, counts, results, runs.

log "checking every task"
CHECKS=0
check() { CHECKS=$((CHECKS + 1)); }
listed="$SOAK/listed.txt"
: >"$listed"
path="/tasks?limit=100"
while [[ -n $path ]]; do
  reply="$(curl -fsS -D - -H "@$AUTH" "$API$path" | tr -d '\r')" || die "could not list the tasks: GET $path"
  jq -r '.[].id' <<<"${reply##*$'\n\n'}" >>"$listed"
  next="$(sed -n 's/^link: <\([^>]*\)>; rel="next".*/\1/Ip' <<<"$reply")"
  next="${next#/api}"
  [[ $next != "$path" ]] || die "GET $path answered a next page that is itself"
  path="$next"
done

while IFS=$'\t' read -r id kind _; do
  check
  grep -qx "$id" "$listed" || violation "task $id ($kind): missing from the listing"
  [[ $(api GET "/tasks/$id") == 200 ]] || { violation "task $id ($kind): GET answered $(cat "$REPLY_TO")"; continue; }
  view="$(cat "$REPLY_TO")"
  status="$(jq -r .status <<<"$view")"
  check
  jq -e '((.itemsSucceeded // 0) + (.itemsFailed // 0) + (.itemsSkipped // 0)) as $n
         | if .status == "COMPLETED" or .status == "FAILED" then $n == .itemsTotal
           elif .status == "CANCELLED" then $n <= .itemsTotal else true end' <<<"$view" >/dev/null ||
    violation "task $id ($kind, $status): counts do not add up: $(jq -c '{itemsTotal, itemsSucceeded, itemsFailed, itemsSkipped}' <<<"$view")"
  check
  case "$kind:$status" in
    short:COMPLETED | long:COMPLETED | capped:COMPLETED | skewed:COMPLETED | failing:FAILED | halting-*:FAILED | retried:COMPLETED | cancelled:CANCELLED | cancelled:COMPLETED) ;;
    *) violation "task $id ($kind): ended $status" ;;
  esac
  [[ $kind == halting-* && $status == FAILED ]] && ! jq -e '.halted' <<<"$view" >/dev/null && violation "task $id ($kind): FAILED but not halted"
  check
  if [[ $(api GET "/tasks/$id/results?format=jsonl") == 200 ]]; then
    jq -r --arg id "$id" 'select(.skipped != true and .exitCode != null and .exitCode != 126)
      | select((.stdout | split("\n")[0]) != "\($id) \(.index)") | "task \($id): item \(.index) result is not from a run of it: \(.stdout[0:80])"' \
      "$REPLY_TO" >>"$VIOLATIONS"
  else
    violation "task $id ($kind): results answered $(cat "$REPLY_TO")"
  fi
done <"$TASKS"

# The runs: for each item, in start order, a run may start while an earlier one has not ended, or after one
# that ended, only when that one's worker process was killed or stopped in between, or the task was retried.
# Worker processes are named by their work root (dts-<worker id>-<uuid>); events name the worker id.
RUN_CHECKS="$(awk -v out="$VIOLATIONS" '
  FILENAME == ARGV[1] { t[++ne] = $1; what[ne] = $2; target[ne] = $3; next }
  $1 == "S" { key = $2 " " $3; n[key]++; start[key, n[key]] = $5; proc[key, n[key]] = $4; next }
  $1 == "E" {
    key = $2 " " $3
    for (i = n[key]; i >= 1; i--) if (proc[key, i] == $4 && !((key, i) in end)) { end[key, i] = $5; break }
    next
  }
  # dts-<worker id>-<36-character uuid> -> <worker id>
  function worker(p) { return substr(p, 5, length(p) - 4 - 37) }
  # A kill or stop is logged once sent; a run its process was starting just then logs its start a moment later,
  # so a kill or stop up to a second before a run started still explains a run beside or after it.
  function explained(key, i, from, to,   e, parts) {
    split(key, parts, " ")
    for (e = 1; e <= ne; e++) {
      if (t[e] > to) continue
      if ((what[e] == "kill" || what[e] == "stop") && t[e] >= from - 1 && target[e] == worker(proc[key, i])) return 1
      if (what[e] == "retry" && t[e] >= from && target[e] == parts[1]) return 1
    }
    return 0
  }
  END {
    for (key in n) {
      items++
      for (j = 2; j <= n[key]; j++) {
        for (i = j - 1; i >= 1; i--) {
          pairs++
          if (explained(key, i, start[key, i], start[key, j])) continue
          if (((key, i) in end) && end[key, i] <= start[key, j])
            print "item " key ": ran again at " start[key, j] " on " proc[key, j] " after a run on " proc[key, i] " ended at " end[key, i] ", with no death or retry between" >> out
          else
            print "item " key ": runs at the same time on " proc[key, i] " (from " start[key, i] ") and " proc[key, j] " (from " start[key, j] ")" >> out
        }
      }
    }
    printf "%d %d\n", items, pairs
  }' "$EVENTS" "$SIDE_EFFECTS")" || die "could not read the side-effect log $SIDE_EFFECTS"
read -r ITEMS_RUN RUN_PAIRS <<<"$RUN_CHECKS"

# The capped tasks: at no run's start were more than CAP runs of its task going (runs that logged their end).
CAP_CHECKS="$(awk -v out="$VIOLATIONS" -v cap="$CAP" '
  FILENAME == ARGV[1] { t[++ne] = $1; what[ne] = $2; next }
  FILENAME == ARGV[2] { if ($2 == "capped") capped[$1] = 1; next }
  $1 == "S" && ($2 in capped) { key = $2 " " $3 " " $4; n++; task[n] = $2; s[n] = $5; open[key] = n; next }
  $1 == "E" && ($2 in capped) { key = $2 " " $3 " " $4; if (key in open) { e[open[key]] = $5; delete open[key] }; next }
  function frozen(at,   i) {
    for (i = 1; i <= ne; i++) if ((what[i] == "kill" || what[i] == "stop") && t[i] <= at && t[i] >= at - 15) return 1
    return 0
  }
  END {
    for (i = 1; i <= n; i++) {
      if (!(i in e)) continue
      starts++; at = 0
      for (j = 1; j <= n; j++) if ((j in e) && task[j] == task[i] && s[j] <= s[i] && s[i] < e[j]) at++
      if (at > cap && !frozen(s[i])) print "task " task[i] ": " at " items ran at once at " s[i] ", over its maxParallel " cap >> out
    }
    printf "%d\n", starts
  }' "$EVENTS" "$TASKS" "$SIDE_EFFECTS")" || die "could not check the capped tasks"

# The skewed tasks: on how many of them did more than one worker run the slow items (taken from the busy one)?
# Told, not checked: under faults and a full mix a worker is not always idle when one is busy.
SPREAD="$(awk '
  FILENAME == ARGV[1] { if ($2 == "skewed") skewed[$1] = 1; next }
  $1 == "S" && ($2 in skewed) && $3 < 8 { k = $2 " " substr($4, 5, length($4) - 4 - 37); if (!(k in seen)) { seen[k] = 1; workers[$2]++ } }
  END { for (t in skewed) { n++; if (workers[t] > 1) spread++ } printf "%d of %d\n", spread, n }' "$TASKS" "$SIDE_EFFECTS")"

# ---------------------------------------------------------------------------------------------
# Summary

TASK_COUNT="$(wc -l <"$TASKS")"
((TASK_COUNT > 0)) || violation "the client submitted no task"
if [[ -f $SOAK/refused.tsv ]]; then
  while IFS=$'\t' read -r _ _ what; do violation "a submit was refused for good: $what"; done <"$SOAK/refused.tsv"
fi
N="$(wc -l <"$VIOLATIONS")"
echo
echo "soak summary (seed $SEED, $MINUTES min, stack in $STACK_DIR)"
echo "tasks submitted: $TASK_COUNT ($(cut -f2 "$TASKS" | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}'))"
echo "submits refused after retrying: $( [[ -f $SOAK/refused.tsv ]] && wc -l <"$SOAK/refused.tsv" || echo 0)"
echo "faults injected: $(wc -l <"$FAULTS_LOG") ($(awk '{print $2 " " $3}' "$FAULTS_LOG" | sed 's/-[0-9]*$//' | sort | uniq -c | awk '{printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $3}'))"
echo "item runs logged: $(grep -c '^S' "$SIDE_EFFECTS" 2>/dev/null || echo 0) starts, $(grep -c '^E' "$SIDE_EFFECTS" 2>/dev/null || echo 0) ends, over $ITEMS_RUN items"
echo "skewed tasks whose slow items ran on more than one worker: $SPREAD"
echo "invariants checked: $CHECKS per-task checks (listed, counts, final status, results), $RUN_PAIRS run pairs of items run more than once, maxParallel at $CAP_CHECKS starts of capped items"
if ((N > 0)); then
  echo "violations (first 20 of $N):"
  head -n 20 "$VIOLATIONS"
fi
echo "violations: $N"
((N == 0))
