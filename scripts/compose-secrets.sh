#!/usr/bin/env bash
# Makes, once, the secrets docker-compose.yml mounts (run it before the first `docker-compose up`):
#   deploy/secrets/shard.key            the key shards are signed with (schedulers and workers)
#   deploy/secrets/redis/<role>/        each service's Redis user and password (a Spring config tree)
#   deploy/secrets/kafka/<role>/        each service's Kafka user and password, and the Kafka node's own
# Files are made readable by the user of the container that reads them only: the schedulers run as
# uid 10001, Kafka as 10003, workers and Redis's start as root; items (uid 10002) can read none of them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

SECRETS="$DTS_ROOT/deploy/secrets"
SCHEDULER_UID=10001 KAFKA_UID=10003
make_key "$SECRETS/shard.key"
make_redis_users "$SECRETS/redis"
make_kafka_users "$SECRETS/kafka"
if ((EUID == 0)); then
  chown "$SCHEDULER_UID" "$SECRETS/shard.key"
  chown -R "$SCHEDULER_UID" "$SECRETS/redis/scheduler" "$SECRETS/kafka/scheduler"
  chown -R "$KAFKA_UID" "$SECRETS/kafka/broker"
  # The schedulers' and Kafka's containers must reach their directories: the others stay closed to them.
  chmod 755 "$SECRETS" "$SECRETS/redis" "$SECRETS/kafka"
  chmod 400 "$SECRETS/shard.key"
else
  warn "not root: the files belong to $(id -un); the schedulers (uid $SCHEDULER_UID) and Kafka (uid $KAFKA_UID) read theirs only if you run: sudo $0"
fi
log "secrets are in $SECRETS (kept out of git and of the images)"
