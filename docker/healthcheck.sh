#!/bin/bash
# Container HEALTHCHECK for todo-app without curl in the image: one HTTP/1.0 GET
# over bash's /dev/tcp, healthy on a 2xx status line.
#   TODO_HEALTH_PORT  port to probe (default 7860, the api role; 3000 for web)
#   TODO_HEALTH_PATH  path to probe (default /health; /api/health for web)
# Docker's --timeout bounds the whole check.
set -u
port="${TODO_HEALTH_PORT:-7860}"
path="${TODO_HEALTH_PATH:-/health}"
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
IFS= read -r status <&3 || exit 1
exec 3<&-
if [[ "$status" =~ ^HTTP/1\.[01]\ 2[0-9][0-9] ]]; then
  exit 0
fi
echo "unhealthy: ${status%$'\r'}" >&2
exit 1
