#!/usr/bin/env bash
# Runs every check: docker-compose.yml validated, the Kubernetes manifests rendered and validated
# offline (scripts/k8s-check.sh), then every test (unit, contract and end-to-end) with Maven, then a 2-minute soak (scripts/soak.sh: a cluster under random faults, every invariant
# checked). The tests start their own Redis and Kafka on free ports, and the soak its own stack in
# .soak/, so the local stack is not needed. Extra arguments go to Maven, and then the soak is left
# out (it needs every jar):
#   ./scripts/test.sh -pl worker-service -am
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# The programs the tests start besides java and bash: redis-server (the Redis-backed tests),
# redis-cli (it creates the test Redis Cluster) and nginx (in front of the schedulers in the
# end-to-end tests). docker-compose validates the compose file, without a Docker engine. bwrap
# (bubblewrap) is the stronger item sandbox the worker tests try; items run as $SANDBOX_USER.
# Chromium and its driver run the dashboard test; curl and jq the dts client's; shellcheck checks
# every script.
ensure_packages java:openjdk-17-jdk-headless mvn:maven redis-server redis-cli:redis-tools nginx docker-compose \
  bwrap:bubblewrap chromium chromedriver:chromium-driver curl jq shellcheck
ensure_sandbox_user
cd "$DTS_ROOT"
log "docker-compose -f docker-compose.yml config -q"
docker-compose -f docker-compose.yml config -q ||
  die "docker-compose.yml is not valid (message above); check it with: docker-compose config"
log "shellcheck scripts/*.sh scripts/dts deploy/redis/compose-start.sh deploy/kafka/start.sh"
shellcheck scripts/*.sh scripts/dts deploy/redis/compose-start.sh deploy/kafka/start.sh || die "shellcheck found problems in the scripts (above)"
# Renders the overlays that KubernetesManifestsTest reads too.
./scripts/k8s-check.sh || die "the Kubernetes manifests do not pass their check (above)"
log "mvn -B verify $*"
mvn -B verify "$@" || die "tests failed; the reports are in */target/surefire-reports (and failsafe-reports)"
if (($#)); then
  log "Maven's tests passed; the soak is left out with Maven arguments (run: ./scripts/soak.sh --minutes 2)"
  exit 0
fi
log "./scripts/soak.sh --minutes 2 --no-build"
./scripts/soak.sh --minutes 2 --no-build --settle 240 || die "the soak found violations or failed (above; its logs are in .soak/)"
log "all tests passed"
