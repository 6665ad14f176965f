#!/usr/bin/env bash
# Runs every test (unit, contract and end-to-end) with Maven. The tests start their own Redis and
# Kafka on free ports, so the local stack is not needed. Extra arguments go to Maven:
#   ./scripts/test.sh -pl worker-service -am
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# The Redis-backed tests run a real redis-server binary from the PATH.
ensure_packages java:openjdk-17-jdk-headless mvn:maven redis-server
cd "$DTS_ROOT"
log "mvn -B verify $*"
mvn -B verify "$@" || die "tests failed; the reports are in */target/surefire-reports (and failsafe-reports)"
log "all tests passed"
