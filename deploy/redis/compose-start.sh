#!/bin/sh
# docker-compose's Redis: renders users.conf with the SHA-256 of each password in /run/secrets/dts-redis
# (made by ./scripts/compose-secrets.sh), then starts Redis through the image's entrypoint, which drops
# to the redis user. No password is written anywhere in clear.
set -eu
hash() { sha256sum <"/run/secrets/dts-redis/$1/spring.data.redis.password" | cut -d' ' -f1; }
sed -e "s/\${SCHEDULER_SHA256}/$(hash scheduler)/" -e "s/\${WORKER_SHA256}/$(hash worker)/" -e "s/\${ADMIN_SHA256}/$(hash admin)/" \
  /etc/redis/users.conf.template >/tmp/users.conf
chmod 644 /tmp/users.conf
exec docker-entrypoint.sh redis-server /tmp/users.conf --appendonly yes --appendfsync everysec
