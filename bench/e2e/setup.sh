#!/usr/bin/env bash
# Driftwatch e2e: installs what the proof harness needs, idempotently (apt-get only for what is
# missing). Debian 12. pgbench ships in postgresql-15 (/usr/lib/postgresql/15/bin/pgbench).
set -euo pipefail

# package -> why
E2E_PKGS=(
  nginx-light        # web workload (nginx 1.22)
  redis-server       # cache workload
  redis-tools        # redis-cli, redis-benchmark (load, maintenance, probes)
  postgresql-15      # db workload; also ships pgbench, vacuumdb, pg_dump, pg_isready, psql
  wrk                # HTTP load
  apache2-utils      # ab (HTTP load, second mix)
  logrotate          # maintenance inside the web container
  busybox-static     # the containers' shell, nc -e, crontab
  runc               # the container runtime
  iproute2           # ip netns / veth
  netcat-openbsd     # peer-side listeners, port scan client
  curl jq util-linux procps
)

missing=()
for p in "${E2E_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "e2e setup: installing ${missing[*]} needs root" >&2; exit 1; }
  echo "e2e setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d 101: package scripts must not start the host's nginx/redis/postgres services
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; created_policy=1
  fi
  trap '[ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  timeout 600 apt-get update -qq >/dev/null
  timeout 900 apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
fi

for t in nginx redis-server redis-benchmark redis-cli /usr/lib/postgresql/15/bin/postgres \
         /usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/pgbench wrk ab logrotate \
         busybox runc ip nc curl jq setpriv; do
  command -v "$t" >/dev/null || { echo "e2e setup: $t still missing after install" >&2; exit 1; }
done
echo "e2e setup: all tools present" >&2
