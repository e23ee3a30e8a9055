# shellcheck shell=bash disable=SC2034  # the CTR_* maps are read by run.sh and attacks.sh
# Driftwatch e2e: building blocks of the proof harness (sourced by run.sh).
#
# Containers are plain runc bundles: a rootfs holding busybox's entrypoint, copied /etc pieces and
# per-service data directories, plus a read-only bind mount of the host's /usr (bin, sbin, lib and
# lib64 are the merged-usr symlinks Debian has). Each container has its own network namespace with
# one veth to a peer namespace the harness creates (10.200.N.0/30); the load generators and
# the attack "peer" live in that namespace. Nothing routes anywhere else.
#
# Everything started here is registered for cleanup_all (run.sh installs it as an EXIT trap).

PG_BIN=/usr/lib/postgresql/15/bin
BUSYBOX=/usr/bin/busybox

now_ms() { date +%s%3N; }
log() { printf '%s e2e: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- cleanup registry ------------------------------------------------------------------------
CLEAN_PIDS=()        # background processes we started (killed by pid, process group first)
CLEAN_CTRS=()        # runc ids
CLEAN_NETNS=()       # ip netns names
CLEAN_LINKS=()       # veth names that may still sit in the host namespace
CLEAN_DIRS=()        # temp dirs (bundles)

bg_start() { # bg_start VAR cmd... : runs cmd in the background in its own session, stores pid in VAR
  local __var="$1"; shift
  setsid "$@" &
  local p=$!
  CLEAN_PIDS+=("$p")
  printf -v "$__var" '%s' "$p"
}

stop_pid() { # stop_pid PID [grace_s]: TERM the pid's session/group, then KILL, bounded
  local p="$1" grace="${2:-5}" i
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}

ctr_cgroup_dirs() { # every cgroup directory of a container, in every hierarchy
  local id="$1"
  [ -f "$RUN/ctr/$id.cgroups" ] && cat "$RUN/ctr/$id.cgroups"
  find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null || true
}

remove_container() {
  local id="$1" i d
  [ -w "/sys/fs/cgroup/unified/$id/cgroup.kill" ] && echo 1 > "/sys/fs/cgroup/unified/$id/cgroup.kill" 2>/dev/null || true
  [ -w "/sys/fs/cgroup/$id/cgroup.kill" ] && echo 1 > "/sys/fs/cgroup/$id/cgroup.kill" 2>/dev/null || true
  timeout 10 runc kill "$id" KILL >/dev/null 2>&1 || true
  for ((i = 0; i < 30; i++)); do
    timeout 10 runc delete -f "$id" >/dev/null 2>&1 && break
    runc state "$id" >/dev/null 2>&1 || break
    sleep 0.2
  done
  for d in $(ctr_cgroup_dirs "$id" | sort -u -r); do
    for ((i = 0; i < 20; i++)); do [ -d "$d" ] || break; rmdir "$d" 2>/dev/null && break; sleep 0.1; done
    [ -d "$d" ] && log "warning: could not remove cgroup dir $d"
  done
  return 0
}

cleanup_all() {
  local rc=$? p id ns l d
  set +e
  trap - EXIT INT TERM
  log "cleaning up (exit status $rc)"
  for ((p = ${#CLEAN_PIDS[@]} - 1; p >= 0; p--)); do stop_pid "${CLEAN_PIDS[$p]}" 3; done
  for id in "${CLEAN_CTRS[@]}"; do remove_container "$id"; done
  for ns in "${CLEAN_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  for l in "${CLEAN_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
  for d in "${CLEAN_DIRS[@]}"; do
    # never follow into a mount: bundles hold none once runc deleted the container
    if grep -q " $d" /proc/self/mountinfo; then log "warning: mounts left under $d, not removing it"; else rm -rf "$d"; fi
  done
  # leftovers check: say so loudly rather than leave them silently
  for id in "${CLEAN_CTRS[@]}"; do runc state "$id" >/dev/null 2>&1 && log "warning: container $id still exists"; done
  for ns in "${CLEAN_NETNS[@]}"; do [ -e "/run/netns/$ns" ] && log "warning: netns $ns still exists"; done
  exit "$rc"
}

# ---- network ---------------------------------------------------------------------------------
peer_ns_create() { # peer_ns_create NAME
  ip netns add "$1"
  CLEAN_NETNS+=("$1")
  ip -n "$1" link set lo up
}

in_peer() { ip netns exec "$PEERNS" "$@"; }

# veth_connect PID N: veth pair between the container (init pid) and the peer ns; 10.200.N.0/30,
# peer .1, container .2 (eth0 inside)
veth_connect() {
  local pid="$1" n="$2"
  local hp="dwe-$TAG-${n}p" cp="dwe-$TAG-${n}c"
  CLEAN_LINKS+=("$hp" "$cp")
  ip link add "$hp" type veth peer name "$cp"
  ip link set "$hp" netns "$PEERNS"
  ip link set "$cp" netns "$pid"
  ip -n "$PEERNS" addr add "10.200.$n.1/30" dev "$hp"
  ip -n "$PEERNS" link set "$hp" up
  nsenter -t "$pid" -n ip link set "$cp" name eth0
  nsenter -t "$pid" -n ip addr add "10.200.$n.2/30" dev eth0
  nsenter -t "$pid" -n ip link set eth0 up
  nsenter -t "$pid" -n ip link set lo up
}

# ---- rootfs ----------------------------------------------------------------------------------
# rootfs_base DIR HOSTNAME USERS...: merged-usr skeleton, /etc pieces copied (never bound), a
# synthetic /etc/shadow (the host's is never copied), the exploit simulation channel's FIFOs.
rootfs_base() {
  local r="$1" host="$2"; shift 2
  local u g
  mkdir -p "$r"/{usr,proc,sys,dev,run,tmp,etc,root,var/tmp,var/log,var/lib,var/spool/cron/crontabs,.dwe}
  chmod 1777 "$r/tmp" "$r/var/tmp"; chmod 700 "$r/root"
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"
  [ -d /usr/lib64 ] && ln -s usr/lib64 "$r/lib64"
  : > "$r/etc/passwd"; : > "$r/etc/group"; : > "$r/etc/shadow"
  for u in root "$@" nobody; do getent passwd "$u" >> "$r/etc/passwd"; done
  for g in root adm "$@" nogroup; do getent group "$g" | sed 's/:[^:]*$/:/' >> "$r/etc/group"; done
  cut -d: -f1 "$r/etc/passwd" | while read -r u; do
    if [ "$u" = root ]; then echo 'root:$6$dwe0e2e0$Q2FuYXJ5LW5vdC1hLXJlYWwtaGFzaC1kcmlmdHdhdGNoLWUyZS1wcm9vZg:19700:0:99999:7:::'
    else echo "$u:*:19700:0:99999:7:::"; fi
  done > "$r/etc/shadow"
  chmod 640 "$r/etc/shadow"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' > "$r/etc/nsswitch.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n10.200.0.0\tdwe-none\n' > "$r/etc/hosts"
  echo "$host" > "$r/etc/hostname"
  cp /etc/ld.so.cache "$r/etc/ld.so.cache"
  cp /etc/ld.so.conf "$r/etc/ld.so.conf"; cp -r /etc/ld.so.conf.d "$r/etc/"
  [ -e /etc/localtime ] && cp -L /etc/localtime "$r/etc/localtime"
  # Debian's alternatives (/usr/bin/nc -> /etc/alternatives/nc -> nc.openbsd) and netbase files,
  # as a Debian-based image has them
  cp -a /etc/alternatives "$r/etc/alternatives"
  for f in services protocols; do [ -e "/etc/$f" ] && cp "/etc/$f" "$r/etc/$f"; done
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' > "$r/root/.profile"
  mkfifo -m 600 "$r/.dwe/in" "$r/.dwe/out"
}

# write_entrypoint DIR PREP SERVICE_EXEC: the container's init. It prepares, forks the exploit
# simulation channel and then execs the service, so the channel (and every command run through
# it) is a child of the service's own process — the position an exploited service would be in.
write_entrypoint() {
  local r="$1" prep="$2" svc="$3"
  cat > "$r/entrypoint.sh" <<EOF
#!$BUSYBOX sh
# Driftwatch e2e container init (generated by bench/e2e). See docs/detection.md,
# "The exploit simulation channel": we cannot ship an exploitable service, so the service's init
# forks this reader before it becomes the service; a line "ID COMMAND" written by the harness to
# /.dwe/in runs as a child of the service process and its output goes to /.dwe/out.
set -e
$prep
set +e
(
  exec 3<>/.dwe/in 4<>/.dwe/out
  while IFS= read -r line <&3; do
    id=\${line%% *}; cmd=\${line#* }
    ( eval "\$cmd" ) >&4 2>&1
    echo "DWE-END \$id rc=\$?" >&4
  done
) &
exec $svc
EOF
  chmod 755 "$r/entrypoint.sh"
}

# bundle_config DIR ID HOSTNAME NS POD CONTAINER IMAGE: OCI config.json with Kubernetes (CRI)
# annotations, so the agent groups the container into a workload profile.
bundle_config() {
  local b="$1" id="$2" host="$3" ns="$4" pod="$5" cname="$6" image="$7"
  local uid
  uid="$(printf '%s' "$ns/$pod" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')"
  jq -n --arg host "$host" --arg ns "$ns" --arg pod "$pod" --arg cname "$cname" --arg image "$image" --arg uid "$uid" '
    ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_SETGID","CAP_SETUID",
     "CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_NET_RAW","CAP_SYS_CHROOT","CAP_AUDIT_WRITE"] as $caps |
    def m(d; t; s; o): {destination: d, type: t, source: s, options: o};
    {
      ociVersion: "1.0.2",
      process: {
        terminal: false, user: {uid: 0, gid: 0}, args: ["/entrypoint.sh"], cwd: "/",
        env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"],
        capabilities: {bounding: $caps, effective: $caps, permitted: $caps},
        rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
        noNewPrivileges: false
      },
      root: {path: "rootfs", readonly: false},
      hostname: $host,
      mounts: [
        m("/proc"; "proc"; "proc"; ["nosuid","noexec","nodev"]),
        m("/dev"; "tmpfs"; "tmpfs"; ["nosuid","strictatime","mode=755","size=65536k"]),
        m("/dev/pts"; "devpts"; "devpts"; ["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]),
        m("/dev/shm"; "tmpfs"; "shm"; ["nosuid","nodev","mode=1777","size=65536k"]),
        m("/dev/mqueue"; "mqueue"; "mqueue"; ["nosuid","noexec","nodev"]),
        m("/sys"; "sysfs"; "sysfs"; ["nosuid","noexec","nodev","ro"]),
        m("/run"; "tmpfs"; "tmpfs"; ["nosuid","nodev","mode=755","size=16384k"]),
        m("/usr"; "bind"; "/usr"; ["rbind","ro","nosuid","nodev"])
      ],
      annotations: {
        "io.kubernetes.cri.container-type": "container",
        "io.kubernetes.cri.sandbox-namespace": $ns,
        "io.kubernetes.cri.sandbox-name": $pod,
        "io.kubernetes.cri.sandbox-uid": $uid,
        "io.kubernetes.cri.container-name": $cname,
        "io.kubernetes.cri.image-name": $image
      },
      linux: {
        resources: {devices: [{allow: false, access: "rwm"}]},
        namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}],
        maskedPaths: ["/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list",
                      "/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/scsi"],
        readonlyPaths: ["/proc/asound","/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]
      }
    }' > "$b/config.json"
}

# ---- services --------------------------------------------------------------------------------
build_nginx() { # build_nginx ROOTFS
  local r="$1"
  rootfs_base "$r" web-7d4b9c6f8-x2x9q www-data
  cp -a /etc/nginx "$r/etc/nginx"
  rm -f "$r/etc/nginx/sites-enabled/"* "$r/etc/nginx/modules-enabled/"*
  cat > "$r/etc/nginx/nginx.conf" <<'EOF'
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 30;
    access_log /var/log/nginx/access.log;
    server {
        listen 80 default_server;
        root /var/www/html;
        index index.html;
        location = /healthz { access_log off; return 200 "ok\n"; }
        location / { try_files $uri $uri/ =404; }
    }
}
EOF
  mkdir -p "$r/var/www/html/static" "$r/var/log/nginx" "$r/var/lib/nginx" "$r/var/lib/logrotate" "$r/etc/logrotate.d"
  printf '<!doctype html><title>shop</title><h1>driftwatch e2e</h1>\n' > "$r/var/www/html/index.html"
  head -c 20000 /dev/zero | tr '\0' 'a' > "$r/var/www/html/static/app.css"
  printf 'console.log("e2e");\n' > "$r/var/www/html/static/app.js"
  cat > "$r/etc/logrotate.conf" <<'EOF'
weekly
rotate 4
create
include /etc/logrotate.d
EOF
  cat > "$r/etc/logrotate.d/nginx" <<'EOF'
/var/log/nginx/*.log {
    daily
    missingok
    rotate 14
    compress
    delaycompress
    notifempty
    create 0640 www-data adm
    sharedscripts
    postrotate
        [ -s /run/nginx.pid ] && kill -USR1 "$(cat /run/nginx.pid)"
    endscript
}
EOF
  write_entrypoint "$r" "" "/usr/sbin/nginx -g 'daemon off;'"
}

build_redis() {
  local r="$1"
  rootfs_base "$r" cache-5f6b8d9c7-k4m2p redis
  mkdir -p "$r/etc/redis" "$r/var/lib/redis" "$r/var/log/redis"
  cat > "$r/etc/redis/redis.conf" <<'EOF'
bind 0.0.0.0 -::
protected-mode no
port 6379
daemonize no
pidfile /run/redis/redis-server.pid
loglevel notice
logfile /var/log/redis/redis-server.log
databases 16
dir /var/lib/redis
dbfilename dump.rdb
save 3600 1 300 100 60 10000
appendonly yes
appendfilename "appendonly.aof"
appenddirname "appendonlydir"
appendfsync everysec
EOF
  chown -R redis:redis "$r/var/lib/redis" "$r/var/log/redis"
  write_entrypoint "$r" "mkdir -p /run/redis; chown redis:redis /run/redis" \
    "/usr/bin/setpriv --reuid=redis --regid=redis --init-groups /usr/bin/redis-server /etc/redis/redis.conf --daemonize no"
}

build_postgres() {
  local r="$1" data="$1/var/lib/postgresql/15/main"
  rootfs_base "$r" db-0 postgres
  mkdir -p "$data" "$r/var/log/postgresql"
  chown -R postgres:postgres "$r/var/lib/postgresql" "$r/var/log/postgresql"
  # initdb on the host into the bundle (as postgres), as an image build would
  setpriv --reuid=postgres --regid=postgres --init-groups "$PG_BIN/initdb" -D "$data" -U postgres \
    --auth=trust -E UTF8 --locale=C.UTF-8 >"$RUN/logs/initdb.log" 2>&1 || die "initdb failed, see $RUN/logs/initdb.log"
  cat >> "$data/postgresql.conf" <<'EOF'
# driftwatch e2e
listen_addresses = '*'
unix_socket_directories = '/run/postgresql'
max_connections = 40
shared_buffers = 32MB
logging_collector = off
EOF
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 10.200.0.0/16 trust\n' > "$data/pg_hba.conf"
  write_entrypoint "$r" "mkdir -p /run/postgresql; chown postgres:postgres /run/postgresql" \
    "/usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups $PG_BIN/postgres -D /var/lib/postgresql/15/main"
}

# start_container SVC N: build the bundle, runc create, wire the veth, runc start; sets
# CTR_ID[SVC], CTR_PID[SVC], CTR_IP[SVC], PEER_IP[SVC]
declare -A CTR_ID CTR_PID CTR_IP PEER_IP CTR_ROOTFS CTR_POD CTR_NAME
start_container() {
  local svc="$1" n="$2" id="dwe-$TAG-$1" b="$RUN/bundles/$1" pod cname image pid
  case "$svc" in
    nginx) pod=web-7d4b9c6f8-x2x9q; cname=nginx; image=docker.io/library/nginx:1.22 ;;
    redis) pod=cache-5f6b8d9c7-k4m2p; cname=redis; image=docker.io/library/redis:7.0 ;;
    postgres) pod=db-0; cname=postgres; image=docker.io/library/postgres:15 ;;
  esac
  mkdir -p "$b/rootfs"
  "build_$svc" "$b/rootfs"
  bundle_config "$b" "$id" "$pod" "$E2E_NAMESPACE" "$pod" "$cname" "$image"
  CLEAN_CTRS+=("$id")
  timeout 10 runc delete -f "$id" >/dev/null 2>&1 || true
  timeout 30 runc --log "$RUN/logs/runc-$svc.log" create --bundle "$b" "$id" \
    </dev/null >>"$RUN/logs/ctr-$svc.log" 2>&1 || die "runc create $id failed: $(tail -3 "$RUN/logs/runc-$svc.log")"
  pid="$(runc state "$id" | jq -r .pid)"
  [ -n "$pid" ] && [ "$pid" != 0 ] || die "no pid for $id"
  awk -F: '{ c = ($2 == "") ? "unified" : $2; sub(/^name=/, "", c); sub(/,.*/, "", c);
             if ($2 ~ /^name=/) c = substr($2, 6); print "/sys/fs/cgroup/" c $3 }' "/proc/$pid/cgroup" > "$RUN/ctr/$id.cgroups"
  veth_connect "$pid" "$n"
  timeout 30 runc start "$id" || die "runc start $id failed"
  CTR_ID[$svc]="$id"; CTR_PID[$svc]="$pid"; CTR_IP[$svc]="10.200.$n.2"; PEER_IP[$svc]="10.200.$n.1"
  CTR_ROOTFS[$svc]="$b/rootfs"; CTR_POD[$svc]="$pod"; CTR_NAME[$svc]="$cname"
  # host-side reader of the channel's output
  local reader
  bg_start reader sh -c "exec cat '$b/rootfs/.dwe/out' >> '$RUN/logs/chan-$svc.log'"
  jq -cn --arg svc "$svc" --arg id "$id" --arg pod "$pod" --arg c "$cname" --arg image "$image" \
    --arg ns "$E2E_NAMESPACE" --arg ip "10.200.$n.2" --arg peer "10.200.$n.1" --argjson pid "$pid" \
    '{workload: $svc, container_id: $id, namespace: $ns, pod: $pod, container: $c, image: $image,
      ip: $ip, peer_ip: $peer, init_pid: $pid}' >> "$RUN/containers.jsonl"
  log "started $id (pid $pid, $image, ${CTR_IP[$svc]})"
}

# wait_service SVC TIMEOUT_S: bounded wait until the service answers from the peer namespace
wait_service() {
  local svc="$1" t="$2" end=$((SECONDS + $2)) ip="${CTR_IP[$1]}"
  while ((SECONDS < end)); do
    case "$svc" in
      nginx) in_peer curl -fsS -m 2 "http://$ip/healthz" >/dev/null 2>&1 && return 0 ;;
      redis) [ "$(in_peer timeout 3 redis-cli -h "$ip" ping 2>/dev/null)" = PONG ] && return 0 ;;
      postgres) in_peer "$PG_BIN/pg_isready" -q -h "$ip" -t 2 >/dev/null 2>&1 && return 0 ;;
    esac
    sleep 0.3
  done
  die "$svc did not answer within ${t}s (logs: $RUN/logs/ctr-$svc.log)"
}

# chan_run SVC ID TIMEOUT_S COMMAND: runs COMMAND through the exploit simulation channel; waits
# (bounded) for its end marker; prints the command's output; returns its exit status (124: timeout)
chan_run() {
  local svc="$1" id="$2" t="$3" cmd="$4" logf="$RUN/logs/chan-$1.log" end
  [[ "$cmd" != *$'\n'* ]] || die "channel commands are one line"
  timeout 5 sh -c 'printf "%s %s\n" "$1" "$2" > "$3"' _ "$id" "$cmd" "${CTR_ROOTFS[$svc]}/.dwe/in" || return 125
  end=$((SECONDS + t))
  while ((SECONDS < end)); do
    if grep -q "^DWE-END $id rc=" "$logf" 2>/dev/null; then
      chan_output "$svc" "$id"
      return "$(sed -n "s/^DWE-END $id rc=\([0-9]*\).*/\1/p" "$logf" | head -1)"
    fi
    sleep 0.05
  done
  return 124
}

# chan_output SVC ID: output lines of command ID (between the previous end marker and its own)
chan_output() {
  awk -v id="$2" '/^DWE-END /{ if ($2 == id) { printf "%s", buf; exit } buf = ""; next } { buf = buf $0 "\n" }' \
    "$RUN/logs/chan-$1.log"
}
