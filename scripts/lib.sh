# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it, do not run it:
#   source "$(dirname "$0")/lib.sh"
# Background processes are tracked by PID files in .stack/run and never looked up by name.

DTS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# DTS_STACK_DIR: another stack beside this one (soak.sh runs its own in .soak).
STACK_DIR="${DTS_STACK_DIR:-$DTS_ROOT/.stack}"
RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# ensure_packages CMD[:PACKAGE]... installs the Debian package of every missing command.
ensure_packages() {
  local spec missing=()
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec#*:}")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  if ((EUID != 0)); then
    sudo -n true 2>/dev/null || die "missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}"
    sudo=(sudo -n)
  fi
  log "installing ${missing[*]} (apt-get)"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
    ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    die "apt-get could not install ${missing[*]}; try: sudo apt-get install -y ${missing[*]}"
  fi
}

# SANDBOX_USER is the unprivileged user a worker that runs as root runs items as (worker.sandbox.user).
SANDBOX_USER=dts-item

# ensure_sandbox_user: creates SANDBOX_USER when this script runs as root and it does not exist yet.
ensure_sandbox_user() {
  ((EUID == 0)) || return 0
  id -u "$SANDBOX_USER" >/dev/null 2>&1 && return 0
  log "creating the user $SANDBOX_USER that workers run items as (useradd --system)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SANDBOX_USER" ||
    die "could not create the user $SANDBOX_USER; create it with: useradd --system --shell /usr/sbin/nologin $SANDBOX_USER"
}

# render FILE NAME=VALUE...: FILE with every ${NAME} replaced by its VALUE, on stdout.
render() {
  local text pair
  text="$(<"$1")"
  shift
  for pair in "$@"; do text="${text//\$\{${pair%%=*}\}/${pair#*=}}"; done
  printf '%s\n' "$text"
}

# Redis users (deploy/redis/users.conf; the default user is off): each service logs in as its own,
# with a password made once in REDIS_SECRETS/<role>/, as the files spring.data.redis.username and
# spring.data.redis.password (a Spring config tree: --dts.redis.credentials-dir=DIR). Scripts use
# dts-admin (redis_cli). Readable by this user only: items run as another.
REDIS_SECRETS="$STACK_DIR/secrets/redis"
ensure_redis_users() { make_redis_users "$REDIS_SECRETS"; }

# make_redis_users DIR: DIR/<role>/spring.data.redis.{username,password} for each role, unless there.
make_redis_users() { make_users "$1" spring.data.redis scheduler worker admin; }

# make_users DIR PREFIX ROLE...: DIR/<role>/PREFIX.username (dts-<role>) and PREFIX.password (random) for each
# role, unless there; each directory readable by this user only.
make_users() {
  local dir="$1" prefix="$2" role
  shift 2
  for role in "$@"; do
    [[ -s $dir/$role/$prefix.password ]] && continue
    mkdir -p "$dir/$role"
    chmod 700 "$dir" "$dir/$role"
    (
      umask 077
      printf 'dts-%s' "$role" >"$dir/$role/$prefix.username"
      head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$role/$prefix.password"
    )
  done
}

# Kafka users (nobody gets in without one): the nodes log in to each other as dts-broker (PLAIN, its password
# in their server.properties), each service as its own SCRAM user with the rights of deploy/kafka/acls, which
# deploy/kafka/KafkaAccess.java gives them. Passwords are made once in KAFKA_SECRETS/<role>/ as the files
# dts.kafka.username and dts.kafka.password (a Spring config tree: --dts.kafka.credentials-dir=DIR). Scripts
# log in as dts-broker: kcat with kafka_cat, Kafka's Java tools with --command-config "$KAFKA_CLIENT_CONFIG".
KAFKA_SECRETS="$STACK_DIR/secrets/kafka"
KAFKA_CLIENT_CONFIG="$KAFKA_SECRETS/client.properties"
ensure_kafka_users() {
  make_kafka_users "$KAFKA_SECRETS"
  local password
  password="$(<"$KAFKA_SECRETS/broker/dts.kafka.password")"
  (
    umask 077
    printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=%s required username="dts-broker" password="%s";\n' \
      org.apache.kafka.common.security.plain.PlainLoginModule "$password" >"$KAFKA_CLIENT_CONFIG"
    printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanisms=PLAIN\nsasl.username=dts-broker\nsasl.password=%s\n' "$password" \
      >"$KAFKA_SECRETS/kcat.conf"
  )
}
make_kafka_users() { make_users "$1" dts.kafka broker scheduler worker; }
# kafka_cat ARGS...: kcat logged in as dts-broker (the password in a file, not on the command line).
kafka_cat() { kcat -F "$KAFKA_SECRETS/kcat.conf" "$@"; }

# make_key FILE: 32 random bytes, base64, in FILE (mode 0600), unless it is there.
make_key() {
  [[ -s $1 ]] && return 0
  log "making the key $1"
  mkdir -p "$(dirname "$1")"
  (umask 077 && head -c 32 /dev/urandom | base64 >"$1")
}

# write_redis_config FILE: the users with this stack's password hashes, and the user a replica follows
# its master as; mode 0600.
write_redis_config() {
  ensure_redis_users
  local role hashes=()
  for role in scheduler worker admin; do
    hashes+=("${role^^}_SHA256=$(sha256sum <"$REDIS_SECRETS/$role/spring.data.redis.password" | cut -d' ' -f1)")
  done
  (
    umask 077
    render "$DTS_ROOT/deploy/redis/users.conf" "${hashes[@]}" >"$1"
    printf 'masteruser dts-admin\nmasterauth %s\n' "$(<"$REDIS_SECRETS/admin/spring.data.redis.password")" >>"$1"
  )
}

# redis_cli ARGS...: redis-cli as dts-admin (the password in the environment, not on the command line).
redis_cli() { REDISCLI_AUTH="$(<"$REDIS_SECRETS/admin/spring.data.redis.password")" redis-cli --user dts-admin "$@"; }

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
log_file() { printf '%s/%s.log' "$LOG_DIR" "$1"; }

# pid_of NAME prints the PID of component NAME when it is alive and ours (its working directory
# is inside this repo, which guards against a PID reused by an unrelated process).
pid_of() {
  local file pid cwd
  file="$(pid_file "$1")"
  [[ -f $file ]] || return 1
  read -r pid <"$file" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)" || return 1
  [[ $cwd == "$DTS_ROOT" || $cwd == "$DTS_ROOT"/* ]] || return 1
  printf '%s\n' "$pid"
}

is_running() { pid_of "$1" >/dev/null; }

# A daemon gets no descriptor of ours beyond stdio: an inherited lock (flock) or pipe would stay
# held for as long as it lives.
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd="${fd##*/}"
    if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# start_bg NAME CMD... runs CMD detached (own session, stdin closed), output to the NAME log;
# the previous log is kept as NAME.log.1. The command line is saved next to the PID.
start_bg() {
  local name="$1" log
  shift
  log="$(log_file "$name")"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  [[ -f $log ]] && mv -f "$log" "$log.1"
  (cd "$DTS_ROOT" && close_inherited_fds && exec setsid nohup "$@" >"$log" 2>&1 </dev/null) &
  echo $! >"$(pid_file "$name")"
  printf '%s\n' "$*" >"$RUN_DIR/$name.cmd"
}

# same_command NAME CMD... is true when NAME was started with exactly CMD.
same_command() {
  local name="$1"
  shift
  [[ -f $RUN_DIR/$name.cmd && "$(<"$RUN_DIR/$name.cmd")" == "$*" ]]
}

# stop NAME...: TERM to each, up to STOP_TIMEOUT seconds (default 15) for all to exit, then KILL.
# Names given together stop together (the nodes of a Kafka quorum: one by one, the last would
# wait for a quorum that is gone).
stop() {
  local name pid i names=() pids=()
  for name in "$@"; do
    if pid="$(pid_of "$name")"; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      names+=("$name") pids+=("$pid")
    fi
  done
  for ((i = 0; ${#pids[@]} && i < ${STOP_TIMEOUT:-15} * 5; i++)); do
    kill -0 "${pids[@]}" 2>/dev/null || break # true while one of them lives
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[i]}" 2>/dev/null; then
      warn "${names[i]} (pid ${pids[i]}) ignored TERM for ${STOP_TIMEOUT:-15}s, sending KILL"
      kill -KILL "${pids[i]}" 2>/dev/null || true
    fi
  done
  for name in "$@"; do rm -f "$(pid_file "$name")" "$RUN_DIR/$name.cmd"; done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_healthy NAME TIMEOUT CHECK... polls CHECK every second until it succeeds; fails early
# when the process dies, and names the log to read.
wait_healthy() {
  local name="$1" timeout="$2" i
  shift 2
  for ((i = 0; i < timeout; i++)); do
    "$@" && return 0
    if ! is_running "$name"; then
      tail -n 20 "$(log_file "$name")" >&2 2>/dev/null || true
      die "$name exited during startup; read $(log_file "$name")"
    fi
    sleep 1
  done
  die "$name not healthy after ${timeout}s; read $(log_file "$name")"
}
