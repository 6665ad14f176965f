#!/usr/bin/env bash
# Runs the whole system on this machine without Docker: Redis (one server or a Redis Cluster of 3
# masters with a replica each), a single-node or 3-node KRaft Kafka, 1..N schedulers (nginx in
# front when N > 1) and 1..M workers, every listener on 127.0.0.1 (the HTTP ones on --bind ADDR).
# State lives in .stack/: run/ (PID files), logs/, redis/ (or redis-cluster/), kafka/, nginx/,
# tokens/ (the API's keys file and the operator token).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<EOF
usage: $0 up|down|status [--workers M] [--threads T] [--schedulers N] [--kafka-brokers 1|3]
                         [--redis-cluster | --redis-single] [--bind ADDR] [--no-build]
       $0 token add NAME reader|submitter|operator

  up      install what is missing, build the jars when stale, start what is not running
          (default 2 workers, 1 scheduler, 1 Kafka broker; until "down", up keeps the shape
          of the last up)
  down    stop everything this script started (by PID), workers first
  status  one line per component; exits 1 when something is not UP
  token add NAME ROLE
          add a key to the keys file the schedulers check tokens against (running ones take
          it at once) and print its new token as the last line; only its hash is kept. Roles:
          reader (every GET), submitter (submits; reads, cancels, retries its own tasks),
          operator (everything). The first "up" makes the operator token .stack/tokens/admin

  --threads T         threads per worker (default: the worker's default, one per core)
  --kafka-brokers 3   a 3-node KRaft cluster (each node broker and controller) instead of one
                      broker; topics get replication factor 3 and min.insync.replicas 2
  --redis-cluster     a Redis Cluster of 3 masters with a replica each (redis-server in cluster
                      mode, created with redis-cli --cluster create) instead of one server;
                      --redis-single goes back
  --bind ADDR         the IPv4 address the HTTP listeners bind: schedulers, workers and nginx
                      (default 127.0.0.1, loopback only; 0.0.0.0 for every interface). The API
                      takes no request without a token; whoever holds one of a submitter or an
                      operator runs commands on the workers. Redis and Kafka stay on 127.0.0.1
  --no-build          never run Maven for the service jars, use the ones in */target

JVM options (env): SCHEDULER_JAVA_OPTS, WORKER_JAVA_OPTS
Redis (env): REDIS_APPENDFSYNC=everysec (always: no acknowledged write lost even to kill -9; soak.sh uses it)
Ports (env): REDIS_PORT=6379 (the cluster's nodes on REDIS_PORT..REDIS_PORT+5, their cluster bus
             on those ports + 10000) KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093 (with 3 brokers, node n
             listens on KAFKA_PORT+2(n-1) and KAFKA_CONTROLLER_PORT+2(n-1): 9092/9093, 9094/9095,
             9096/9097) SCHEDULER_PORT=30000 (schedulers on 30001.. when N > 1) WORKER_PORT=30101
             REDIS_CLIENT_PORT=REDIS_PORT (where the services reach the single Redis: soak.sh puts
             a fault proxy there)
Keys file (env): KEYS_FILE=.stack/tokens/keys ("token add" writes there; docker-compose mounts
                deploy/secrets/api-keys, see docs/security.md)
Logs: .stack/logs/<component>.log (kafka.log, or kafka-1.log.. with 3 brokers; redis-1.log..
      with the Redis Cluster)
EOF
}

REDIS_PORT="${REDIS_PORT:-6379}"
REDIS_CLIENT_PORT="${REDIS_CLIENT_PORT:-$REDIS_PORT}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
SCHEDULER_PORT="${SCHEDULER_PORT:-30000}"
WORKER_PORT="${WORKER_PORT:-30101}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-120}"
# Serial GC and a bounded heap keep the services lean (a 1,000,000-item submit fits in the scheduler's).
# A small initial heap grows only as far as the work needs: by default it would start at 1/64 of
# the RAM, on most machines all of -Xmx. The services are glue between Redis, Kafka and bash: the
# quick C1 compiler alone (TieredStopAtLevel=1) spares the CPU and memory C2 spends (see BENCHMARKS.md).
SCHEDULER_JAVA_OPTS="${SCHEDULER_JAVA_OPTS:--Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:ReservedCodeCacheSize=64m -XX:MaxDirectMemorySize=64m -XX:+ExitOnOutOfMemoryError}"
WORKER_JAVA_OPTS="${WORKER_JAVA_OPTS:--Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:ReservedCodeCacheSize=64m -XX:+ExitOnOutOfMemoryError}"
KAFKA_DIR="$STACK_DIR/kafka"
NGINX_DIR="$STACK_DIR/nginx"
API_RULES="$DTS_ROOT/deploy/nginx/dts-api.conf"
LAYOUT_FILE="$STACK_DIR/layout"
SCHEDULER_JAR="$DTS_ROOT/scheduler-service/target/scheduler-service-exec.jar"
WORKER_JAR="$DTS_ROOT/worker-service/target/worker-service-exec.jar"

# The shape of the stack: the last `up` (while it runs), else the defaults, then the options.
# The layout file reads "WORKERS SCHEDULERS THREADS|- KAFKA_BROKERS REDIS_CLUSTER BIND" (older
# files lack the last ones).
WORKERS=2 SCHEDULERS=1 THREADS="" KAFKA_BROKERS=1 REDIS_CLUSTER=0 BIND=127.0.0.1 BUILD=1
if [[ -f $LAYOUT_FILE ]]; then
  read -r WORKERS SCHEDULERS THREADS KAFKA_BROKERS REDIS_CLUSTER BIND <"$LAYOUT_FILE" || true
  [[ $THREADS == - ]] && THREADS=""
  KAFKA_BROKERS="${KAFKA_BROKERS:-1}" REDIS_CLUSTER="${REDIS_CLUSTER:-0}" BIND="${BIND:-127.0.0.1}"
fi
# The address of the HTTP listeners the last `up` started (nginx cannot move its listener on a reload).
RUNNING_BIND="$BIND"

# API tokens: the keys file the schedulers check a request's token against, one key a line
# ("name role sha256-of-token", never the token), and the operator token of whoever runs the stack.
TOKENS_DIR="$STACK_DIR/tokens"
KEYS_FILE="$(realpath -m "${KEYS_FILE:-$TOKENS_DIR/keys}")"
ADMIN_TOKEN="$TOKENS_DIR/admin"
new_token() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
add_key() { # add_key NAME ROLE TOKEN
  (umask 077 && mkdir -p "$(dirname "$KEYS_FILE")" && printf '%s %s %s\n' "$1" "$2" "$(sha256 "$3")" >>"$KEYS_FILE")
}
# The operator token in .stack/tokens/admin (0600), made on the first start, and its key.
ensure_admin_token() {
  if [[ ! -s $ADMIN_TOKEN ]]; then
    log "making the operator token $ADMIN_TOKEN; send it as: -H \"Authorization: Bearer \$(cat $ADMIN_TOKEN)\""
    (umask 077 && mkdir -p "$TOKENS_DIR" && new_token >"$ADMIN_TOKEN")
  fi
  grep -qs " $(sha256 "$(<"$ADMIN_TOKEN")")\$" "$KEYS_FILE" || add_key admin operator "$(<"$ADMIN_TOKEN")"
}
token_add() { # token_add NAME ROLE
  local name="${1:-}" role="${2:-}" token
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$ ]] ||
    die "usage: $0 token add NAME reader|submitter|operator (NAME: letters, digits and ._@-, it owns the tasks it submits)"
  [[ $role =~ ^(reader|submitter|operator)$ ]] || die "the role is reader, submitter or operator, not '$role'"
  token="$(new_token)"
  add_key "$name" "$role" "$token"
  log "added the key '$name' ($role) to $KEYS_FILE; running schedulers take it at once."
  log "its token is shown this once (only its hash is kept): send it as -H \"Authorization: Bearer <token>\""
  printf '%s\n' "$token"
}

command="${1:-}"
(($#)) && shift
if [[ $command == token ]]; then
  [[ ${1:-} == add && $# == 3 ]] || die "usage: $0 token add NAME reader|submitter|operator"
  token_add "$2" "$3"
  exit 0
fi
while (($#)); do
  case "$1" in
    --workers) WORKERS="${2:?--workers needs a number}"; shift 2 ;;
    --threads) THREADS="${2:?--threads needs a number}"; shift 2 ;;
    --schedulers) SCHEDULERS="${2:?--schedulers needs a number}"; shift 2 ;;
    --kafka-brokers) KAFKA_BROKERS="${2:?--kafka-brokers needs 1 or 3}"; shift 2 ;;
    --redis-cluster) REDIS_CLUSTER=1; shift ;;
    --redis-single) REDIS_CLUSTER=0; shift ;;
    --bind) BIND="${2:?--bind needs an IPv4 address}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
[[ $WORKERS =~ ^[0-9]+$ && $SCHEDULERS =~ ^[1-9][0-9]*$ && $THREADS =~ ^([1-9][0-9]*)?$ ]] ||
  die "--workers needs a number >= 0, --schedulers and --threads a number >= 1"
[[ $KAFKA_BROKERS == 1 || $KAFKA_BROKERS == 3 ]] ||
  die "--kafka-brokers takes 1 (a single broker) or 3 (a cluster that survives losing one)"
[[ $BIND =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] ||
  die "--bind takes an IPv4 address of this machine (see: ip -br addr), or 0.0.0.0 for every interface"
# Where this script reaches the HTTP listeners (health checks, nginx's upstreams): their address,
# or loopback when they listen on every interface.
if [[ $BIND == 0.0.0.0 ]]; then HTTP_HOST=127.0.0.1; else HTTP_HOST="$BIND"; fi

scheduler_port() { # scheduler_port I
  if ((SCHEDULERS == 1)); then echo "$SCHEDULER_PORT"; else echo $((SCHEDULER_PORT + $1)); fi
}
worker_port() { echo $((WORKER_PORT + $1 - 1)); }
# Kafka node I (1..KAFKA_BROKERS): its component name, ports, configuration and data directory.
# A single broker keeps the names it always had (kafka, server.properties, data/).
kafka_name() { if ((KAFKA_BROKERS == 1)); then echo kafka; else echo "kafka-$1"; fi; }
kafka_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
kafka_controller_port() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }
kafka_config() { if ((KAFKA_BROKERS == 1)); then echo "$KAFKA_DIR/server.properties"; else echo "$KAFKA_DIR/server-$1.properties"; fi; }
kafka_data() { if ((KAFKA_BROKERS == 1)); then echo "$KAFKA_DIR/data"; else echo "$KAFKA_DIR/data-$1"; fi; }
# kafka_addresses port|controller_port: 127.0.0.1:<port> of every node, comma-separated.
kafka_addresses() {
  local i out=""
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do out+="127.0.0.1:$("kafka_$1" "$i"),"; done
  echo "${out%,}"
}
kafka_bootstrap() { kafka_addresses port; }
# Redis: one server "redis", or the cluster's nodes redis-1..6 on REDIS_PORT..REDIS_PORT+5 (3
# masters, each with a replica that takes over when its master fails).
REDIS_CLUSTER_NODES=6
redis_port() { if ((REDIS_CLUSTER)); then echo $((REDIS_PORT + $1 - 1)); else echo "$REDIS_PORT"; fi; }
redis_cluster_addresses() {
  local i out=""
  for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do out+="127.0.0.1:$(redis_port "$i"),"; done
  echo "${out%,}"
}

redis_ready() { # redis_ready [I]
  [[ "$(redis_cli -h 127.0.0.1 -p "$(redis_port "${1:-1}")" ping 2>/dev/null)" == PONG ]]
}
# Node I of the Redis Cluster sees every slot served.
redis_cluster_ready() {
  redis_cli -h 127.0.0.1 -p "$(redis_port "$1")" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}
kafka_ready() { # kafka_ready I: node I answers
  if command -v kcat >/dev/null; then
    kafka_cat -b "127.0.0.1:$(kafka_port "$1")" -L -m 2 >/dev/null 2>&1
  else
    port_open "$(kafka_port "$1")" && grep -q 'Kafka Server started' "$(log_file "$(kafka_name "$1")")"
  fi
}
# Every node is registered and unfenced: the metadata lists all of them.
kafka_cluster_ready() {
  kafka_cat -b "$(kafka_bootstrap)" -L -m 2 2>/dev/null | grep -q "^ $KAFKA_BROKERS brokers:"
}
# listening HOST PORT: something accepts connections there (port_open, on any address).
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
scheduler_ready() { http_ok "http://$HTTP_HOST:$(scheduler_port "$1")/actuator/health/readiness"; }
worker_ready() { http_ok "http://$HTTP_HOST:$(worker_port "$1")/actuator/health"; }
nginx_ready() { listening "$HTTP_HOST" "$SCHEDULER_PORT"; }

# ---------------------------------------------------------------------------------------------
# up

STARTED=()
# The key schedulers sign shards with and workers check them by; readable by this user only, so
# items (another user) cannot read it. Made once, kept across restarts.
SHARD_KEY="$STACK_DIR/secrets/shard.key"
ensure_shard_key() {
  make_key "$SHARD_KEY"
  chmod 700 "$(dirname "$SHARD_KEY")"
}

# Items run as another user: they may pass through .stack to their work directories, but neither list
# it nor read Redis's and Kafka's data (every task's commands, items and outputs), the logs or the
# secrets. (nginx's directory stays readable: its workers run as another user too.)
protect_stack_dir() {
  chmod 711 "$STACK_DIR"
  # The directories themselves are enough: nobody else can enter them, so nothing under them is reachable.
  # (Not chmod -R: Redis and Kafka are running, and a file they rename away mid-walk failed the whole up.)
  local dir
  for dir in redis redis-cluster kafka logs run secrets tokens; do
    [[ -e $STACK_DIR/$dir ]] && chmod go-rwx "$STACK_DIR/$dir"
  done
  return 0
}

# On a failed `up`, stop what this run started (newest first); the logs stay for reading.
cleanup_failed_up() {
  local rc=$? i
  ((rc != 0 && ${#STARTED[@]})) || return 0
  warn "up failed; stopping what this run started: ${STARTED[*]}"
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop "${STARTED[i]}" || true; done
}

# launch NAME ADDRESS PORT CMD...: starts NAME, which CMD binds to ADDRESS:PORT, unless it already
# runs with the same command line. A component that runs with another command line (address, port
# or options changed) is restarted.
launch() {
  local name="$1" address="$2" port="$3" probe="$2"
  shift 3
  [[ $address == 0.0.0.0 ]] && probe=127.0.0.1
  if is_running "$name"; then
    if same_command "$name" "$@"; then
      log "$name already running (pid $(pid_of "$name"))"
      return 0
    fi
    log "$name runs with other options, restarting it"
    stop "$name"
  fi
  if listening "$probe" "$port"; then
    die "port $port is taken by another process (see: ss -ltnp 'sport = :$port');" \
      "stop it or choose other ports with the env variables listed in: $0 --help"
  fi
  log "starting $name on $address:$port (log: $(log_file "$name"))"
  start_bg "$name" "$@"
  STARTED+=("$name")
}

install_kafka() {
  local libs="$KAFKA_DIR/libs" pom="$DTS_ROOT/deploy/kafka/pom.xml"
  [[ -f $libs/.complete && $libs/.complete -nt $pom ]] && return 0
  log "downloading the Kafka broker jars from Maven Central (once, ~44 MB, into $libs)"
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

# write_kafka_config I: the configuration of node I, from deploy/kafka/server.properties (the tests'
# Kafka uses the same file); mode 0600, as it holds the nodes' password.
write_kafka_config() {
  local i="$1" rf=1 isr=1
  ((KAFKA_BROKERS > 1)) && rf=3 isr=2
  mkdir -p "$(kafka_data "$i")"
  (
    umask 077
    render "$DTS_ROOT/deploy/kafka/server.properties" NODE_ID="$i" CONTROLLERS="$(kafka_addresses controller_port)" \
      LISTEN_HOST=127.0.0.1 HOST=127.0.0.1 PORT="$(kafka_port "$i")" CONTROLLER_PORT="$(kafka_controller_port "$i")" LOG_DIR="$(kafka_data "$i")" \
      PARTITIONS=12 REPLICAS="$rf" MIN_INSYNC="$isr" BROKER_PASSWORD="$(<"$KAFKA_SECRETS/broker/dts.kafka.password")" >"$(kafka_config "$i")"
  )
}

# write_nginx_config: returns 1 when neither the configuration nor the API rules it includes changed.
# The API rules (body limit, proxy settings, problem+json error pages) are deploy/nginx/dts-api.conf,
# shared with docker-compose and the end-to-end tests; this file adds what is particular to the stack.
write_nginx_config() {
  local i servers=""
  for ((i = 1; i <= SCHEDULERS; i++)); do
    servers+="    server $HTTP_HOST:$(scheduler_port "$i") max_fails=1 fail_timeout=5s;"$'\n'
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
  upstream schedulers {
$servers    keepalive 16;
  }
  server {
    listen $BIND:$SCHEDULER_PORT;
    include "$API_RULES";
  }
}
EOF
  if cmp -s "$NGINX_DIR/nginx.conf.new" "$NGINX_DIR/nginx.conf" && [[ ! $API_RULES -nt $NGINX_DIR/nginx.conf ]]; then
    rm -f "$NGINX_DIR/nginx.conf.new"
    return 1
  fi
  mv -f "$NGINX_DIR/nginx.conf.new" "$NGINX_DIR/nginx.conf"
  # As root the nginx worker runs as nobody; it buffers large bodies in tmp/.
  ((EUID == 0)) && chown -R nobody "$NGINX_DIR/tmp"
  nginx -t -q -e "$LOG_DIR/nginx.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" ||
    die "nginx rejected $NGINX_DIR/nginx.conf (see the message above)"
}

# Formats the storage of every Kafka node that has none, all with one cluster id. A cluster is
# formatted as a whole, its 3 controllers named up front (--initial-controllers: id@host:port:
# directory id), so a half-formatted cluster is an error rather than a guess.
format_kafka() {
  local java_kafka=("$@") i missing=() cluster_id controllers="" dir_id
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do
    [[ -f $(kafka_data "$i")/meta.properties ]] || missing+=("$i")
  done
  ((${#missing[@]})) || return 0
  if ((KAFKA_BROKERS == 1)); then
    log "formatting Kafka storage (once) in $(kafka_data 1)"
    cluster_id="$("${java_kafka[@]}" kafka.tools.StorageTool random-uuid)"
    "${java_kafka[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$(kafka_config 1)" \
      --standalone >/dev/null || die "formatting Kafka storage failed; remove $(kafka_data 1) and retry"
    return 0
  fi
  ((${#missing[@]} == KAFKA_BROKERS)) ||
    die "Kafka node(s) ${missing[*]} have no storage but the others do; start the cluster afresh:" \
      "$0 down && rm -rf $KAFKA_DIR/data-* && $0 up --kafka-brokers $KAFKA_BROKERS"
  log "formatting the storage of a $KAFKA_BROKERS-node Kafka cluster (once) in $KAFKA_DIR/data-1..$KAFKA_BROKERS"
  cluster_id="$("${java_kafka[@]}" kafka.tools.StorageTool random-uuid)"
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do
    dir_id="$("${java_kafka[@]}" kafka.tools.StorageTool random-uuid)"
    controllers+="$i@127.0.0.1:$(kafka_controller_port "$i"):$dir_id,"
  done
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do
    "${java_kafka[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$(kafka_config "$i")" \
      --initial-controllers "${controllers%,}" >/dev/null ||
      die "formatting Kafka node $i failed (message above); run: $0 down && rm -rf $KAFKA_DIR/data-* and retry"
  done
}

# Starts every Kafka node, then waits for each; a quorum of 3 needs 2 nodes up before any is ready.
start_kafka() {
  local f i java_kafka=(java -Dlog4j2.configurationFile="$DTS_ROOT/deploy/kafka/log4j2.properties" -cp "$KAFKA_DIR/libs/*")
  # Switching between one broker and a cluster: stop the other shape's nodes (each has its data).
  local other=()
  if ((KAFKA_BROKERS == 1)); then
    for f in "$RUN_DIR"/kafka-*.pid; do [[ -e $f ]] && other+=("$(basename "$f" .pid)"); done
  else
    other=(kafka)
  fi
  ((${#other[@]} == 0)) || stop "${other[@]}"
  ensure_kafka_users
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do write_kafka_config "$i"; done
  is_running "$(kafka_name 1)" || format_kafka "${java_kafka[@]}"
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do
    launch "$(kafka_name "$i")" 127.0.0.1 "$(kafka_port "$i")" "${java_kafka[@]}" -Xmx384m kafka.Kafka "$(kafka_config "$i")"
  done
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do wait_healthy "$(kafka_name "$i")" 60 kafka_ready "$i"; done
  if ((KAFKA_BROKERS > 1)); then
    wait_healthy "$(kafka_name 1)" 60 kafka_cluster_ready
    log "Kafka cluster of $KAFKA_BROKERS nodes is up: $(kafka_bootstrap)"
  fi
  # The services' users and rights, on every up: a changed deploy/kafka/acls takes effect.
  "${java_kafka[@]}" "$DTS_ROOT/deploy/kafka/KafkaAccess.java" "$(kafka_bootstrap)" "$KAFKA_SECRETS" "$DTS_ROOT/deploy/kafka/acls" >/dev/null ||
    die "could not give the services their Kafka users (deploy/kafka/KafkaAccess.java; message above)"
}

# Starts the one Redis server, or the 3 nodes of the Redis Cluster; a new cluster is created once
# (redis-cli --cluster create), afterwards the nodes find each other again from their nodes.conf.
# Every key of a task carries the {taskId} hash tag, so a task's transactions run on one master.
start_redis() {
  local i name
  # Switching between one server and the cluster: stop the other shape (each keeps its data).
  if ((REDIS_CLUSTER)); then stop redis; else for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do stop "redis-$i"; done; fi
  local persistence=(--appendonly yes --appendfsync "${REDIS_APPENDFSYNC:-everysec}" --save '' --daemonize no --logfile '')
  local config="$STACK_DIR/secrets/redis.conf"
  write_redis_config "$config"
  if ((!REDIS_CLUSTER)); then
    mkdir -p "$STACK_DIR/redis"
    launch redis 127.0.0.1 "$REDIS_PORT" redis-server "$config" --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STACK_DIR/redis" "${persistence[@]}"
    wait_healthy redis 20 redis_ready
    return 0
  fi
  ((REDIS_PORT + REDIS_CLUSTER_NODES - 1 + 10000 <= 65535)) || die "REDIS_PORT too high: the cluster bus uses port + 10000"
  for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do
    name="redis-$i"
    mkdir -p "$STACK_DIR/redis-cluster/$name"
    launch "$name" 127.0.0.1 "$(redis_port "$i")" redis-server "$config" --bind 127.0.0.1 --port "$(redis_port "$i")" \
      --dir "$STACK_DIR/redis-cluster/$name" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 5000 "${persistence[@]}"
  done
  for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do wait_healthy "redis-$i" 20 redis_ready "$i"; done
  local info
  info="$(redis_cli -h 127.0.0.1 -p "$(redis_port 1)" cluster info)"
  if [[ $info == *cluster_slots_assigned:0* ]]; then
    log "creating the Redis Cluster, 3 masters with a replica each (once): $(redis_cluster_addresses)"
    # shellcheck disable=SC2046 # one address per word
    redis_cli --cluster create $(redis_cluster_addresses | tr , ' ') --cluster-replicas 1 --cluster-yes \
      >>"$(log_file redis-1)" 2>&1 || die "redis-cli --cluster create failed; see $(log_file redis-1)"
  fi
  for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do wait_healthy "redis-$i" 30 redis_cluster_ready "$i"; done
  log "Redis Cluster of $REDIS_CLUSTER_NODES nodes is up: $(redis_cluster_addresses)"
}

up() {
  trap cleanup_failed_up EXIT
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  local pkgs=(curl java:openjdk-17-jdk-headless mvn:maven redis-server redis-cli:redis-tools)
  ((SCHEDULERS > 1)) && pkgs+=(nginx)
  ((KAFKA_BROKERS > 1)) && pkgs+=(kcat)
  ensure_packages "${pkgs[@]}"
  install_kafka
  build_jars
  echo "$WORKERS $SCHEDULERS ${THREADS:--} $KAFKA_BROKERS $REDIS_CLUSTER $BIND" >"$LAYOUT_FILE"
  [[ $BIND == 127.* ]] ||
    warn "the API listens on $BIND:$SCHEDULER_PORT: anyone there who holds a submitter or operator token" \
      "runs commands on the workers. Use it on a network you trust (back to loopback: --bind 127.0.0.1)"

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
  # On another address nginx is restarted, not reloaded: a reload would bind the new address while
  # the old one still holds the port.
  if ((SCHEDULERS == 1)) || [[ $BIND != "$RUNNING_BIND" ]]; then stop nginx; fi

  start_redis
  start_kafka

  ensure_shard_key
  ensure_admin_token
  protect_stack_dir
  local common=(--pubsub.namespace="$(kafka_bootstrap)" --dts.security.shard-key-file="$SHARD_KEY") topics=()
  if ((REDIS_CLUSTER)); then
    common+=(--spring.data.redis.cluster.nodes="$(redis_cluster_addresses)")
  else
    common+=(--spring.data.redis.host=127.0.0.1 --spring.data.redis.port="$REDIS_CLIENT_PORT")
  fi
  ((KAFKA_BROKERS > 1)) && topics=(--pubsub.replication-factor=3 --pubsub.min-insync-replicas=2)
  for ((i = 1; i <= SCHEDULERS; i++)); do
    # shellcheck disable=SC2086 # the options are words
    launch "scheduler-$i" "$BIND" "$(scheduler_port "$i")" java $SCHEDULER_JAVA_OPTS -jar "$SCHEDULER_JAR" \
      --server.address="$BIND" --server.port="$(scheduler_port "$i")" --dts.redis.credentials-dir="$REDIS_SECRETS/scheduler" \
      --dts.kafka.credentials-dir="$KAFKA_SECRETS/scheduler" --dts.security.keys-file="$KEYS_FILE" "${common[@]}" "${topics[@]}"
  done
  for ((i = 1; i <= SCHEDULERS; i++)); do wait_healthy "scheduler-$i" "$STARTUP_TIMEOUT" scheduler_ready "$i"; done

  if ((SCHEDULERS > 1)); then
    if write_nginx_config && is_running nginx; then
      log "reloading nginx (pid $(pid_of nginx)): the scheduler list changed"
      kill -HUP "$(pid_of nginx)"
    else
      launch nginx "$BIND" "$SCHEDULER_PORT" nginx -e "$LOG_DIR/nginx.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
      wait_healthy nginx 10 nginx_ready
    fi
  fi

  local threads=() sandbox=()
  [[ -n $THREADS ]] && threads=(--worker.threads="$THREADS")
  # As root, workers run items as $SANDBOX_USER in a private PID namespace. Without root they cannot
  # switch users: items then run as $(id -un), which the worker refuses unless told so on purpose.
  if ((EUID == 0)); then
    ensure_sandbox_user
  else
    warn "not root: items run as $(id -un), without a PID namespace (docs/security.md, What an item may do)"
    sandbox=(--worker.sandbox.same-user=true --worker.sandbox.isolation=none)
  fi
  # Items work in worker.work-dir's default (/var/lib/dts-worker as root), outside /tmp and so outside a checkout
  # under /tmp; each worker process makes a directory of its own there, of a name no other one takes.
  for ((i = 1; i <= WORKERS; i++)); do
    # shellcheck disable=SC2086 # the options are words
    launch "worker-$i" "$BIND" "$(worker_port "$i")" java $WORKER_JAVA_OPTS -jar "$WORKER_JAR" \
      --server.address="$BIND" --server.port="$(worker_port "$i")" \
      --worker.id="worker-$i" --dts.redis.credentials-dir="$REDIS_SECRETS/worker" --dts.kafka.credentials-dir="$KAFKA_SECRETS/worker" \
      "${threads[@]}" "${sandbox[@]}" "${common[@]}"
  done
  for ((i = 1; i <= WORKERS; i++)); do wait_healthy "worker-$i" "$STARTUP_TIMEOUT" worker_ready "$i"; done

  for f in "$RUN_DIR"/scheduler-*.pid "$RUN_DIR"/worker-*.pid; do
    [[ -e $f && ($SCHEDULER_JAR -nt $f || $WORKER_JAR -nt $f) ]] &&
      warn "$(basename "$f" .pid) runs an older build; restart it with: $0 down && $0 up"
  done
  trap - EXIT
  log "stack is up: API http://$HTTP_HOST:$SCHEDULER_PORT/api/tasks (token: $ADMIN_TOKEN), status: $0 status, stop: $0 down"
}

# ---------------------------------------------------------------------------------------------
# down, status

# Components that have a PID file, in stop order, one line per group that stops together:
# workers, schedulers, nginx, the Kafka nodes (all at once), Redis (every node at once).
known_components() {
  local f kafka=(kafka) redis=(redis)
  for f in "$RUN_DIR"/worker-*.pid "$RUN_DIR"/scheduler-*.pid; do
    [[ -e $f ]] && basename "$f" .pid
  done | sort -t- -k1,1r -k2,2n
  echo nginx
  for f in "$RUN_DIR"/kafka-*.pid; do
    [[ -e $f ]] && kafka+=("$(basename "$f" .pid)")
  done
  echo "${kafka[*]}"
  for f in "$RUN_DIR"/redis-*.pid; do
    [[ -e $f ]] && redis+=("$(basename "$f" .pid)")
  done
  echo "${redis[*]}"
}

down() {
  local names
  while read -ra names; do stop "${names[@]}"; done < <(known_components)
  rm -f "$LAYOUT_FILE"
  log "stack is down (data kept in $STACK_DIR; delete it for a fresh start)"
}

status() {
  local name port check pid health all_up=0 i
  local rows=()
  if ((REDIS_CLUSTER)); then
    for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do rows+=("redis-$i $(redis_port "$i") redis_cluster_ready $i"); done
  else
    rows=("redis $REDIS_PORT redis_ready")
  fi
  for ((i = 1; i <= KAFKA_BROKERS; i++)); do rows+=("$(kafka_name "$i") $(kafka_port "$i") kafka_ready $i"); done
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
