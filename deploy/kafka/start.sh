#!/bin/bash
# The Kafka image's entry point: renders deploy/kafka/server.properties (the file the local stack and the tests
# render too) for the one node of docker-compose.yml, formats the data volume on the first start, runs the broker.
set -euo pipefail
KAFKA=/opt/kafka DATA=/var/lib/kafka/data CONFIG=/tmp/server.properties
PASSWORD_FILE=/run/secrets/dts-kafka/broker/dts.kafka.password
[[ -r $PASSWORD_FILE ]] || { echo "cannot read $PASSWORD_FILE: run ./scripts/compose-secrets.sh as root before docker-compose up" >&2; exit 1; }
# Listens on the compose network under its service name, the address every other container uses; the nodes'
# password (./scripts/compose-secrets.sh made it) goes into a configuration only this user reads.
values=(NODE_ID=1 CONTROLLERS=kafka:9093 LISTEN_HOST=kafka HOST=kafka PORT=9092 CONTROLLER_PORT=9093 LOG_DIR="$DATA"
  PARTITIONS=12 REPLICAS=1 MIN_INSYNC=1 BROKER_PASSWORD="$(<"$PASSWORD_FILE")")
text="$(<"$KAFKA/server.properties.template")"
for pair in "${values[@]}"; do text="${text//\$\{${pair%%=*}\}/${pair#*=}}"; done
(umask 077 && printf '%s\n' "$text" >"$CONFIG")
java=(java -Dlog4j2.configurationFile="$KAFKA/log4j2.properties" -cp "$KAFKA/libs/*")
if [[ ! -f $DATA/meta.properties ]]; then
  echo "formatting $DATA (first start) for cluster ${CLUSTER_ID:?set CLUSTER_ID, any base64 UUID}" >&2
  "${java[@]}" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CONFIG" --standalone >&2
fi
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several JVM options
exec "${java[@]}" ${KAFKA_HEAP_OPTS:--Xmx512m} kafka.Kafka "$CONFIG"
