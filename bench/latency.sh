#!/usr/bin/env bash
# Event-to-deviation and event-to-kill latency. A busybox service (httpd + a loop that sources
# /tmp/hook, as testsupport/ServiceWorkload) is learned until its profile auto-promotes to
# monitor; then N payloads are written into the hook, each reading a different file (so every
# one is a first deviation, recorded by driftwatch_detection_latency_seconds). For event-to-kill
# the profile file is edited to `mode: enforce` (the store hot-reloads it) with
# response.default_action kill, and K fresh containers of the workload each run one unexpected
# exec and are killed (driftwatch_action_latency_seconds). p50/p99 are the agent's own timers.
# Start-up deviations of the fresh replicas are reported in latency.json (startup_deviations).
#
#   bench/latency.sh [--smoke] --out DIR
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
section_args latency "$@"
if [ "$SMOKE" = 1 ]; then N=5; K=1; else N=100; K=10; fi

ENTRY="$RUN_DIR/entrypoint.sh"
cat >"$ENTRY" <<'EOF'
#!/bin/sh
httpd -f -p 127.0.0.1:8080 -h /www &
while true; do
  cat /etc/app.conf > /dev/null
  echo tick >> /var/log/app.log
  wget -q -O /dev/null http://127.0.0.1:8080/
  . /tmp/hook
  usleep 200000
done
EOF
S=$$
# svc_start ID POD: a service container of workload bench/svc; prints nothing
svc_start() {
  local id="$1" pod="$2" b="$RUN_DIR/bundle-$1" i
  bundle_make "$b" "entrypoint.sh=$ENTRY"
  mkdir -p "$b/rootfs/www" "$b/rootfs/etc/probe"
  echo '<html>hello</html>' >"$b/rootfs/www/index.html"
  echo 'greeting=hello' >"$b/rootfs/etc/app.conf"
  : >"$b/rootfs/tmp/hook"
  for i in $(seq 1 "$N"); do echo "$i" >"$b/rootfs/etc/probe/p$i"; done
  bundle_config "$b" bench "$pod" svc registry.local/bench/svc:1 '["/entrypoint.sh"]'
  ctr_start "$id" "$b"
}
# trigger ID SCRIPT: the service's loop sources it once (atomic replace of /tmp/hook)
trigger() {
  local dir="$RUN_DIR/bundle-$1/rootfs/tmp"
  printf '%s\n: > /tmp/hook\n' "$2" >"$dir/.hook.part"
  mv -f "$dir/.hook.part" "$dir/hook"
}
hook_empty() { [ ! -s "$RUN_DIR/bundle-$1/rootfs/tmp/hook" ]; }

rm -rf "$RUN_DIR/latency"; mkdir -p "$RUN_DIR/latency/profiles"
agent_config "$RUN_DIR/latency/agent.yaml" "$RUN_DIR/latency/profiles" sources.bpf on \
  learning.min_duration 4s learning.quiet_window 3s learning.min_observations 10 learning.startup_window 1s \
  learning.auto_promote true profiles.flush_interval 1s response.default_action kill response.max_actions_per_minute 10000
agent_start latency "$RUN_DIR/latency/agent.yaml"

# ---- learn ----
svc_start "dwb-svc-$S" "svc-5d9c7b8f6-x2x9q"
KEY=$(ctr_profile_key "dwb-svc-$S" 30) || bdie "service container not attributed"
blog "service dwb-svc-$S -> profile $KEY; learning"
await_mode "$KEY" monitor 120 || bdie "profile $KEY did not reach monitor in 120 s"
blog "profile $KEY in monitor"
sleep 2

# ---- event -> deviation ----
c0=$(metric 'driftwatch_detection_latency_seconds_count')
for i in $(seq 1 "$N"); do
  trigger "dwb-svc-$S" "cat /etc/probe/p$i > /dev/null"
  for j in $(seq 1 50); do hook_empty "dwb-svc-$S" && break; sleep 0.05; done
done
sleep 2
c1=$(metric 'driftwatch_detection_latency_seconds_count')
det_p50=$(metric_value 'driftwatch_detection_latency_seconds\{quantile="0.5"')
det_p99=$(metric_value 'driftwatch_detection_latency_seconds\{quantile="0.99"')
det_max=$(metric_value 'driftwatch_detection_latency_seconds_max')
det_sum=$(metric_value 'driftwatch_detection_latency_seconds_sum')
blog "detection: $((c1 - c0)) samples, p50 ${det_p50}s p99 ${det_p99}s max ${det_max}s"
ctr_remove "dwb-svc-$S"

# ---- event -> kill: enforce by editing the profile file (hot reload) ----
# Each sample: a fresh container of the workload starts while the profile is in monitor (a new
# replica's start-up exec of its entrypoint can be outside a profile learned from a container
# that was already starting when the agent first saw it: enforcing first would kill it at
# start), then the profile file is edited to enforce, the payload runs, the container dies,
# and the file is edited back to monitor.
sleep 2  # a flush after the last change
PF=$(grep -l "^key: \"\{0,1\}$KEY" "$RUN_DIR/latency/profiles/"*.yaml | head -1 || true)
[ -n "$PF" ] || bdie "no profile file for $KEY"
set_mode() {  # set_mode FROM TO: edit the profile file, wait (bounded) for the hot reload
  sed -i "s/^mode: $1\$/mode: $2/" "$PF"
  await_mode "$KEY" "$2" 30 || bdie "the edited profile $PF did not reload in $2 mode"
}
k0=$(metric 'driftwatch_actions_total\{action="kill",result="ok"')
killed=0
for i in $(seq 1 "$K"); do
  id="dwb-kill-$S-$i"
  # a pod of the same workload: ReplicaSet pod suffixes use the alphabet bcdfghjklmnpqrstvwxz2456789
  svc_start "$id" "svc-5d9c7b8f6-$(echo bcdfghjklmnpqrstvwxz | cut -c$(( (i - 1) % 20 + 1 )))x9qz"
  ctr_profile_key "$id" 30 >/dev/null || bdie "container $id not attributed"
  sleep 1.5
  set_mode monitor enforce
  pid=$(ctr_pid "$id")
  if [ -z "$pid" ] || [ -z "$(cat "/sys/fs/cgroup/unified/$id/cgroup.procs" 2>/dev/null)" ]; then
    blog "container $id died before the payload"; ctr_remove "$id"; set_mode enforce monitor; continue
  fi
  trigger "$id" "sh -c 'id > /dev/null'"
  for j in $(seq 1 100); do
    [ -z "$(cat "/sys/fs/cgroup/unified/$id/cgroup.procs" 2>/dev/null)" ] && { killed=$((killed + 1)); break; }
    sleep 0.05
  done
  ctr_remove "$id"
  set_mode enforce monitor
done
blog "kill samples done"
sleep 1
k1=$(metric 'driftwatch_actions_total\{action="kill",result="ok"')
act_p50=$(metric_value 'driftwatch_action_latency_seconds\{quantile="0.5"')
act_p99=$(metric_value 'driftwatch_action_latency_seconds\{quantile="0.99"')
act_max=$(metric_value 'driftwatch_action_latency_seconds_max')
act_count=$(metric_value 'driftwatch_action_latency_seconds_count')
startup_devs=$(curl -fsS -m 5 "$AGENT_URL/api/v1/deviations?limit=1000" | jq --arg p "dwb-kill-$S-" \
  '[.deviations[] | select((.container_id | startswith($p)) and .value == "/entrypoint.sh")] | length' || echo null)
blog "kill: $killed/$K containers dead, $((k1 - k0)) kill actions ok, p50 ${act_p50}s p99 ${act_p99}s"
agent_stop

num() { [ -n "$1" ] && echo "$1" || echo null; }
jq -n --argjson n "$N" --argjson dcount "$((c1 - c0))" --argjson dp50 "$(num "$det_p50")" --argjson dp99 "$(num "$det_p99")" \
  --argjson dmax "$(num "$det_max")" --argjson dsum "$(num "$det_sum")" \
  --argjson k "$K" --argjson killed "$killed" --argjson kills "$((k1 - k0))" --argjson ap50 "$(num "$act_p50")" \
  --argjson ap99 "$(num "$act_p99")" --argjson amax "$(num "$act_max")" --argjson acount "$(num "$act_count")" \
  --argjson sdev "$(num "$startup_devs")" \
  '{detection: {payloads: $n, samples: $dcount, p50_seconds: $dp50, p99_seconds: $dp99, max_seconds: $dmax,
                mean_seconds: (if $dcount > 0 and $dsum != null then $dsum / $dcount else null end)},
    kill: {containers: $k, killed: $killed, kill_actions_ok: $kills, samples: $acount, p50_seconds: $ap50, p99_seconds: $ap99,
           max_seconds: $amax, startup_deviations: $sdev}}' >"$RUN_DIR/latency.json"
{
  echo "| Latency | Samples | p50 | p99 | max |"
  echo "|---|---|---|---|---|"
  jq -r 'def ms: if . == null then "n/a" else (. * 1000 * 10 | round / 10 | tostring) + " ms" end;
    "| event → deviation record | \(.detection.samples) | \(.detection.p50_seconds | ms) | \(.detection.p99_seconds | ms) | \(.detection.max_seconds | ms) |",
    "| event → kill done | \(.kill.samples) (\(.kill.killed)/\(.kill.containers) containers dead) | \(.kill.p50_seconds | ms) | \(.kill.p99_seconds | ms) | \(.kill.max_seconds | ms) |"' "$RUN_DIR/latency.json"
} >"$RUN_DIR/latency.md"
cat "$RUN_DIR/latency.md"
