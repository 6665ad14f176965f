#!/bin/sh
# docker-compose's Redis: renders users.conf with the SHA-256 of each password in /run/secrets/dts-redis
# (made by ./scripts/compose-secrets.sh, readable by root only), then drops to the redis user and starts
# Redis. No password is written anywhere in clear.
set -eu
hash() { sha256sum <"/run/secrets/dts-redis/$1/spring.data.redis.password" | cut -d' ' -f1; }
sed -e "s/\${SCHEDULER_SHA256}/$(hash scheduler)/" -e "s/\${WORKER_SHA256}/$(hash worker)/" -e "s/\${ADMIN_SHA256}/$(hash admin)/" \
  /usr/local/share/dts/users.conf.template >/tmp/users.conf
chmod 644 /tmp/users.conf
# Every client logs in as a user of users.conf (the default user is off), so Redis may listen on the compose network.
exec setpriv --reuid=redis --regid=redis --init-groups --inh-caps=-all \
  redis-server /tmp/users.conf --dir /data --bind 0.0.0.0 --protected-mode no --appendonly yes --appendfsync everysec
