# shellcheck shell=bash
# Shared helpers of the benchmark harness (bench/run.sh and the scripts it runs): logging,
# cleanup registration, the agent (start in the background, wait until ready, scrape, stop),
# busybox runc containers with Kubernetes-style annotations, and small statistics.
# Everything started here is registered with on_exit and stopped by the EXIT trap.

BENCH_ROOT="${BENCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
AGENT_JAR="${AGENT_JAR:-$BENCH_ROOT/agent/target/driftwatch-agent.jar}"

blog() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bdie() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# section_args NAME ARGS...: the arguments every section script takes ([--smoke] --out DIR);
# sets SMOKE and RUN_DIR (a temp dir without --out) and requires root.
section_args() {
  local name="$1" out=""; shift
  SMOKE=0
  while [ $# -gt 0 ]; do
    case "$1" in --smoke) SMOKE=1;; --out) out="$2"; shift;; *) bdie "unknown argument $1";; esac
    shift
  done
  [ "$(id -u)" = 0 ] || bdie "the $name benchmark needs root"
  RUN_DIR="${out:-$(mktemp -d "/tmp/dw-bench-$name-XXXXXX")}"; mkdir -p "$RUN_DIR"
}

# ---- cleanup: commands run in reverse order of registration on exit ----
_BENCH_CLEANUP=()
on_exit() { _BENCH_CLEANUP+=("$*"); }
_bench_cleanup() {
  local i
  for ((i = ${#_BENCH_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${_BENCH_CLEANUP[$i]}" >/dev/null 2>&1 || true; done
  _BENCH_CLEANUP=()
}
trap _bench_cleanup EXIT
trap 'exit 130' INT TERM

# ---- statistics over numbers on stdin (one per line) ----
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "null"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
# "min max" of numbers on stdin
minmax() { sort -g | awk 'NR==1{mn=$1} {mx=$1} END {if (NR==0) print "null null"; else print mn, mx}'; }
# JSON array of numbers on stdin
json_array() { jq -s -c '.'; }

# ---- the agent ----
# agent_start NAME CONFIG_YAML [extra flags...]: starts java -jar agent.jar run in the background,
# logs to $RUN_DIR/NAME.agent.log, waits (bounded) for /readyz. Sets AGENT_PID and AGENT_URL.
agent_start() {
  local name="$1" cfg="$2"; shift 2
  local log="$RUN_DIR/$name.agent.log"
  # DRIFTWATCH_BENCH_AGENT_CP: run the agent from a class path instead of the jar (the test
  # suite's smoke run, where the jar is packaged only after the tests)
  if [ -n "${DRIFTWATCH_BENCH_AGENT_CP:-}" ]; then
    java ${DRIFTWATCH_BENCH_JAVA_OPTS:-} -cp "$DRIFTWATCH_BENCH_AGENT_CP" io.driftwatch.Driftwatch run --config "$cfg" "$@" \
      >"$RUN_DIR/$name.agent.out" 2>"$log" &
  else
    [ -f "$AGENT_JAR" ] || bdie "no agent jar at $AGENT_JAR (build it: ./driftwatch build)"
    java ${DRIFTWATCH_BENCH_JAVA_OPTS:-} -jar "$AGENT_JAR" run --config "$cfg" "$@" >"$RUN_DIR/$name.agent.out" 2>"$log" &
  fi
  AGENT_PID=$!
  on_exit "agent_stop_pid $AGENT_PID"
  local i port=""
  for i in $(seq 1 600); do
    kill -0 "$AGENT_PID" 2>/dev/null || { tail -5 "$log" >&2; bdie "agent $name exited during start-up (log: $log)"; }
    port=$(grep -o '"msg":"driftwatch ready".*"http":"127.0.0.1:[0-9]*"' "$log" 2>/dev/null | grep -o '[0-9]*"$' | tr -d '"' | head -1 || true)
    if [ -n "$port" ] && curl -fsS -m 2 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
      AGENT_URL="http://127.0.0.1:$port"
      blog "agent $name ready at $AGENT_URL (pid $AGENT_PID)"
      return 0
    fi
    sleep 0.1
  done
  bdie "agent $name not ready after 60 s (log: $log)"
}

# agent_stop_pid PID: SIGTERM, bounded wait, then SIGKILL. Only ever the pid we started.
agent_stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

agent_stop() {
  [ -n "${AGENT_PID:-}" ] && agent_stop_pid "$AGENT_PID"
  AGENT_PID=""
  AGENT_URL=""
}

# agent_config FILE PROFILES_DIR [key value...]: writes a YAML config for a benchmark agent
# (HTTP on a free loopback port, deviations to a file only, quiet logs).
agent_config() {
  local file="$1" profiles="$2"; shift 2
  {
    echo "http.listen: 127.0.0.1:0"
    echo "profiles_dir: $profiles"
    echo "deviations.stdout: false"
    echo "deviations.file: $profiles/../deviations.jsonl"
    while [ $# -ge 2 ]; do
      case "$2" in on|off|yes|no) echo "$1: \"$2\"";; *) echo "$1: $2";; esac  # YAML 1.1 reads on/off as booleans
      shift 2
    done
  } >"$file"
}

# metric NAME_AND_LABELS_REGEX: sum of the values of matching /metrics lines (0 when none)
metric() {
  curl -fsS -m 5 "$AGENT_URL/metrics" | awk -v re="^$1" '$0 ~ re && $1 !~ /^#/ {s += $NF} END {printf "%.0f\n", s + 0}'
}

# metric_value NAME_AND_LABELS_REGEX: value of the first matching /metrics line (empty when none)
metric_value() {
  curl -fsS -m 5 "$AGENT_URL/metrics" | awk -v re="^$1" '!done && $0 ~ re && $1 !~ /^#/ {print $NF; done = 1}'
}

# profile_mode KEY: mode of profile KEY from GET /api/v1/profiles (empty when absent)
profile_mode() {
  curl -fsS -m 5 "$AGENT_URL/api/v1/profiles" | jq -r --arg k "$1" '.profiles[] | select(.key == $k) | .mode' 2>/dev/null
}

# await_mode KEY MODE TIMEOUT_S
await_mode() {
  local key="$1" mode="$2" t="$3" i
  for i in $(seq 1 $((t * 5))); do
    [ "$(profile_mode "$key")" = "$mode" ] && return 0
    sleep 0.2
  done
  return 1
}

# proc_cpu_ticks PID: utime+stime of a process in clock ticks
proc_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
proc_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

# ---- busybox runc containers ----
BUSYBOX_APPLETS="sh ls cat sleep true false echo usleep id wget httpd nc seq rm mkdir touch head kill"

# bundle_make DIR [FILE_IN_ROOTFS=HOST_FILE ...]: a bundle whose rootfs is busybox-static and its
# applets, /etc/hostname, and the given files copied in (made executable).
bundle_make() {
  local dir="$1"; shift
  local rootfs="$dir/rootfs" a
  mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,etc,root,var/log,run}
  cp /bin/busybox "$rootfs/bin/busybox"
  for a in $BUSYBOX_APPLETS; do ln -sf busybox "$rootfs/bin/$a"; done
  echo "ctr" >"$rootfs/etc/hostname"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  local f
  for f in "$@"; do
    mkdir -p "$(dirname "$rootfs/${f%%=*}")"
    cp "${f#*=}" "$rootfs/${f%%=*}"
    chmod 755 "$rootfs/${f%%=*}"
  done
}

# bundle_config DIR NAMESPACE POD CONTAINER IMAGE ARGS_JSON: config.json with the annotations
# containerd's CRI plugin writes, a private pid/net/ipc/uts/mount namespace and only lo.
bundle_config() {
  local dir="$1" ns="$2" pod="$3" ctr="$4" image="$5" args="$6"
  local caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_NET_BIND_SERVICE","CAP_NET_RAW","CAP_SYS_CHROOT","CAP_AUDIT_WRITE"]'
  jq -n --arg ns "$ns" --arg pod "$pod" --arg ctr "$ctr" --arg image "$image" --argjson args "$args" --argjson caps "$caps" '{
    ociVersion: "1.0.2",
    process: {terminal: false, user: {uid: 0, gid: 0}, args: $args,
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"], cwd: "/",
      capabilities: {bounding: $caps, effective: $caps, permitted: $caps},
      rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}], noNewPrivileges: true},
    root: {path: "rootfs", readonly: false},
    hostname: "ctr",
    mounts: [
      {destination: "/proc", type: "proc", source: "proc", options: ["nosuid","noexec","nodev"]},
      {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid","strictatime","mode=755","size=65536k"]},
      {destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
      {destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid","nodev","mode=1777","size=65536k"]},
      {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid","noexec","nodev","ro"]}],
    annotations: {
      "io.kubernetes.cri.container-type": "container",
      "io.kubernetes.cri.sandbox-namespace": $ns,
      "io.kubernetes.cri.sandbox-name": $pod,
      "io.kubernetes.cri.sandbox-uid": "0b6d5c6e-1c5e-4c1e-9d6f-00000000b3c4",
      "io.kubernetes.cri.container-name": $ctr,
      "io.kubernetes.cri.image-name": $image},
    linux: {resources: {devices: [{allow: false, access: "rwm"}]},
      namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}],
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]}
  }' >"$dir/config.json"
}

# ctr_start ID BUNDLE: runc run -d; registers the container's removal. Prints nothing.
ctr_start() {
  local id="$1" bundle="$2"
  runc delete -f "$id" >/dev/null 2>&1 || true
  on_exit "ctr_remove $id"
  runc --log "$bundle/runc.log" run -d --bundle "$bundle" "$id" </dev/null >/dev/null 2>"$bundle/runc.err" \
    || { cat "$bundle/runc.err" "$bundle/runc.log" >&2 2>/dev/null; bdie "runc run $id failed"; }
}

ctr_pid() { runc state "$1" 2>/dev/null | jq -r '.pid // empty'; }

# ctr_remove ID: kill everything in the container's cgroup, delete it, remove its cgroup dirs
ctr_remove() {
  local id="$1" i pid dirs=""
  pid=$(ctr_pid "$id")
  if [ -n "$pid" ] && [ -r "/proc/$pid/cgroup" ]; then
    dirs=$(awk -F: '{c=$2; if (c=="") c="unified"; sub(/^name=/, "", c); print "/sys/fs/cgroup/" c $3}' "/proc/$pid/cgroup" | sort -u)
  fi
  [ -e "/sys/fs/cgroup/unified/$id/cgroup.kill" ] && echo 1 >"/sys/fs/cgroup/unified/$id/cgroup.kill" 2>/dev/null
  runc kill "$id" KILL >/dev/null 2>&1 || true
  for i in $(seq 1 50); do runc delete -f "$id" >/dev/null 2>&1 && break; sleep 0.1; done
  for d in $dirs; do for i in 1 2 3 4 5; do rmdir "$d" 2>/dev/null && break; [ -d "$d" ] || break; sleep 0.05; done; done
  return 0
}

# ctr_profile_key ID [TIMEOUT_S]: the profile key the running agent attributes container ID to
ctr_profile_key() {
  local id="$1" t="${2:-20}" i k
  for i in $(seq 1 $((t * 5))); do
    k=$(curl -fsS -m 5 "$AGENT_URL/api/v1/containers" | jq -r --arg id "$id" '.containers[] | select(.id == $id) | .profile // empty' 2>/dev/null || true)
    [ -n "$k" ] && { echo "$k"; return 0; }
    sleep 0.2
  done
  return 1
}
