#!/usr/bin/env bash
# docker-compose up, for real: builds every image of docker-compose.yml (from debian:bookworm-slim, Debian's
# packages and Maven Central), starts the whole cluster (nginx, 2 schedulers, 2 workers, Kafka, Redis) and
# checks it from outside and from inside an item, then takes it down. On a machine without Docker it installs
# Debian's docker.io, docker-compose and mmdebstrap and runs a private Docker daemon (its own socket and data
# root, stopped by PID when the check ends, even on failure); with no registry to pull from, it makes the base
# image with mmdebstrap. Needs root (the daemon). Prints each step's time; exits 1 naming the step that failed.
#   sudo ./scripts/compose-check.sh [--keep]    --keep: leave the cluster and the daemon running, even on failure
# Env: COMPOSE_CHECK_DIR=/var/lib/dts-compose-check (the daemon's state: images and build cache stay for
# the next run), COMPOSE_CHECK_PORT=32000 (nginx on 127.0.0.1).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

KEEP=0
case "${1:-}" in
  --keep) KEEP=1 ;;
  "") ;;
  *) die "usage: $0 [--keep]" ;;
esac
((EUID == 0)) || die "the check runs its own Docker daemon: run it as root (sudo $0)"

CHECK_DIR="${COMPOSE_CHECK_DIR:-/var/lib/dts-compose-check}"
PORT="${COMPOSE_CHECK_PORT:-32000}"
API="http://127.0.0.1:$PORT/api"
PROJECT=dts-check
# Debian's docker CLI (20.10) builds with BuildKit; a newer one earlier on the PATH may want buildx.
export PATH="/usr/bin:$PATH" DOCKER_HOST="unix://$CHECK_DIR/docker.sock" DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
export DTS_API_PORT="$PORT"
# The certificates this machine trusts besides Debian's (say, a proxy's in front of Maven Central) are the builds' too.
DTS_BUILD_CA_CERTS="$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)"
export DTS_BUILD_CA_CERTS
COMPOSE=(docker-compose -p "$PROJECT" -f "$DTS_ROOT/docker-compose.yml")
SECRETS="$DTS_ROOT/deploy/secrets"
WORK="$CHECK_DIR/check"

STEP="" STEP_START=0 DAEMON_PID="" TIMES=() DOWN=0
step() { # step NAME: the next step; the one before it took its time
  [[ -n $STEP ]] && TIMES+=("$(printf '%-34s %4d s' "$STEP" $((SECONDS - STEP_START)))")
  STEP="$1" STEP_START=$SECONDS
  log "[$STEP]"
}
fail() { die "compose check failed at step \"$STEP\" after $((SECONDS - STEP_START)) s: $*"; }

finish() {
  local rc=$?
  ((rc == 0)) || warn "the check failed at step \"$STEP\"; the daemon's log: $CHECK_DIR/dockerd.log"
  if ((KEEP)) && [[ -n $DAEMON_PID ]]; then
    log "kept running (--keep): DOCKER_HOST=$DOCKER_HOST ${COMPOSE[*]} ps (or logs); the daemon is PID $DAEMON_PID"
    exit "$rc"
  fi
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    ((DOWN)) || timeout 120 "${COMPOSE[@]}" down -v --remove-orphans >>"$WORK/compose.log" 2>&1 || warn "docker-compose down failed"
    kill "$DAEMON_PID"
    local i
    for ((i = 0; i < 30 && $(kill -0 "$DAEMON_PID" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 1; done
    kill -0 "$DAEMON_PID" 2>/dev/null && { warn "dockerd did not stop in 30 s; killing it"; kill -KILL "$DAEMON_PID"; }
    # The network namespace files dockerd leaves mounted.
    for ns in "$CHECK_DIR"/exec/netns/*; do
      if mountpoint -q "$ns"; then umount "$ns" || warn "could not unmount $ns"; fi
    done
  fi
  exit "$rc"
}
trap finish EXIT

# ---------------------------------------------------------------------------------------------
step "install docker.io, docker-compose, mmdebstrap"
ensure_packages dockerd:docker.io docker-compose mmdebstrap curl jq
[[ -x /usr/bin/docker ]] || fail "/usr/bin/docker is missing (Debian's docker.io)"
mkdir -p "$CHECK_DIR" "$WORK"
: >"$WORK/compose.log"

step "start a private Docker daemon"
if [[ -S $CHECK_DIR/docker.sock ]] && docker info >/dev/null 2>&1; then
  fail "a daemon already answers on $CHECK_DIR/docker.sock (a check still running, or one kept with --keep)"
fi
# No iptables rules and no default bridge: the host's network is left alone; compose makes its own network.
setsid dockerd --iptables=false --ip6tables=false --bridge=none --data-root "$CHECK_DIR/root" --exec-root "$CHECK_DIR/exec" \
  --pidfile "$CHECK_DIR/docker.pid" -H "$DOCKER_HOST" >"$CHECK_DIR/dockerd.log" 2>&1 </dev/null &
DAEMON_PID=$!
for ((i = 0; i < 60; i++)); do
  docker info >/dev/null 2>&1 && break
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "dockerd exited: $(tail -n 5 "$CHECK_DIR/dockerd.log")"
  sleep 0.5
done
docker info >/dev/null 2>&1 || fail "dockerd did not answer in 30 s"
log "dockerd $(docker version -f '{{.Server.Version}}') (PID $DAEMON_PID), storage $(docker info -f '{{.Driver}}')"

step "the base image debian:bookworm-slim"
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  if timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
    log "pulled debian:bookworm-slim"
  else
    log "no registry answers: making debian:bookworm-slim with mmdebstrap (minbase)"
    mmdebstrap --quiet --variant=minbase bookworm "$WORK/base.tar" || fail "mmdebstrap could not make the base"
    docker import "$WORK/base.tar" debian:bookworm-slim >/dev/null || fail "docker import failed"
    rm -f "$WORK/base.tar"
  fi
fi

step "secrets and a token, as the README says"
"$DTS_ROOT/scripts/compose-secrets.sh" >/dev/null
if [[ ! -s $SECRETS/admin-token ]]; then
  (umask 077 && KEYS_FILE="$SECRETS/api-keys" "$DTS_ROOT/scripts/stack.sh" token add admin operator | tail -n 1 >"$SECRETS/admin-token")
  chown 10001 "$SECRETS/api-keys"
fi
printf 'Authorization: Bearer %s\n' "$(<"$SECRETS/admin-token")" >"$WORK/auth"
chmod 600 "$WORK/auth"

step "docker-compose up --build"
listeners() { ss -Hltnu | awk '{print $5}' | sort -u; } # the host's listening addresses
listeners >"$WORK/listeners.before"
# From nothing: no container or volume a run stopped half-way (or --keep) left behind.
"${COMPOSE[@]}" down -v --remove-orphans >>"$WORK/compose.log" 2>&1 || fail "$(tail -n 20 "$WORK/compose.log")"
"${COMPOSE[@]}" up -d --build --scale worker=2 >>"$WORK/compose.log" 2>&1 || fail "$(tail -n 30 "$WORK/compose.log")"

step "wait until every service is healthy"
healthy() { # every service healthy, kafka-access (it runs once) exited 0
  local id status
  for id in $("${COMPOSE[@]}" ps -q); do
    status="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}} {{.State.ExitCode}}{{end}}' "$id")"
    [[ $status == healthy || $status == "exited 0" ]] || return 1
  done
}
restarted() { # the first container that has restarted (a service that cannot start), if any
  local id
  for id in $("${COMPOSE[@]}" ps -q); do
    [[ $(docker inspect -f '{{.RestartCount}}' "$id") == 0 ]] || { docker inspect -f '{{.Name}}' "$id"; return 0; }
  done
  return 1
}
why_down() { # why_down CONTAINER: Spring Boot's failure description, else the root cause, else its last lines
  local log reason
  log="$(docker logs "$1" 2>&1 | grep -v -E '^\s+(at |\.\.\. )')"
  reason="$(awk '/^Description:/ {p = 1; next} /^Action:/ {exit} p && NF' <<<"$log")"
  [[ -n $reason ]] || reason="$(grep -E '^Caused by: ' <<<"$log" | tail -n 1)"
  [[ -n $reason ]] || reason="$(tail -n 6 <<<"$log")"
  echo "$reason"
}
for ((i = 0; i < 150; i++)); do
  healthy && break
  if name="$(restarted)"; then
    fail "${name#/} cannot start: $(why_down "${name#/}")"
  fi
  sleep 2
done
healthy || fail "not healthy after 300 s: $(docker ps -a --format '{{.Names}} {{.Status}}')"
[[ $("${COMPOSE[@]}" ps -q | wc -l) == 8 ]] || fail "expected 8 containers: $(docker ps -a --format '{{.Names}}')"
# What the cluster opened on the host: loopback only (nginx's published port).
opened="$(listeners | comm -13 "$WORK/listeners.before" -)"
log "listening on the host since the start: ${opened//$'\n'/ }"
wide="$(grep -v -E '^(127\.[0-9.]+|\[::1\]):[0-9]+$' <<<"$opened" | grep . || true)"
[[ -z $wide ]] || fail "the cluster listens beyond loopback on the host: ${wide//$'\n'/ }"

# api METHOD PATH [BODY]: the HTTP status; the body in $WORK/reply
api() {
  local args=()
  [[ -n ${3:-} ]] && args=(-H 'Content-Type: application/json' --data-binary "$3")
  curl -sS -o "$WORK/reply" -w '%{http_code}' --max-time 10 -X "$1" -H "@$WORK/auth" "${args[@]}" "$API$2"
}
# run_task JSON: submits it through nginx and waits (up to 3 min) until it finishes; its id in TASK
run_task() {
  [[ $(api POST /tasks "$1") == 202 ]] || fail "submit answered $(cat "$WORK/reply")"
  TASK="$(jq -r .id "$WORK/reply")"
  local status
  for ((i = 0; i < 360; i++)); do
    [[ $(api GET "/tasks/$TASK") == 200 ]] || fail "GET /tasks/$TASK answered $(cat "$WORK/reply")"
    status="$(jq -r .status "$WORK/reply")"
    case "$status" in COMPLETED | FAILED | CANCELLED | SUBMISSION_FAILED) return 0 ;; esac
    sleep 0.5
  done
  fail "task $TASK not finished after 3 min: $(cat "$WORK/reply")"
}
results() { [[ $(api GET "/tasks/$TASK/results?offset=0&limit=1000") == 200 ]] || fail "results: $(cat "$WORK/reply")"; }
expect_completed() { # expect_completed N: COMPLETED with N items succeeded, none failed or skipped
  jq -e --argjson n "$1" '.status == "COMPLETED" and .itemsSucceeded == $n and (.itemsFailed // 0) == 0 and (.itemsSkipped // 0) == 0' \
    "$WORK/reply" >/dev/null || fail "task $TASK: $(jq -c '{status, itemsTotal, itemsSucceeded, itemsFailed, itemsSkipped}' "$WORK/reply")"
}

step "a 40-item task through nginx, on both workers"
run_task "$(jq -n -c '{templateFunction: "echo \"$1 on $(hostname)\"; sleep 0.2", inputList: [range(40) | "item-\(.)"]}')"
expect_completed 40
results
workers="$(jq '[.[].workerId] | unique | length' "$WORK/reply")"
((workers == 2)) || fail "the items ran on $workers worker(s): $(jq -c '[.[].workerId] | group_by(.) | map({(.[0]): length}) | add' "$WORK/reply")"

step "from inside an item"
# Each item: who it runs as, its capabilities, its own $$, an empty /tmp of its own, what Redis answers it, and
# what Kafka tells it (scripts/kafka-probe.sh, the e2e tests' probe too).
# shellcheck disable=SC2016 # the item's own variables
probe='echo "uid $(id -u)"; echo "capeff $(awk "/^CapEff/ {print \$2}" /proc/self/status)"; echo "pid $$"
echo "tmp $(ls -A /tmp | wc -l)"; echo "$1" >/tmp/mine; sleep 0.5; echo "mine $(cat /tmp/mine)"
exec 3<>/dev/tcp/redis/6379 && printf "PING\r\n" >&3 && echo "redis $(timeout 2 head -n 1 <&3 | tr -d "\r")"
set -- kafka 9092'
probe+=$'\n'"$(<"$DTS_ROOT/scripts/kafka-probe.sh")"
run_task "$(jq -n -c --arg t "$probe" '{templateFunction: $t, inputList: [range(8) | "p\(.)"]}')"
expect_completed 8
results
jq -r '.[] | "\(.item): \(.stdout | gsub("\n"; "; "))"' "$WORK/reply"
jq -e 'all(.[]; .stdout | test("^uid [0-9]+\n") and (test("^uid 0\n") | not))' "$WORK/reply" >/dev/null || fail "an item ran as root"
jq -e 'all(.[]; .stdout | test("\ncapeff 0+\n"))' "$WORK/reply" >/dev/null || fail "an item has capabilities"
jq -e 'all(.[]; .stdout | test("\npid 1\n") | not)' "$WORK/reply" >/dev/null || fail "an item's \$\$ is 1"
jq -e 'all(.[]; .stdout | test("\ntmp 0\n"))' "$WORK/reply" >/dev/null || fail "an item found another's files in /tmp"
jq -e 'all(.[]; (.stdout | capture("\nmine (?<m>[^\n]*)\n").m) == .item)' "$WORK/reply" >/dev/null || fail "an item read another item's /tmp/mine"
jq -e 'all(.[]; .stdout | test("\nredis -NOAUTH"))' "$WORK/reply" >/dev/null || fail "Redis did not answer an item NOAUTH"
jq -e 'all(.[]; .stdout | test("\nkafka apiversions=[1-9][0-9]* metadata=0(\n|$)"))' "$WORK/reply" >/dev/null ||
  fail "Kafka answered an item that has not logged in (or the probe could not reach it)"

step "docker kill a worker during a task"
body="$(jq -n -c '{templateFunction: "sleep 2; echo $1", inputList: [range(24) | "s\(.)"]}')"
[[ $(api POST /tasks "$body") == 202 ]] || fail "submit answered $(cat "$WORK/reply")"
TASK="$(jq -r .id "$WORK/reply")"
sleep 5
# All of ps's output read, not its first line: head exiting early could kill ps with SIGPIPE, and pipefail this script.
mapfile -t running_workers < <("${COMPOSE[@]}" ps -q worker)
victim="${running_workers[0]:-}"
[[ -n $victim ]] || fail "no worker container to kill"
docker kill "$victim" >/dev/null || fail "docker kill $victim failed"
log "killed $(docker inspect -f '{{.Name}}' "$victim") 5 s into a task of 24 items of 2 s"
for ((i = 0; i < 240; i++)); do
  [[ $(api GET "/tasks/$TASK") == 200 ]] && [[ $(jq -r .status "$WORK/reply") == COMPLETED ]] && break
  sleep 0.5
done
expect_completed 24
docker start "$victim" >/dev/null
for ((i = 0; i < 90; i++)); do healthy && break; sleep 2; done
healthy || fail "the killed worker did not come back healthy"

if ((!KEEP)); then
  step "docker-compose down -v"
  "${COMPOSE[@]}" down -v --remove-orphans >>"$WORK/compose.log" 2>&1 || fail "$(tail -n 20 "$WORK/compose.log")"
  [[ -z $(docker ps -aq) ]] || fail "containers left: $(docker ps -a --format '{{.Names}}')"
  DOWN=1
fi
step "done"

echo
echo "compose check passed; time per step:"
printf '  %s\n' "${TIMES[@]}"
