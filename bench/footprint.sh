#!/usr/bin/env bash
# Agent footprint: RSS (VmRSS) and CPU (utime+stime over a window) of the agent process alone,
# with C idle busybox containers (sleep), and with S service workloads (httpd + a busy loop of
# cat/echo/wget, as testsupport/ServiceWorkload) added; plus the profiles' size (the agent's
# driftwatch_profile_memory_bytes gauge and the YAML files on disk).
#
#   bench/footprint.sh [--smoke] --out DIR
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
section_args footprint "$@"
if [ "$SMOKE" = 1 ]; then C=5; S=2; WINDOW=2; SETTLE=1; else C=50; S=10; WINDOW=20; SETTLE=5; fi
S_ID=$$

rm -rf "$RUN_DIR/footprint"; mkdir -p "$RUN_DIR/footprint/profiles"
agent_config "$RUN_DIR/footprint/agent.yaml" "$RUN_DIR/footprint/profiles" sources.bpf on \
  learning.min_duration 10s learning.quiet_window 5s learning.startup_window 2s profiles.flush_interval 2s
agent_start footprint "$RUN_DIR/footprint/agent.yaml"
OUTF="$RUN_DIR/footprint.raw.jsonl"; : >"$OUTF"

# phase NAME CONTAINERS: RSS and CPU of the agent over WINDOW seconds
phase() {
  local name="$1" n="$2" t0 t1 w0 w1 rss max=0 i r
  sleep "$SETTLE"  # settle after the starts
  t0=$(proc_cpu_ticks "$AGENT_PID"); w0=$(date +%s.%N)
  for i in $(seq 1 "$WINDOW"); do
    r=$(proc_rss_kb "$AGENT_PID"); [ "$r" -gt "$max" ] && max=$r
    sleep 1
  done
  t1=$(proc_cpu_ticks "$AGENT_PID"); w1=$(date +%s.%N)
  rss=$(proc_rss_kb "$AGENT_PID"); [ "${rss:-0}" -gt "$max" ] && max=$rss
  kill -0 "$AGENT_PID" 2>/dev/null || bdie "footprint: the agent (pid $AGENT_PID) is gone; see its log in $RUN_DIR"
  local ev pm cpu
  ev=$(metric 'driftwatch_events_total\{.*source="bpf"' || true); pm=$(metric 'driftwatch_profile_memory_bytes' || true)
  cpu=$(LC_ALL=C awk -v a="$t0" -v b="$t1" -v h="$CLK_TCK" -v w0="$w0" -v w1="$w1" 'BEGIN {printf "%.4f", (b - a) / h / (w1 - w0)}')
  # a value that is not a number is recorded as null (and the results say so) rather than failing the run
  num() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && echo "$1" || echo null; }
  rss=$(num "$rss"); max=$(num "$max"); ev=$(num "$ev"); pm=$(num "$pm"); cpu=$(num "$cpu")
  jq -n -c --arg p "$name" --argjson n "$n" --argjson rss "$rss" --argjson max "$max" \
    --argjson cpu "$cpu" \
    --argjson events "$ev" --argjson pm "$pm" --argjson win "$WINDOW" \
    '{phase: $p, containers: $n, rss_kb: $rss, rss_max_kb: $max, cpu_cores: $cpu, window_seconds: $win,
      bpf_events_total: $events, profile_memory_bytes: $pm}' | tee -a "$OUTF" >&2
}

phase agent-only 0

B="$RUN_DIR/footprint/bundle-idle"
bundle_make "$B"
bundle_config "$B" bench "idle-5d9c7b8f6-x2x9q" idle registry.local/bench/idle:1 '["/bin/sleep","100000"]'
for i in $(seq 1 "$C"); do
  ctr_start "dwb-idle-$S_ID-$i" "$B"
done
blog "$C idle containers running"
phase "idle-$C" "$C"

ENTRY="$RUN_DIR/footprint/entrypoint.sh"
cat >"$ENTRY" <<'EOF'
#!/bin/sh
httpd -f -p 127.0.0.1:8080 -h /www &
while true; do
  cat /etc/app.conf > /dev/null
  echo tick >> /var/log/app.log
  wget -q -O /dev/null http://127.0.0.1:8080/
  usleep 200000
done
EOF
for i in $(seq 1 "$S"); do
  b="$RUN_DIR/footprint/bundle-svc-$i"
  bundle_make "$b" "entrypoint.sh=$ENTRY"
  mkdir -p "$b/rootfs/www"; echo '<html>hello</html>' >"$b/rootfs/www/index.html"; echo 'greeting=hello' >"$b/rootfs/etc/app.conf"
  # S workloads (one profile each): ReplicaSet-style pods of svcN
  bundle_config "$b" bench "svc$i-5d9c7b8f6-x2x9q" "svc$i" "registry.local/bench/svc$i:1" '["/entrypoint.sh"]'
  ctr_start "dwb-svc-$S_ID-$i" "$b"
done
blog "$S service workloads running"
phase "idle-$C+services-$S" "$((C + S))"
sleep 3  # a profile flush
ls -l "$RUN_DIR/footprint/profiles/"bench_svc*.yaml 2>/dev/null | awk '{print $5}' >"$RUN_DIR/footprint.profile_sizes" || true
agent_stop
for i in $(seq 1 "$S"); do ctr_remove "dwb-svc-$S_ID-$i"; done
for i in $(seq 1 "$C"); do ctr_remove "dwb-idle-$S_ID-$i"; done

jq -s --slurpfile sizes <(jq -s '.' "$RUN_DIR/footprint.profile_sizes" 2>/dev/null || echo '[]') \
  '{phases: ., service_profile_yaml_bytes: $sizes[0],
    service_profile_yaml_bytes_median: ($sizes[0] | sort | if length == 0 then null else .[length / 2 | floor] end)}' \
  "$OUTF" >"$RUN_DIR/footprint.json"
{
  echo "| Phase | Containers | Agent RSS (MiB) | RSS max in window (MiB) | Agent CPU (% of one core) | Profiles in memory (KiB) |"
  echo "|---|---|---|---|---|---|"
  jq -r '.phases[] | "| \(.phase) | \(.containers) | \(.rss_kb / 1024 | floor) | \(.rss_max_kb / 1024 | floor) | \(.cpu_cores * 1000 | round / 10) | \(.profile_memory_bytes / 1024 | floor) |"' "$RUN_DIR/footprint.json"
} >"$RUN_DIR/footprint.md"
cat "$RUN_DIR/footprint.md"
