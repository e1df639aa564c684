#!/usr/bin/env bash
# Make sure a Redis server answers for the tests (LIVECS_TEST_REDIS_URL, default 127.0.0.1:6379).
# Starts a local one if it is down; installs redis-server with apt-get when missing and running as root.
set -euo pipefail
url="${LIVECS_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
hostport="${url#redis://}"; hostport="${hostport%%/*}"; host="${hostport%%:*}"; port="${hostport##*:}"
[ "$port" = "$host" ] && port=6379
ping() {
  if command -v redis-cli >/dev/null 2>&1; then redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG
  else (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; fi
}
if ping; then echo "redis: reachable at $host:$port"; exit 0; fi
if [ "$host" != "127.0.0.1" ] && [ "$host" != "localhost" ]; then
  echo "redis: $host:$port is not reachable and is not local; start it or set LIVECS_TEST_REDIS_URL" >&2; exit 1
fi
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "redis: installing redis-server with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis: redis-server is missing; run: sudo apt-get install -y redis-server" >&2; exit 1
  fi
fi
echo "redis: starting redis-server on $host:$port"
redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no >/dev/null
for _ in $(seq 1 50); do ping && { echo "redis: up"; exit 0; }; sleep 0.1; done
echo "redis: could not start redis-server" >&2; exit 1
