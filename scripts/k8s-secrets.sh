#!/usr/bin/env bash
# Makes, once, the secrets deploy/kubernetes mounts, and puts them into the cluster kubectl points at (or, with
# --dry-run, prints them as YAML and contacts nothing). Run it before the first `kubectl apply -k`:
#   dts-shard-key            the key shards are signed with (namespaces dts and dts-workers)
#   dts-api-keys             the API's keys file: an operator "admin" and a "prometheus" operator (dts)
#   dts-prometheus-token     the token Prometheus scrapes /actuator/prometheus with (dts)
#   dts-redis-<role>         each service's Redis user and password, and the admin's (dts; the worker's in dts-workers too)
#   dts-kafka-<role>         the services' Kafka users and passwords, which their KafkaUsers take (dts; the worker's in
#                            dts-workers too)
# Everything is made once in .k8s-secrets/ (0700, never committed) and reused on the next run: the admin's token is
# in .k8s-secrets/tokens/admin. Re-running applies the same values (kubectl apply).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

DRY_RUN=0
if [[ ${1:-} == --dry-run ]]; then
  DRY_RUN=1
  # The YAML on stdout, what is said on stderr.
  exec 3>&1 1>&2
fi
DIR="$DTS_ROOT/.k8s-secrets"
(umask 077 && mkdir -p "$DIR/tokens")

make_key "$DIR/shard.key"
make_redis_users "$DIR/redis"
make_users "$DIR/kafka" dts.kafka scheduler worker
new_token() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
for name in admin prometheus; do
  [[ -s $DIR/tokens/$name ]] || (umask 077 && new_token >"$DIR/tokens/$name")
done
# Their keys in the API's keys file, unless there; keys added with `KEYS_FILE=.k8s-secrets/api-keys ./scripts/stack.sh
# token add NAME ROLE` stay.
for name in admin prometheus; do
  hash="$(tr -d '\n' <"$DIR/tokens/$name" | sha256sum | cut -d' ' -f1)"
  grep -qs " $hash\$" "$DIR/api-keys" || (umask 077 && printf '%s operator %s\n' "$name" "$hash" >>"$DIR/api-keys")
done

emit() { # emit NAMESPACE NAME --from-file=...: the secret, applied or printed
  local namespace="$1" name="$2"
  shift 2
  if ((DRY_RUN)); then
    # kubectl's client-side object has a null creationTimestamp, which no schema of a Secret allows.
    { echo "---"; kubectl create secret generic "$name" -n "$namespace" "$@" --dry-run=client -o yaml | sed '/creationTimestamp: null/d'; } >&3
  else
    kubectl create secret generic "$name" -n "$namespace" "$@" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
    log "secret $namespace/$name applied"
  fi
}

if ((!DRY_RUN)); then
  for namespace in dts dts-workers; do
    kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  done
fi
for namespace in dts dts-workers; do
  emit "$namespace" dts-shard-key --from-file=shard.key="$DIR/shard.key"
done
emit dts dts-api-keys --from-file=api-keys="$DIR/api-keys"
emit dts dts-prometheus-token --from-file=token="$DIR/tokens/prometheus"
for role in scheduler worker admin; do
  emit dts "dts-redis-$role" --from-file="$DIR/redis/$role"
done
emit dts-workers dts-redis-worker --from-file="$DIR/redis/worker"
for role in scheduler worker; do
  emit dts "dts-kafka-$role" --from-file="$DIR/kafka/$role"
done
emit dts-workers dts-kafka-worker --from-file="$DIR/kafka/worker"
((DRY_RUN)) || log "done; the admin's token: $DIR/tokens/admin (send it as -H \"Authorization: Bearer \$(cat $DIR/tokens/admin)\")"
