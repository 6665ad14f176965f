#!/usr/bin/env bash
# Runs the whole system on this machine, bound to 127.0.0.1, without Docker:
# Redis, a single-node KRaft Kafka, 1..N schedulers (nginx in front when N > 1) and 1..M workers.
# State lives in .stack/: run/ (PID files), logs/, redis/, kafka/, nginx/.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<EOF
usage: $0 up|down|status [--workers M] [--threads T] [--schedulers N] [--no-build]

  up      install what is missing, build the jars when stale, start what is not running
          (default 2 workers, 1 scheduler; until "down", up keeps the shape of the last up)
  down    stop everything this script started (by PID), workers first
  status  one line per component; exits 1 when something is not UP

  --threads T   threads per worker (default: the worker's default, one per core)
  --no-build    never run Maven for the service jars, use the ones in */target

Ports (env): REDIS_PORT=6379 KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093
             SCHEDULER_PORT=30000 (schedulers on 30001.. when N > 1) WORKER_PORT=30101
Logs: .stack/logs/<component>.log
EOF
}

REDIS_PORT="${REDIS_PORT:-6379}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
SCHEDULER_PORT="${SCHEDULER_PORT:-30000}"
WORKER_PORT="${WORKER_PORT:-30101}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-120}"
KAFKA_DIR="$STACK_DIR/kafka"
NGINX_DIR="$STACK_DIR/nginx"
LAYOUT_FILE="$STACK_DIR/layout"
SCHEDULER_JAR="$DTS_ROOT/scheduler-service/target/scheduler-service-exec.jar"
WORKER_JAR="$DTS_ROOT/worker-service/target/worker-service-exec.jar"

# The shape of the stack: the last `up` (while it runs), else the defaults, then the options.
WORKERS=2 SCHEDULERS=1 THREADS="" BUILD=1
if [[ -f $LAYOUT_FILE ]]; then
  read -r WORKERS SCHEDULERS THREADS <"$LAYOUT_FILE" || true
fi
command="${1:-}"
(($#)) && shift
while (($#)); do
  case "$1" in
    --workers) WORKERS="${2:?--workers needs a number}"; shift 2 ;;
    --threads) THREADS="${2:?--threads needs a number}"; shift 2 ;;
    --schedulers) SCHEDULERS="${2:?--schedulers needs a number}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
[[ $WORKERS =~ ^[0-9]+$ && $SCHEDULERS =~ ^[1-9][0-9]*$ && $THREADS =~ ^([1-9][0-9]*)?$ ]] ||
  die "--workers needs a number >= 0, --schedulers and --threads a number >= 1"

scheduler_port() { # scheduler_port I
  if ((SCHEDULERS == 1)); then echo "$SCHEDULER_PORT"; else echo $((SCHEDULER_PORT + $1)); fi
}
worker_port() { echo $((WORKER_PORT + $1 - 1)); }

redis_ready() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}
kafka_ready() {
  if command -v kcat >/dev/null; then
    kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 2 >/dev/null 2>&1
  else
    port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$(log_file kafka)"
  fi
}
scheduler_ready() { http_ok "http://127.0.0.1:$(scheduler_port "$1")/actuator/health/readiness"; }
worker_ready() { http_ok "http://127.0.0.1:$(worker_port "$1")/actuator/health"; }
nginx_ready() { port_open "$SCHEDULER_PORT"; }

# ---------------------------------------------------------------------------------------------
# up

STARTED=()
# On a failed `up`, stop what this run started (newest first); the logs stay for reading.
cleanup_failed_up() {
  local rc=$? i
  ((rc != 0 && ${#STARTED[@]})) || return 0
  warn "up failed; stopping what this run started: ${STARTED[*]}"
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop "${STARTED[i]}" || true; done
}

# launch NAME PORT CMD...: starts NAME unless it already runs with the same command line.
# A component that runs with another command line (port or options changed) is restarted.
launch() {
  local name="$1" port="$2"
  shift 2
  if is_running "$name"; then
    if same_command "$name" "$@"; then
      log "$name already running (pid $(pid_of "$name"))"
      return 0
    fi
    log "$name runs with other options, restarting it"
    stop "$name"
  fi
  if port_open "$port"; then
    die "port $port is taken by another process (see: ss -ltnp 'sport = :$port');" \
      "stop it or choose other ports with the env variables listed in: $0 --help"
  fi
  log "starting $name on 127.0.0.1:$port (log: $(log_file "$name"))"
  start_bg "$name" "$@"
  STARTED+=("$name")
}

install_kafka() {
  local libs="$KAFKA_DIR/libs" pom="$DTS_ROOT/scripts/kafka/pom.xml"
  [[ -f $libs/.complete && $libs/.complete -nt $pom ]] && return 0
  log "downloading the Kafka broker jars from Maven Central (once, ~43 MB, into $libs)"
  rm -rf "$libs" "$libs.tmp"
  mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DoutputDirectory="$libs.tmp" ||
    die "could not download the Kafka jars; check network access to Maven Central and run: mvn -f $pom dependency:copy-dependencies -DoutputDirectory=$libs"
  mv "$libs.tmp" "$libs"
  touch "$libs/.complete"
}

build_jars() {
  local jar stale=""
  for jar in "$SCHEDULER_JAR" "$WORKER_JAR"; do
    if [[ ! -f $jar ]]; then
      stale="missing $(basename "$jar")"
    elif [[ -z $stale ]]; then
      # Newer pom.xml or main source than the jar? (test sources and scripts do not count)
      stale="$(find "$DTS_ROOT" \( -path "$STACK_DIR" -o -path "$DTS_ROOT/scripts" -o -name target -o -name .git \) -prune \
        -o -type f \( -name pom.xml -o -path '*/src/main/*' \) -newer "$jar" -print -quit)"
    fi
  done
  [[ -n $stale ]] || return 0
  if ((BUILD == 0)); then
    [[ -f $SCHEDULER_JAR && -f $WORKER_JAR ]] || die "--no-build but the jars are missing; build them: mvn -B -DskipTests package"
    warn "jars are older than the sources (${stale#"$DTS_ROOT"/}); using them anyway (--no-build)"
    return 0
  fi
  log "building the jars: mvn -B -q -DskipTests package (${stale#"$DTS_ROOT"/} is newer; 1-3 min)"
  (cd "$DTS_ROOT" && mvn -B -q -Dstyle.color=never -DskipTests package) ||
    die "the build failed (output above); fix it, or see the full log with: mvn -B -DskipTests package"
}

write_kafka_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/stack.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
# The applications declare their topics; these are the fallbacks.
num.partitions=12
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  # Logs go to stderr so tools print only their result on stdout. KAFKA_LOG_LEVEL=INFO for more.
  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${KAFKA_LOG_LEVEL:-WARN}
rootLogger.appenderRef.err.ref = err
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
EOF
}

# write_nginx_config: returns 1 when the configuration did not change.
write_nginx_config() {
  local i servers=""
  for ((i = 1; i <= SCHEDULERS; i++)); do
    servers+="    server 127.0.0.1:$(scheduler_port "$i") max_fails=1 fail_timeout=5s;"$'\n'
  done
  mkdir -p "$NGINX_DIR/tmp" "$LOG_DIR"
  cat >"$NGINX_DIR/nginx.conf.new" <<EOF
# Written by scripts/stack.sh; spreads the API over the schedulers and skips a dead one.
daemon off;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $LOG_DIR/nginx.log warn;
events { worker_connections 1024; }
http {
  access_log $LOG_DIR/nginx-access.log;
  client_body_temp_path $NGINX_DIR/tmp/body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  client_max_body_size 16m;
  upstream schedulers {
$servers    keepalive 16;
  }
  server {
    listen 127.0.0.1:$SCHEDULER_PORT;
    location / {
      proxy_pass http://schedulers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout http_502 http_503;
    }
  }
}
EOF
  if cmp -s "$NGINX_DIR/nginx.conf.new" "$NGINX_DIR/nginx.conf"; then
    rm -f "$NGINX_DIR/nginx.conf.new"
    return 1
  fi
  mv -f "$NGINX_DIR/nginx.conf.new" "$NGINX_DIR/nginx.conf"
  # As root the nginx worker runs as nobody; it buffers large bodies in tmp/.
  ((EUID == 0)) && chown -R nobody "$NGINX_DIR/tmp"
  nginx -t -q -e "$LOG_DIR/nginx.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" ||
    die "nginx rejected $NGINX_DIR/nginx.conf (see the message above)"
}

up() {
  trap cleanup_failed_up EXIT
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$STACK_DIR/redis"
  local pkgs=(curl java:openjdk-17-jdk-headless mvn:maven redis-server redis-cli:redis-tools)
  ((SCHEDULERS > 1)) && pkgs+=(nginx)
  ensure_packages "${pkgs[@]}"
  install_kafka
  build_jars
  echo "$WORKERS $SCHEDULERS $THREADS" >"$LAYOUT_FILE"

  # Shrink first, so freed ports (30000 when nginx goes away) can be reused below.
  local f name i
  for f in "$RUN_DIR"/worker-*.pid "$RUN_DIR"/scheduler-*.pid; do
    [[ -e $f ]] || continue
    name="$(basename "$f" .pid)"
    case "$name" in
      worker-*) ((${name#worker-} <= WORKERS)) || stop "$name" ;;
      scheduler-*) ((${name#scheduler-} <= SCHEDULERS)) || stop "$name" ;;
    esac
  done
  ((SCHEDULERS == 1)) && stop nginx

  launch redis "$REDIS_PORT" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STACK_DIR/redis" \
    --appendonly yes --appendfsync everysec --save '' --daemonize no --logfile ''
  wait_healthy redis 20 redis_ready

  write_kafka_config
  local java_kafka=(java -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_DIR/libs/*")
  if ! is_running kafka && [[ ! -f $KAFKA_DIR/data/meta.properties ]]; then
    log "formatting Kafka storage (once) in $KAFKA_DIR/data"
    local cluster_id
    cluster_id="$("${java_kafka[@]}" kafka.tools.StorageTool random-uuid)"
    "${java_kafka[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
      --standalone >/dev/null || die "formatting Kafka storage failed; remove $KAFKA_DIR/data and retry"
  fi
  launch kafka "$KAFKA_PORT" "${java_kafka[@]}" -Xmx512m kafka.Kafka "$KAFKA_DIR/server.properties"
  wait_healthy kafka 60 kafka_ready

  local common=(--pubsub.namespace="127.0.0.1:$KAFKA_PORT" --spring.data.redis.host=127.0.0.1
    --spring.data.redis.port="$REDIS_PORT")
  for ((i = 1; i <= SCHEDULERS; i++)); do
    launch "scheduler-$i" "$(scheduler_port "$i")" java -Xmx512m -jar "$SCHEDULER_JAR" \
      --server.port="$(scheduler_port "$i")" "${common[@]}"
  done
  for ((i = 1; i <= SCHEDULERS; i++)); do wait_healthy "scheduler-$i" "$STARTUP_TIMEOUT" scheduler_ready "$i"; done

  if ((SCHEDULERS > 1)); then
    if write_nginx_config && is_running nginx; then
      log "reloading nginx (pid $(pid_of nginx)): the scheduler list changed"
      kill -HUP "$(pid_of nginx)"
    else
      launch nginx "$SCHEDULER_PORT" nginx -e "$LOG_DIR/nginx.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
      wait_healthy nginx 10 nginx_ready
    fi
  fi

  local threads=()
  [[ -n $THREADS ]] && threads=(--worker.threads="$THREADS")
  for ((i = 1; i <= WORKERS; i++)); do
    launch "worker-$i" "$(worker_port "$i")" java -Xmx384m -jar "$WORKER_JAR" --server.port="$(worker_port "$i")" \
      --worker.id="worker-$i" "${threads[@]}" "${common[@]}"
  done
  for ((i = 1; i <= WORKERS; i++)); do wait_healthy "worker-$i" "$STARTUP_TIMEOUT" worker_ready "$i"; done

  for f in "$RUN_DIR"/scheduler-*.pid "$RUN_DIR"/worker-*.pid; do
    [[ -e $f && ($SCHEDULER_JAR -nt $f || $WORKER_JAR -nt $f) ]] &&
      warn "$(basename "$f" .pid) runs an older build; restart it with: $0 down && $0 up"
  done
  trap - EXIT
  log "stack is up: API http://127.0.0.1:$SCHEDULER_PORT/api/tasks, status: $0 status, stop: $0 down"
}

# ---------------------------------------------------------------------------------------------
# down, status

# Components that have a PID file, in stop order: workers, schedulers, nginx, Kafka, Redis.
known_components() {
  local f
  for f in "$RUN_DIR"/worker-*.pid "$RUN_DIR"/scheduler-*.pid; do
    [[ -e $f ]] && basename "$f" .pid
  done | sort -t- -k1,1r -k2,2n
  echo nginx kafka redis | tr ' ' '\n'
}

down() {
  local name
  for name in $(known_components); do stop "$name"; done
  rm -f "$LAYOUT_FILE"
  log "stack is down (data kept in $STACK_DIR; delete it for a fresh start)"
}

status() {
  local name port check pid health all_up=0 i
  local rows=("redis $REDIS_PORT redis_ready" "kafka $KAFKA_PORT kafka_ready")
  for ((i = 1; i <= SCHEDULERS; i++)); do rows+=("scheduler-$i $(scheduler_port "$i") scheduler_ready $i"); done
  ((SCHEDULERS > 1)) && rows+=("nginx $SCHEDULER_PORT nginx_ready")
  for ((i = 1; i <= WORKERS; i++)); do rows+=("worker-$i $(worker_port "$i") worker_ready $i"); done
  printf '%-13s %-8s %-6s %s\n' COMPONENT PID PORT HEALTH
  for row in "${rows[@]}"; do
    read -r name port check i <<<"$row"
    if pid="$(pid_of "$name")"; then
      # shellcheck disable=SC2086 # $i is an optional argument
      if $check $i; then health=UP; else health=DOWN all_up=1; fi
    else
      pid=- health="not running" all_up=1
    fi
    printf '%-13s %-8s %-6s %s\n' "$name" "$pid" "$port" "$health"
  done
  return "$all_up"
}

case "$command" in
  up) up ;;
  down) down ;;
  status) status ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
