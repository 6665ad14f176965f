#!/usr/bin/env bash
# kafka-probe.sh HOST PORT: what a Kafka broker tells a client that has not logged in, as an item would ask
# it (bash alone, no Kafka client needed). Prints "kafka apiversions=A metadata=M": the bytes of the broker's
# answer to ApiVersions (which it answers anyone, so A > 0 shows the probe speaks Kafka), then to a Metadata
# request for every topic. A broker that lets nobody in without a login answers the latter with nothing
# (M = 0, the connection closed); one open to all answers with every topic's name. The e2e tests and
# ./scripts/compose-check.sh run it as a task's item.
set -uo pipefail
exec 3<>"/dev/tcp/$1/$2" || exit 1
# ApiVersions v0: size 14, api key 18, version 0, correlation id 1, client id "item" (a string of 4).
printf '\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x01\x00\x04item' >&3
size="$(timeout 3 dd bs=1 count=4 status=none <&3 | od -An -tu1 | awk 'NF == 4 { print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')"
# Read that answer to its end, one byte at a time, so the next count holds the next answer only.
[[ -n $size ]] && timeout 3 dd bs=1 count="$size" status=none <&3 >/dev/null
# Metadata v1: size 18, api key 3, version 1, correlation id 2, client id "item", topics -1 (all of them).
printf '\x00\x00\x00\x12\x00\x03\x00\x01\x00\x00\x00\x02\x00\x04item\xff\xff\xff\xff' >&3 2>/dev/null
metadata="$(timeout 3 cat <&3 2>/dev/null | wc -c)"
echo "kafka apiversions=${size:-0} metadata=$metadata"
