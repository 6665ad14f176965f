#!/usr/bin/env bash
# Starts the local stack (options go to stack.sh up), submits a sample task with curl, follows
# its progress and prints its results. The stack stays up afterwards.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

API="http://127.0.0.1:${SCHEDULER_PORT:-30000}/api"
TASK_TIMEOUT="${TASK_TIMEOUT:-300}"

"$DTS_ROOT/scripts/stack.sh" up "$@"
ensure_packages jq

json() { jq -r "$1" "$2"; }          # json FILTER FILE
field() { json ".$1 // empty" "$2"; } # field NAME FILE: one top-level field of a JSON object

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Every request sends a token: $DTS_TOKEN, else the operator's that stack.sh made. From a file, so
# that it is not on curl's command line for ps to show.
printf 'Authorization: Bearer %s\n' "${DTS_TOKEN:-$(<"$STACK_DIR/tokens/admin")}" >"$tmp/auth"

# Wait until every worker we started is live and holds shard partitions (a task is split over those only),
# so the task is spread over all.
expected="$(find "$RUN_DIR" -name 'worker-*.pid' | wc -l)"
for ((i = 0; i < 60; i++)); do
  curl -fsS -H "@$tmp/auth" "$API/workers" -o "$tmp/workers.json" || true
  live="$(json '[.[] | select((.partitions // []) | length > 0)] | length' "$tmp/workers.json" 2>/dev/null || echo 0)"
  ((live >= expected)) && break
  sleep 1
done
log "$live live worker(s) holding shard partitions"

# 20 items; each hashes its item and sleeps a little. {{greeting}} comes from variableJson.
items="$(printf '"item-%02d",' {1..20})"
cat >"$tmp/task.json" <<EOF
{
  "templateFunction": "echo \"{{greeting}} \$1: \$(printf %s \"\$1\" | sha256sum | cut -c1-16)\"; sleep 0.2",
  "variableJson": "{\"greeting\":\"hello from the demo,\"}",
  "inputList": [${items%,}]
}
EOF
log "submitting a task with 20 items: POST $API/tasks"
code="$(curl -sS -o "$tmp/submitted.json" -w '%{http_code}' -H "@$tmp/auth" -H 'Content-Type: application/json' \
  --data-binary "@$tmp/task.json" "$API/tasks")" || die "cannot reach $API; check: ./scripts/stack.sh status"
[[ $code == 202 ]] || die "submit answered HTTP $code: $(cat "$tmp/submitted.json")"
id="$(field id "$tmp/submitted.json")"
log "task id: $id"

status="" last=""
for ((i = 0; i < TASK_TIMEOUT * 2; i++)); do
  curl -fsS -H "@$tmp/auth" "$API/tasks/$id" -o "$tmp/task-view.json" || die "GET $API/tasks/$id failed; check: ./scripts/stack.sh status"
  status="$(field status "$tmp/task-view.json")"
  line="$(json '"\(.status)  chunks \(.chunksExecuted // 0)/\(.chunksToExecute // "?")  items \((.itemsSucceeded // 0) + (.itemsFailed // 0))/\(.itemsTotal // "?") (\(.itemsFailed // 0) failed)"' \
    "$tmp/task-view.json")"
  [[ $line != "$last" ]] && log "$line"
  last="$line"
  case "$status" in COMPLETED | FAILED | CANCELLED | SUBMISSION_FAILED) break ;; esac
  sleep 0.5
done
case "$status" in COMPLETED | FAILED | CANCELLED | SUBMISSION_FAILED) ;;
  *) die "task $id did not finish within ${TASK_TIMEOUT}s (status $status); details: curl -H \"Authorization: Bearer \$(cat .stack/tokens/admin)\" $API/tasks/$id" ;;
esac

curl -fsS -H "@$tmp/auth" "$API/tasks/$id/results?offset=0&limit=1000" -o "$tmp/results.json" ||
  die "GET $API/tasks/$id/results failed"
log "first results (index item exitCode workerId durationMs: stdout):"
json '.[:5][] | "  \(.index) \(.item) \(.exitCode) \(.workerId) \(.durationMs)ms: \(.stdout | rtrimstr("\n"))"' "$tmp/results.json"
log "items per worker:"
json 'group_by(.workerId)[] | "  \(.[0].workerId): \(length)"' "$tmp/results.json"
ran_on="$(json '[.[].workerId] | unique | length' "$tmp/results.json")"
((ran_on >= live)) || warn "the items ran on $ran_on of $live workers"
failed="$(json '[.[] | select(.exitCode != 0)] | length' "$tmp/results.json")"
log "failed items: $failed"
log "the stack keeps running: ./scripts/stack.sh status, stop it with: ./scripts/stack.sh down"
log "try it: scripts/dts list; scripts/dts submit --bar --items-from <(seq 100) 'echo \$1'  (docs/api.md, Command line)"
log "or open the dashboard: ${API%/api}/ with the token in .stack/tokens/admin (README, Dashboard)"
[[ $status == COMPLETED ]] || die "task $id ended $status (expected COMPLETED); details: curl -H \"Authorization: Bearer \$(cat .stack/tokens/admin)\" $API/tasks/$id"
