#!/usr/bin/env bash
# Syscall overhead: the loops of loops.c (open/close, fork+exec, connect) timed on the host and
# inside a busybox runc container, with no agent, with the agent learning, with the agent in
# steady-state monitor (kernel suppression on and off; the compat programs), and with the peers
# auditd and bpftrace.
# Reports ns/op (median of REPS runs, min-max) and the ratio to no agent, as JSON and Markdown.
#
#   bench/overhead/run.sh [--smoke] [--out DIR] [--reps N] [--seconds S]
#
# Root only (runc, eBPF, audit rules). Everything it starts (agents, the container, auditd and
# its rule, bpftrace) is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

SMOKE=0; OUT=""; REPS=""; SECONDS_PER_RUN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1;;
    --out) OUT="$2"; shift;;
    --reps) REPS="$2"; shift;;
    --seconds) SECONDS_PER_RUN="$2"; shift;;
    *) bdie "unknown argument $1";;
  esac
  shift
done
[ "$(id -u)" = 0 ] || bdie "the overhead benchmark needs root"
if [ "$SMOKE" = 1 ]; then REPS=${REPS:-1}; SECONDS_PER_RUN=${SECONDS_PER_RUN:-0.3}; else REPS=${REPS:-5}; SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}; fi
RUN_DIR="${OUT:-$(mktemp -d /tmp/dw-bench-overhead-XXXXXX)}"
mkdir -p "$RUN_DIR"
rm -rf "$RUN_DIR/learning" "$RUN_DIR/monitor" "$RUN_DIR/monitor-off" "$RUN_DIR/bundle"
RAW="$RUN_DIR/overhead.raw.jsonl"
: >"$RAW"
NOTES="$RUN_DIR/overhead.notes"
: >"$NOTES"
note() { echo "$*" >>"$NOTES"; blog "note: $*"; }

LOOPS_BIN="$RUN_DIR/loops"
gcc -O2 -static -o "$LOOPS_BIN" "$HERE/loops.c" -lpthread || bdie "building loops.c statically failed (libc6-dev provides libc.a)"
CTR_PORT=18080
LOOP_NAMES="openclose forkexec connect"
ID="dwb-loops-$$"
KEY=""  # the profile key, as the agent names it (bench/loops/loops)

# ---- the container: busybox + the static loops binary, init sleeps; loops run via runc exec ----
BUNDLE="$RUN_DIR/bundle"
bundle_make "$BUNDLE" "loops=$LOOPS_BIN"
bundle_config "$BUNDLE" bench "loops-5d9c7b8f6-x2x9q" loops registry.local/bench/loops:1 '["/bin/sleep","100000"]'
ctr_start "$ID" "$BUNDLE"
blog "container $ID running (init pid $(ctr_pid "$ID"))"

# every loop runs pinned to the last CPU (its children and runc exec's process inherit it), so a
# run keeps one core and its caches instead of moving with the scheduler; agents and everything
# else may run anywhere
PIN_CPU=$(( $(nproc) - 1 ))

# run_loop ENV LOOP N: prints ns/op
run_loop() {
  local env="$1" loop="$2" n="$3" out
  if [ "$env" = host ]; then
    out=$(timeout 300 taskset -c "$PIN_CPU" "$LOOPS_BIN" "$loop" "$n") || bdie "host loop $loop failed"
  else
    local extra=""
    [ "$loop" = connect ] && extra=$CTR_PORT
    out=$(timeout 300 taskset -c "$PIN_CPU" runc exec "$ID" /loops "$loop" "$n" $extra </dev/null) \
      || bdie "container loop $loop failed: $out"
  fi
  echo "$out" | awk '{print $4}'
}

# ---- iterations: sized so one run takes about SECONDS_PER_RUN with no agent ----
declare -A ITER
for loop in $LOOP_NAMES; do
  case "$loop" in openclose) probe=20000;; connect) probe=2000;; forkexec) probe=100;; esac
  [ "$SMOKE" = 1 ] && probe=$((probe / 4))
  ns=$(run_loop host "$loop" "$probe")
  n=$(awk -v s="$SECONDS_PER_RUN" -v ns="$ns" 'BEGIN {n = int(s * 1e9 / ns); if (n < 10) n = 10; print n}')
  ITER[$loop]=$n
  blog "calibration: $loop ~${ns} ns/op on the host -> $n iterations per run"
done

# measure CONFIG [DIV]: REPS rounds of every loop on the host and in the container; DIV divides
# the iterations (auditd slows syscalls by an order of magnitude: the same ~3 s per run)
measure() {
  local config="$1" div="${2:-1}" r env loop ns n
  for r in $(seq 1 "$REPS"); do
    for loop in $LOOP_NAMES; do
      for env in host container; do
        n=$(( ITER[$loop] / div > 10 ? ITER[$loop] / div : 10 ))
        ns=$(run_loop "$env" "$loop" "$n")
        jq -n -c --arg c "$config" --arg e "$env" --arg l "$loop" --argjson n "$n" --argjson ns "$ns" --argjson r "$r" \
          '{config: $c, env: $e, loop: $l, iterations: $n, ns_per_op: $ns, rep: $r}' >>"$RAW"
        blog "$config $env $loop: $ns ns/op"
      done
    done
  done
}

# agent_measure CONFIG: measure with the running agent, recording its CPU and event counters
agent_measure() {
  local config="$1" t0 t1 e0 e1 s0 s1 l0 l1 h0 h1
  t0=$(proc_cpu_ticks "$AGENT_PID"); e0=$(metric 'driftwatch_events_total\{.*source="bpf"'); s0=$(metric 'driftwatch_events_suppressed_total')
  h0=$(metric 'driftwatch_events_host_filtered_total')
  local kinds0; kinds0=$(curl -fsS -m 5 "$AGENT_URL/metrics" | awk '/^driftwatch_events_total\{kind="[a-z]+",source="bpf"\}/')
  l0=$(metric 'driftwatch_events_lost_total\{.*reason="(ring_full|seq_gap|bad_record|malformed)"')
  measure "$config"
  t1=$(proc_cpu_ticks "$AGENT_PID"); e1=$(metric 'driftwatch_events_total\{.*source="bpf"'); s1=$(metric 'driftwatch_events_suppressed_total')
  h1=$(metric 'driftwatch_events_host_filtered_total')
  local kinds1 by_kind; kinds1=$(curl -fsS -m 5 "$AGENT_URL/metrics" | awk '/^driftwatch_events_total\{kind="[a-z]+",source="bpf"\}/')
  # received per kind during the timed runs: {"open": N, ...}
  by_kind=$(printf '%s\n%s\n' "$kinds0" "$kinds1" | awk -F'"' 'NF > 1 {k = $2; v = $NF; sub(/^[^0-9]*/, "", v); if (k in a) d[k] = v - a[k]; else a[k] = v}
    END {printf "{"; n = 0; for (k in d) {printf "%s\"%s\": %d", (n++ ? ", " : ""), k, d[k]}; printf "}"}')
  l1=$(metric 'driftwatch_events_lost_total\{.*reason="(ring_full|seq_gap|bad_record|malformed)"')
  jq -n -c --arg c "$config" --argjson cpu "$(awk -v a="$t0" -v b="$t1" -v h="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / h}')" \
    --argjson ev "$((e1 - e0))" --argjson sup "$((s1 - s0))" --argjson host "$((h1 - h0))" --argjson lost "$((l1 - l0))" \
    --arg rss "$(proc_rss_kb "$AGENT_PID")" \
    --argjson kinds "$by_kind" \
    '{config: $c, agent_cpu_seconds: $cpu, events_received: $ev, events_received_by_kind: $kinds, events_suppressed: $sup,
      events_host_filtered: $host, events_lost: $lost, agent_rss_kb: ($rss | tonumber)}' \
    >>"$RUN_DIR/overhead.agent.jsonl"
}
: >"$RUN_DIR/overhead.agent.jsonl"

# ---- 1. no agent ----
measure none

# ---- 1b. empty programs (native/tests/dwfloor.c), what the hooks cost before any program works:
#   tracepoints-only  every hook the agent's fast programs use
#   slow-path-only    one tracepoint on a syscall the loops never make: the slow syscall entry
#                     and exit that every task takes once any syscall tracepoint is attached
#   raw-sys-exit      one raw tracepoint program at the exit of every syscall (the design that
#                     sees all syscalls through one program) ----
FLOOR_BIN="$BENCH_ROOT/native/.output/dwfloor"
floor_measure() {
  local config="$1" mode="$2"
  "$FLOOR_BIN" "$mode" >"$RUN_DIR/floor-$mode.out" 2>"$RUN_DIR/floor-$mode.err" &
  FLOOR_PID=$!
  for _ in $(seq 1 50); do grep -q '^ready' "$RUN_DIR/floor-$mode.out" 2>/dev/null && break; sleep 0.1; done
  if grep -q '^ready' "$RUN_DIR/floor-$mode.out"; then
    blog "$config: $(cat "$RUN_DIR/floor-$mode.out") empty programs attached (dwfloor $mode)"
    measure "$config"
  else
    note "$config: dwfloor $mode did not start ($(head -c 300 "$RUN_DIR/floor-$mode.err")); skipped"
  fi
  kill "$FLOOR_PID" 2>/dev/null; wait "$FLOOR_PID" 2>/dev/null || true
}
if [ -x "$FLOOR_BIN" ]; then
  floor_measure tracepoints-only hooks
  floor_measure slow-path-only slow-path
  floor_measure raw-sys-exit raw-sys-exit
else
  note "tracepoints-only, slow-path-only, raw-sys-exit: $FLOOR_BIN is not built (make -C native); skipped"
fi

# ---- 2. agent learning (long learning: it stays learning) ----
mkdir -p "$RUN_DIR/learning/profiles"
agent_config "$RUN_DIR/learning/agent.yaml" "$RUN_DIR/learning/profiles" sources.bpf on learning.min_duration 24h \
  learning.max_duration 48h learning.quiet_window 1h learning.learn_exec_sessions true
agent_start learning "$RUN_DIR/learning/agent.yaml"
run_loop container openclose 100 >/dev/null  # attribute the container before timing
KEY=$(ctr_profile_key "$ID") || bdie "the agent did not attribute container $ID to a profile"
blog "container $ID -> profile $KEY"
sleep 1
agent_measure learning
mode=$(profile_mode "$KEY"); [ "$mode" = learning ] || note "learning: profile $KEY is '$mode', expected learning"
agent_stop

# ---- 3. agent in monitor, kernel suppression on: learn quickly, converge, auto-promote ----
mkdir -p "$RUN_DIR/monitor/profiles"
agent_config "$RUN_DIR/monitor/agent.yaml" "$RUN_DIR/monitor/profiles" sources.bpf on sources.suppression true \
  learning.min_duration 3s learning.quiet_window 3s learning.min_observations 10 learning.startup_window 1s \
  learning.auto_promote true learning.learn_exec_sessions true profiles.flush_interval 1s
agent_start monitor-supp-on "$RUN_DIR/monitor/agent.yaml"
for loop in $LOOP_NAMES; do run_loop container "$loop" $((ITER[$loop] / 20 + 10)) >/dev/null; done
await_mode "$KEY" monitor 120 || bdie "profile $KEY did not reach monitor in 120 s (log: $RUN_DIR/monitor-supp-on.agent.log)"
blog "profile $KEY is in monitor"
for loop in $LOOP_NAMES; do run_loop container "$loop" 100 >/dev/null; done  # known events seed the suppression map
sleep 1
d0=$(metric 'driftwatch_deviations_total')
agent_measure monitor-supp-on
d1=$(metric 'driftwatch_deviations_total')
[ "$d1" = "$d0" ] || note "monitor-supp-on: $((d1 - d0)) deviations during the timed runs (values outside the learned profile)"
agent_stop

# ---- 3b. the same with the compat programs (syscall arguments saved at sys_enter, as on kernels
# before 6.2): the cost the fast programs save ----
mkdir -p "$RUN_DIR/monitor-compat/profiles"
cp "$RUN_DIR/monitor/profiles/"*.yaml "$RUN_DIR/monitor-compat/profiles/"
agent_config "$RUN_DIR/monitor-compat/agent.yaml" "$RUN_DIR/monitor-compat/profiles" sources.bpf on sources.suppression true \
  sources.bpf_compat true
agent_start monitor-compat "$RUN_DIR/monitor-compat/agent.yaml"
[ "$(profile_mode "$KEY")" = monitor ] || bdie "the copied profile did not load in monitor mode"
for loop in $LOOP_NAMES; do run_loop container "$loop" 100 >/dev/null; done
sleep 1
agent_measure monitor-compat
agent_stop

# ---- 4. agent in monitor, kernel suppression off (same learned profile) ----
mkdir -p "$RUN_DIR/monitor-off/profiles"
cp "$RUN_DIR/monitor/profiles/"*.yaml "$RUN_DIR/monitor-off/profiles/"
agent_config "$RUN_DIR/monitor-off/agent.yaml" "$RUN_DIR/monitor-off/profiles" sources.bpf on sources.suppression false
agent_start monitor-supp-off "$RUN_DIR/monitor-off/agent.yaml"
[ "$(profile_mode "$KEY")" = monitor ] || bdie "the copied profile did not load in monitor mode"
for loop in $LOOP_NAMES; do run_loop container "$loop" 100 >/dev/null; done
sleep 1
agent_measure monitor-supp-off
agent_stop

# ---- 5. auditd with rules on execve/openat/connect ----
if ! command -v auditd >/dev/null || ! command -v auditctl >/dev/null; then
  note "auditd: not installed (apt-get install auditd); skipped"
elif pgrep -x auditd >/dev/null; then
  note "auditd: another auditd is already running on this machine; not measured (would change its rules)"
else
  A="$RUN_DIR/audit"; mkdir -p "$A"
  cat >"$A/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $A/audit.log
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 32
num_logs = 2
max_log_file_action = ROTATE
space_left = 75
space_left_action = IGNORE
admin_space_left = 50
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
q_depth = 2000
overflow_action = IGNORE
EOF
  chmod 640 "$A/auditd.conf"
  prev_enabled=$(auditctl -s | awk '/^enabled/ {print $2}'); prev_backlog=$(auditctl -s | awk '/^backlog_limit/ {print $2}')
  RULE=(-F arch=b64 -S execve,openat,connect -k dwbench)
  on_exit "auditctl -e ${prev_enabled:-0}; auditctl -b ${prev_backlog:-64}"
  auditd -f -c "$A" >"$A/auditd.out" 2>&1 &  # -f: foreground, errors on stderr (kept in auditd.out)
  AUDITD_PID=$!
  on_exit "agent_stop_pid $AUDITD_PID"
  up=0
  for i in $(seq 1 50); do auditctl -s | grep -q "^pid $AUDITD_PID\$" && { up=1; break; }; sleep 0.1; done
  auditctl -b 8192 >/dev/null
  on_exit "auditctl -d always,exit ${RULE[*]}"
  auditctl -a always,exit "${RULE[@]}" >/dev/null
  # measure only a running auditd that the kernel reports to (else nothing is audited)
  if [ "$up" = 1 ] && kill -0 "$AUDITD_PID" 2>/dev/null && auditctl -s | grep -q '^enabled 1$'; then
  blog "auditd $AUDITD_PID running with: $(auditctl -l | grep dwbench)"
  lost0=$(auditctl -s | awk '/^lost/ {print $2}')
  measure auditd 10
  lost1=$(auditctl -s | awk '/^lost/ {print $2}')
  [ "$lost1" = "$lost0" ] || note "auditd: kernel audit lost $((lost1 - lost0)) records (backlog 8192)"
  kill -0 "$AUDITD_PID" 2>/dev/null || note "auditd: the daemon exited during the runs (results suspect): $(tail -2 "$A/auditd.out" | tr '\n' ' ')"
  else
    note "auditd: the daemon did not start or the kernel does not report to it; not measured: $(tail -3 "$A/auditd.out" | tr '\n' ' ')"
  fi
  auditctl -d always,exit "${RULE[@]}" >/dev/null
  agent_stop_pid "$AUDITD_PID"
  auditctl -e "${prev_enabled:-0}" >/dev/null; auditctl -b "${prev_backlog:-64}" >/dev/null
  rm -f "$A"/audit.log*
fi

# ---- 6. bpftrace with the equivalent tracepoint probes, output to /dev/null ----
if ! command -v bpftrace >/dev/null; then
  note "bpftrace: not installed (apt-get install bpftrace); skipped"
else
  cat >"$RUN_DIR/peer.bt" <<'EOF'
tracepoint:syscalls:sys_enter_execve { printf("exec %d %d %llu %s %s\n", pid, tid, cgroup, comm, str(args->filename)); }
tracepoint:syscalls:sys_enter_openat { printf("open %d %d %llu %s %s %d\n", pid, tid, cgroup, comm, str(args->filename), args->flags); }
tracepoint:syscalls:sys_enter_connect { printf("connect %d %d %llu %s %d\n", pid, tid, cgroup, comm, args->fd); }
EOF
  bpftrace "$RUN_DIR/peer.bt" >/dev/null 2>"$RUN_DIR/bpftrace.err" &
  BT_PID=$!
  on_exit "kill -INT $BT_PID; sleep 1; kill -KILL $BT_PID"
  # attached when it holds a perf event per tracepoint (3) plus its per-CPU output buffers
  # ("Attaching 3 probes..." goes to the stdout we discard)
  ok=0; want=$((3 + $(nproc)))
  for i in $(seq 1 300); do
    [ "$(ls -l "/proc/$BT_PID/fd" 2>/dev/null | grep -c perf_event)" -ge "$want" ] && { ok=1; break; }
    kill -0 "$BT_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$ok" = 1 ]; then
    sleep 1
    measure bpftrace
    kill -INT "$BT_PID" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$BT_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BT_PID" 2>/dev/null || true
    lostbt=$( (grep -o 'Lost [0-9]* events' "$RUN_DIR/bpftrace.err" || true) | awk '{s += $2} END {print s + 0}')
    [ "$lostbt" = 0 ] || note "bpftrace: lost $lostbt events (perf buffer full)"
  else
    note "bpftrace: could not attach its tracepoints: $( (grep -v RLIMIT "$RUN_DIR/bpftrace.err" || true) | head -3 | tr '\n' ' ')"
    kill -KILL "$BT_PID" 2>/dev/null || true
  fi
fi

# ---- 7. no agent again (drift of the shared machine over the run) ----
measure none-after

# ---- aggregate: median, min, max per (config, env, loop); ratio to no agent (before + after) ----
jq -s --slurpfile agent <(jq -s '.' "$RUN_DIR/overhead.agent.jsonl") --rawfile notes "$NOTES" --argjson reps "$REPS" '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  (map(select(.config == "none" or .config == "none-after")) | group_by(.env + "/" + .loop)
    | map({key: (.[0].env + "/" + .[0].loop), value: (map(.ns_per_op) | median)}) | from_entries) as $base
  | {reps: $reps,
     iterations: (map(select(.config == "none")) | map({key: .loop, value: .iterations}) | unique | from_entries),
     results: (group_by(.config + "/" + .env + "/" + .loop) | map(
       (map(.ns_per_op)) as $v
       | {config: .[0].config, env: .[0].env, loop: .[0].loop, runs: $v, median_ns: ($v | median),
          min_ns: ($v | min), max_ns: ($v | max),
          ratio: ((($v | median) / $base[.[0].env + "/" + .[0].loop]) * 1000 | round / 1000)})),
     agent: $agent[0],
     notes: ($notes | split("\n") | map(select(length > 0)))}' "$RAW" >"$RUN_DIR/overhead.json"

{
  echo "| Configuration | Env | open/close ns/op (ratio) | fork+exec ns/op (ratio) | connect ns/op (ratio) |"
  echo "|---|---|---|---|---|"
  for config in none slow-path-only raw-sys-exit tracepoints-only learning monitor-supp-on monitor-compat monitor-supp-off auditd bpftrace none-after; do
    for env in host container; do
      row=$(jq -r --arg c "$config" --arg e "$env" '
        [.results[] | select(.config == $c and .env == $e)] as $r
        | if ($r | length) == 0 then empty else
          ["openclose", "forkexec", "connect"] | map(. as $l | ($r[] | select(.loop == $l))
            | "\(.median_ns | floor) [\(.min_ns | floor)–\(.max_ns | floor)] (×\(.ratio))") | join(" | ") end' "$RUN_DIR/overhead.json")
      [ -n "$row" ] && echo "| $config | $env | $row |"
    done
  done
} >"$RUN_DIR/overhead.md"
cat "$RUN_DIR/overhead.md"
blog "overhead results: $RUN_DIR/overhead.json, $RUN_DIR/overhead.md"
