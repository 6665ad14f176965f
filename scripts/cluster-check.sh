#!/usr/bin/env bash
# Checks that the cluster survives losing a Kafka node, a scheduler and a Redis master in the
# middle of a task. Starts 3 Kafka nodes, a Redis Cluster of 3 masters with a replica each, 2
# schedulers behind nginx and 2 workers (stack.sh up), checks that the three topics are replicated
# on all 3 nodes, submits a 40-item task through nginx, kill -9s one Kafka node, one scheduler and
# the Redis master that holds the task while it runs, and checks that the task completes with every
# item run and recorded exactly once, and that 5 tasks submitted after the kills complete as well.
# Stops the stack at the end (logs stay in .stack/logs) unless --keep is given.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<EOF
usage: $0 [--keep] [--kill-broker N] [--kill-scheduler N] [stack.sh up options, e.g. --no-build]

  Runs on a Redis Cluster of 3 masters with a replica each; pass --redis-single to run on one
  Redis server instead (then no Redis node is killed).

  --keep              leave the stack running at the end (the killed node and scheduler stay
                      dead; "./scripts/stack.sh up" restarts them)
  --kill-broker N     the Kafka node to kill -9, 1..3 (default 1)
  --kill-scheduler N  the scheduler to kill -9, 1..2 (default 1)

Env: TASK_TIMEOUT=120 (seconds for a task to finish after the kills), KILL_AT_ITEMS=4 (items
done before the kills), SCHEDULER_PORT=30000, KAFKA_PORT=9092 (nodes on 9092, 9094, 9096).
EOF
}

KEEP=0 KILL_BROKER=1 KILL_SCHEDULER=1 UP_ARGS=()
while (($#)); do
  case "$1" in
    --keep) KEEP=1; shift ;;
    --kill-broker) KILL_BROKER="${2:?--kill-broker needs 1..3}"; shift 2 ;;
    --kill-scheduler) KILL_SCHEDULER="${2:?--kill-scheduler needs 1 or 2}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) UP_ARGS+=("$1"); shift ;;
  esac
done
[[ $KILL_BROKER =~ ^[1-3]$ && $KILL_SCHEDULER =~ ^[12]$ ]] || die "--kill-broker takes 1..3, --kill-scheduler 1 or 2"

API="http://127.0.0.1:${SCHEDULER_PORT:-30000}/api"
KAFKA_PORT="${KAFKA_PORT:-9092}"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT,127.0.0.1:$((KAFKA_PORT + 2)),127.0.0.1:$((KAFKA_PORT + 4))"
TASK_TIMEOUT="${TASK_TIMEOUT:-120}"
KILL_AT_ITEMS="${KILL_AT_ITEMS:-4}"
TOPICS=(distributed_task distributed_task_shard distributed_task_completed)
ITEMS=40 SMALL_TASKS=5 SMALL_ITEMS=4
APP_LOGS=("$LOG_DIR/scheduler-1.log" "$LOG_DIR/scheduler-2.log" "$LOG_DIR/worker-1.log" "$LOG_DIR/worker-2.log")

tmp="$(mktemp -d)"
finish() {
  local rc=$?
  rm -rf "$tmp"
  if ((KEEP)); then
    log "the stack keeps running (--keep): ./scripts/stack.sh status; what was killed stays dead" \
      "until ./scripts/stack.sh up; stop it with ./scripts/stack.sh down"
  else
    log "stopping the stack (logs stay in $LOG_DIR; --keep leaves it running)"
    "$DTS_ROOT/scripts/stack.sh" down >/dev/null || warn "stack.sh down failed; run it again: ./scripts/stack.sh down"
  fi
  ((rc == 0)) && log "cluster check PASSED" || printf 'cluster check FAILED (exit %s)\n' "$rc" >&2
  exit "$rc"
}

# fail WHAT LOG...: the check that failed, the last warnings of the logs to read, and exit 1.
fail() {
  local what="$1" f
  shift
  printf 'FAILED: %s\n' "$what" >&2
  for f in "$@"; do
    [[ -f $f ]] || continue
    printf -- '--- last warnings and errors in %s:\n' "$f" >&2
    grep -E '(WARN|ERROR)' "$f" | tail -n 5 | cut -c1-300 >&2 || true
  done
  die "$what; read: $*"
}

now_ms() { local t="${EPOCHREALTIME//[.,]/}"; echo $((t / 1000)); }
secs() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); } # secs MILLIS

# get URL FILE: GET through nginx, prints the HTTP status (000 when nothing answered).
get() { curl -sS -o "$2" -w '%{http_code}' --max-time 5 -H "@$tmp/auth" "$1" 2>/dev/null || true; }

# submit ITEMS... : POST a task whose items sleep 0.5 s and echo themselves; prints its id. While a
# Redis master fails over, the API answers 503 (Retry-After, nothing saved): retried for up to 30 s
# like a client would, each refusal noted in $tmp/refused (its time in ms).
submit() {
  local code t0
  jq -n --args '{templateFunction: "sleep 0.5; echo $1", inputList: $ARGS.positional}' "$@" >"$tmp/task.json"
  t0="$(now_ms)"
  while :; do
    code="$(curl -sS -o "$tmp/submitted.json" -w '%{http_code}' --max-time 10 -H "@$tmp/auth" -H 'Content-Type: application/json' \
      --data-binary "@$tmp/task.json" "$API/tasks" 2>/dev/null || true)"
    if [[ $code != 503 ]] || (($(now_ms) - t0 >= 30000)); then break; fi
    now_ms >>"$tmp/refused"
    sleep 0.5
  done
  [[ $code == 202 ]] || fail "POST $API/tasks answered HTTP $code: $(cat "$tmp/submitted.json" 2>/dev/null)" \
    "$LOG_DIR/nginx.log" "$LOG_DIR/scheduler-1.log" "$LOG_DIR/scheduler-2.log"
  jq -r .id "$tmp/submitted.json"
}

indent() { sed 's/^/  /'; }
terminal() { [[ $1 =~ ^(COMPLETED|FAILED|CANCELLED|SUBMISSION_FAILED)$ ]]; }

# The Redis Cluster, when the stack runs one: a node that answers, and the master of a slot.
redis_cluster() { [[ -e $RUN_DIR/redis-1.pid ]]; }
live_redis_port() {
  local port
  for ((port = ${REDIS_PORT:-6379}; port < ${REDIS_PORT:-6379} + 6; port++)); do
    [[ "$(redis_cli -p "$port" ping 2>/dev/null)" == PONG ]] && echo "$port" && return 0
  done
  return 1
}
slot_master() { # slot_master SLOT: host:port of the master that serves it
  redis_cli -p "$(live_redis_port)" cluster nodes | awk -v s="$1" '$3 ~ /master/ && $3 !~ /fail/ {
    for (i = 9; i <= NF; i++) { n = split($i, r, "-"); if (n == 1) r[2] = r[1]
      if (r[1] + 0 <= s + 0 && s + 0 <= r[2] + 0) { split($2, a, "@"); print a[1] } } }'
}

trap finish EXIT

# ---------------------------------------------------------------------------------------------
log "starting 3 Kafka nodes, Redis, 2 schedulers behind nginx and 2 workers: stack.sh up --redis-cluster ${UP_ARGS[*]}"
t_up="$(now_ms)"
"$DTS_ROOT/scripts/stack.sh" up --redis-cluster "${UP_ARGS[@]}" --kafka-brokers 3 --schedulers 2 --workers 2
up_ms=$(($(now_ms) - t_up))
ensure_packages jq kcat curl
# Every request sends a token: $DTS_TOKEN, else the operator's that stack.sh made (from a file: not on
# curl's command line, where ps shows it).
printf 'Authorization: Bearer %s\n' "${DTS_TOKEN:-$(<"$STACK_DIR/tokens/admin")}" >"$tmp/auth"

for ((i = 0; i < 60; i++)); do
  [[ $(get "$API/workers" "$tmp/workers.json") == 200 ]] && (($(jq length "$tmp/workers.json") >= 2)) && break
  sleep 1
done
(($(jq length "$tmp/workers.json" 2>/dev/null || echo 0) >= 2)) ||
  fail "fewer than 2 live workers in GET $API/workers after 60 s" "$LOG_DIR/worker-1.log" "$LOG_DIR/worker-2.log"

# The schedulers create the topics at startup; each partition must be on 3 nodes, all in sync.
log "checking the topics with kcat -b $BOOTSTRAP -L"
topic_report() { # the replicas and in-sync replicas of each topic, from kcat -L -J in $tmp/meta.json
  jq -r --args '.topics[] | select(.topic | IN($ARGS.positional[])) |
    "\(.topic) partitions=\(.partitions | length) replicas=\([.partitions[].replicas | length] | unique | join(","))" +
    " isrs=\([.partitions[].isrs | length] | unique | join(","))"' "${TOPICS[@]}" <"$tmp/meta.json" | sort
}
for ((i = 0; i < 60; i++)); do
  if kafka_cat -b "$BOOTSTRAP" -L -J -m 5 >"$tmp/meta.json" 2>/dev/null &&
    (($(topic_report | grep -c ' replicas=3 isrs=3$') == ${#TOPICS[@]})); then
    break
  fi
  sleep 1
done
brokers="$(jq -r '[.brokers[].name] | join(" ")' "$tmp/meta.json" 2>/dev/null || true)"
controller="$(jq -r '.controllerid // empty' "$tmp/meta.json" 2>/dev/null || true)"
topics="$(topic_report 2>/dev/null || true)"
printf '  brokers: %s (controller: node %s)\n' "$brokers" "${controller:-?}"
indent <<<"$topics"
(($(wc -w <<<"$brokers") == 3)) || fail "kcat lists the brokers '$brokers', not 3" "$LOG_DIR"/kafka-{1,2,3}.log
(($(grep -c ' replicas=3 isrs=3$' <<<"$topics") == ${#TOPICS[@]})) ||
  fail "the topics ${TOPICS[*]} are not all on 3 replicas, all in sync (above)" \
    "$LOG_DIR/scheduler-1.log" "$LOG_DIR/scheduler-2.log" "$LOG_DIR"/kafka-{1,2,3}.log
java -Dlog4j2.configurationFile="$DTS_ROOT/deploy/kafka/log4j2.properties" -cp "$STACK_DIR/kafka/libs/*" \
  kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --command-config "$KAFKA_CLIENT_CONFIG" --entity-type topics --describe >"$tmp/configs.txt" 2>/dev/null ||
  fail "kafka.admin.ConfigCommand could not describe the topics" "$LOG_DIR"/kafka-{1,2,3}.log
min_isr="$(awk -v topics=" ${TOPICS[*]} " '/^Dynamic configs for topic/ { t = $5 }
  /^ *min.insync.replicas=/ && index(topics, " " t " ") { split($1, kv, "="); print t "=" kv[2] }' "$tmp/configs.txt" | sort)"
printf '  min.insync.replicas: %s\n' "$(tr '\n' ' ' <<<"$min_isr")"
(($(grep -c '=2$' <<<"$min_isr") == ${#TOPICS[@]})) ||
  fail "min.insync.replicas is not 2 on every topic (above)" "$LOG_DIR/scheduler-1.log"

# ---------------------------------------------------------------------------------------------
log "submitting a task of $ITEMS items (sleep 0.5; echo \$1) through nginx: POST $API/tasks"
t_submit="$(now_ms)"
id="$(submit $(seq 0 $((ITEMS - 1))))"
log "task $id; waiting for $KILL_AT_ITEMS items to finish before the kills"
done_items=0 status=""
for ((i = 0; i < TASK_TIMEOUT * 5; i++)); do
  if [[ $(get "$API/tasks/$id" "$tmp/view.json") == 200 ]]; then
    status="$(jq -r .status "$tmp/view.json")"
    done_items="$(jq -r '(.itemsSucceeded // 0) + (.itemsFailed // 0)' "$tmp/view.json")"
    ((done_items >= KILL_AT_ITEMS)) || terminal "$status" && break
  fi
  sleep 0.2
done
terminal "$status" && fail "task $id was $status before the kills; nothing was tested" "${APP_LOGS[@]}"
((done_items >= KILL_AT_ITEMS)) || fail "task $id did not start running within ${TASK_TIMEOUT}s (status $status)" "${APP_LOGS[@]}"

broker_pid="$(pid_of "kafka-$KILL_BROKER")" || fail "kafka-$KILL_BROKER is not running" "$LOG_DIR/kafka-$KILL_BROKER.log"
scheduler_pid="$(pid_of "scheduler-$KILL_SCHEDULER")" || fail "scheduler-$KILL_SCHEDULER is not running" "$LOG_DIR/scheduler-$KILL_SCHEDULER.log"
redis_killed="" slot="" master_before=""
if redis_cluster; then
  slot="$(redis_cli -p "$(live_redis_port)" cluster keyslot "task:{$id}")"
  master_before="$(slot_master "$slot")"
  redis_node="redis-$((${master_before##*:} - ${REDIS_PORT:-6379} + 1))"
  redis_pid="$(pid_of "$redis_node")" || fail "$redis_node ($master_before) is not running" "$LOG_DIR/$redis_node.log"
  redis_killed=", $redis_node (pid $redis_pid, the Redis master of the task's slot $slot)"
fi
kill -9 "$broker_pid"
kill -9 "$scheduler_pid"
[[ -n $redis_killed ]] && kill -9 "$redis_pid"
t_kill="$(now_ms)"
role=""
[[ $controller == "$KILL_BROKER" ]] && role=", the active controller"
log "kill -9 kafka-$KILL_BROKER (pid $broker_pid$role), scheduler-$KILL_SCHEDULER (pid $scheduler_pid)$redis_killed" \
  "at $done_items/$ITEMS items, $(secs $((t_kill - t_submit))) after the submit"

# Submitted right after the kills, while Kafka moves the partitions of the dead node.
small_ids=() small_t=()
for ((s = 1; s <= SMALL_TASKS; s++)); do
  small_t+=("$(now_ms)")
  small_ids+=("$(submit $(seq -f "small-$s-%g" 1 "$SMALL_ITEMS"))")
done
log "submitted ${SMALL_TASKS} more tasks of $SMALL_ITEMS items: ${small_ids[*]}"

# Every status read goes through nginx, answered by the scheduler that is alive.
log "waiting up to ${TASK_TIMEOUT}s for task $id"
last="" get_errors=0
for ((i = 0; i < TASK_TIMEOUT * 4; i++)); do
  if [[ $(get "$API/tasks/$id" "$tmp/view.json") == 200 ]]; then
    status="$(jq -r .status "$tmp/view.json")"
    line="$(jq -r '"\(.status)  chunks \(.chunksExecuted // 0)/\(.chunksToExecute // "?")  items \(.itemsSucceeded // 0) ok, \(.itemsFailed // 0) failed"' "$tmp/view.json")"
    [[ $line != "$last" ]] && log "  $line  (+$(secs $(($(now_ms) - t_kill))) after the kills)"
    last="$line"
    terminal "$status" && break
  else
    get_errors=$((get_errors + 1))
  fi
  sleep 0.25
done
t_done="$(now_ms)"
terminal "$status" || fail "task $id did not finish within ${TASK_TIMEOUT}s after the kills (status $status: $last)" "${APP_LOGS[@]}"
[[ $status == COMPLETED ]] || fail "task $id ended $status, expected COMPLETED ($last)" "${APP_LOGS[@]}"
read -r ok failed <<<"$(jq -r '"\(.itemsSucceeded) \(.itemsFailed)"' "$tmp/view.json")"
((ok == ITEMS && failed == 0)) || fail "task $id has itemsSucceeded $ok, itemsFailed $failed; expected $ITEMS and 0" "${APP_LOGS[@]}"

code="$(get "$API/tasks/$id/results?offset=0&limit=100" "$tmp/results.json")"
[[ $code == 200 ]] || fail "GET $API/tasks/$id/results answered HTTP $code" "$LOG_DIR/scheduler-1.log" "$LOG_DIR/scheduler-2.log"
# Every index 0..39 exactly once, exit 0, and its stdout is its item.
results_check="$(jq -r --argjson n "$ITEMS" '
  ([.[].index] | sort) as $idx
  | ([$idx | group_by(.)[] | select(length > 1) | .[0]]) as $dup
  | ([range(0; $n)] - $idx) as $missing
  | ([.[] | select(.exitCode != 0 or ((.stdout // "") | rtrimstr("\n")) != .item) | .index]) as $bad
  | if length == $n and $idx == [range(0; $n)] and ($bad | length) == 0 then "ok"
    else "\(length) results; duplicated indices \($dup); missing \($missing); wrong exit code or stdout \($bad)" end' \
  "$tmp/results.json")"
[[ $results_check == ok ]] || fail "results of task $id: $results_check" "${APP_LOGS[@]}"
per_worker="$(jq -r 'group_by(.workerId) | map("\(.[0].workerId)=\(length)") | join(" ")' "$tmp/results.json")"
# Where the task's keys live now: its hash slot and the master that serves it (one server: itself).
redis_report="one Redis server on 127.0.0.1:${REDIS_PORT:-6379}"
if redis_cluster; then
  redis_report="Redis Cluster after the kills: $(redis_cli -p "$(live_redis_port)" cluster info |
    grep -E '^cluster_(state|size|known_nodes)' | tr -d '\r' | tr '\n' ' ')"
  redis_report+=$'\n'"  task $id: all its keys in hash slot $slot, served by $master_before before the kill, by $(slot_master "$slot") after it"
fi

log "waiting for the $SMALL_TASKS tasks submitted after the kills"
small_status=() small_took=()
for ((i = 0; i < TASK_TIMEOUT * 4; i++)); do
  pending=0
  for s in "${!small_ids[@]}"; do
    terminal "${small_status[s]:-}" && continue
    if [[ $(get "$API/tasks/${small_ids[s]}" "$tmp/small-$s.json") == 200 ]]; then
      small_status[s]="$(jq -r .status "$tmp/small-$s.json")"
      terminal "${small_status[s]}" && small_took[s]=$(($(now_ms) - small_t[s])) && continue
    fi
    pending=$((pending + 1))
  done
  ((pending)) || break
  sleep 0.25
done
t_small_done="$(now_ms)"
refusals="submits refused with 503 (then retried): none"
if [[ -s $tmp/refused ]]; then
  refusals="submits refused with 503 (then retried) while Redis failed over: $(wc -l <"$tmp/refused"), the last"
  refusals+=" $(secs $(($(tail -n 1 "$tmp/refused") - t_kill))) after the kills"
fi
small_report=()
for s in "${!small_ids[@]}"; do
  sid="${small_ids[s]}" sstatus="${small_status[s]:-}"
  terminal "$sstatus" || fail "task $sid (submitted after the kills) did not finish within ${TASK_TIMEOUT}s (status $sstatus)" "${APP_LOGS[@]}"
  read -r ok failed <<<"$(jq -r '"\(.itemsSucceeded) \(.itemsFailed)"' "$tmp/small-$s.json")"
  [[ $sstatus == COMPLETED && $ok == "$SMALL_ITEMS" && $failed == 0 ]] ||
    fail "task $sid (submitted after the kills) ended $sstatus with $ok ok, $failed failed; expected COMPLETED, $SMALL_ITEMS, 0" "${APP_LOGS[@]}"
  small_report+=("$(secs "${small_took[s]}")")
done

kafka_cat -b "$BOOTSTRAP" -L -J -m 5 >"$tmp/meta.json" 2>/dev/null || true
brokers_after="$(jq -r '[.brokers[].name] | join(" ")' "$tmp/meta.json" 2>/dev/null || echo '?')"
topics_after="$(topic_report 2>/dev/null || true)"

cat <<EOF

== cluster check report
stack up (3 Kafka nodes, Redis, 2 schedulers, nginx, 2 workers):  $(secs "$up_ms")
$redis_report
topics before the kills (kcat -L):  brokers $brokers, controller node ${controller:-?}
$(indent <<<"$topics")
  min.insync.replicas: $(tr '\n' ' ' <<<"$min_isr")
killed: kafka-$KILL_BROKER (pid $broker_pid$role), scheduler-$KILL_SCHEDULER (pid $scheduler_pid)$redis_killed, kill -9,
        at $done_items/$ITEMS items done, $(secs $((t_kill - t_submit))) after the submit
task $id: COMPLETED, $ITEMS ok, 0 failed, $ITEMS results with indices 0..$((ITEMS - 1)) once each ($per_worker)
  submit to completion: $(secs $((t_done - t_submit))); kill to completion: $(secs $((t_done - t_kill)))
  GETs through nginx that failed: $get_errors
$SMALL_TASKS tasks of $SMALL_ITEMS items submitted after the kills: all COMPLETED; submit to completion: ${small_report[*]}
  $refusals
  kill to the last of them completed: $(secs $((t_small_done - t_kill)))
after the kills (kcat -L): brokers $brokers_after
$(indent <<<"$topics_after")
EOF
