#!/usr/bin/env bash
# Event loss: open+close paced at increasing rates on the host (loops openrate) with the agent
# running (sources.bpf on); the agent's counters before and after each step give the events it
# received and lost. Reports the highest rate held with zero loss and the loss past it. The host
# filter is off (sources.host_filter: false), so the host's opens reach the agent: this measures
# the ring and the pipeline, which a busy container's events (learning, or not yet known) load
# the same way.
#
#   bench/loss.sh [--smoke] --out DIR
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
section_args loss "$@"
LOOPS_BIN="$RUN_DIR/loops"
[ -x "$LOOPS_BIN" ] || gcc -O2 -static -o "$LOOPS_BIN" "$HERE/overhead/loops.c" -lpthread
if [ "$SMOKE" = 1 ]; then RATES="20000 100000"; SECS=1; PARALLEL_MAX=0; else RATES="50000 100000 150000 200000 250000 300000"; SECS=5; PARALLEL_MAX=1; fi

rm -rf "$RUN_DIR/loss"; mkdir -p "$RUN_DIR/loss/profiles"
agent_config "$RUN_DIR/loss/agent.yaml" "$RUN_DIR/loss/profiles" sources.bpf on sources.host_filter false
agent_start loss "$RUN_DIR/loss/agent.yaml"
OUTF="$RUN_DIR/loss.raw.jsonl"; : >"$OUTF"
LOST_RE='driftwatch_events_lost_total\{.*reason="(ring_full|seq_gap|bad_record|malformed)"'

# step LABEL PROCS RATE: PROCS paced loops at RATE each for SECS seconds
step() {
  local label="$1" procs="$2" rate="$3" e0 e1 l0 l1 u0 u1 c0 c1 i out achieved=0
  sleep 1.5  # the bridge's loss counters are exported at most once a second
  e0=$(metric 'driftwatch_events_total\{kind="open",source="bpf"'); l0=$(metric "$LOST_RE")
  u0=$(metric 'driftwatch_events_lost_total\{.*reason="path_unreadable"'); c0=$(proc_cpu_ticks "$AGENT_PID")
  local pids=() files=()
  for i in $(seq 1 "$procs"); do
    "$LOOPS_BIN" openrate "$rate" "$SECS" >"$RUN_DIR/loss.$label.$i.out" &
    pids+=($!); files+=("$RUN_DIR/loss.$label.$i.out")
  done
  for i in "${pids[@]}"; do wait "$i" || bdie "openrate failed"; done
  c1=$(proc_cpu_ticks "$AGENT_PID")
  sleep 2.5  # drain, then the next export of the counters
  e1=$(metric 'driftwatch_events_total\{kind="open",source="bpf"'); l1=$(metric "$LOST_RE")
  u1=$(metric 'driftwatch_events_lost_total\{.*reason="path_unreadable"')
  local done_total=0
  for f in "${files[@]}"; do
    out=$(cat "$f"); done_total=$((done_total + $(echo "$out" | awk '{print $3}')))
    achieved=$(awk -v a="$achieved" -v b="$(echo "$out" | awk '{print $5}')" 'BEGIN {print a + b}')
  done
  jq -n -c --arg step "$label" --argjson procs "$procs" --argjson target "$((rate * procs))" --argjson achieved "$achieved" \
    --argjson opens "$done_total" --argjson received "$((e1 - e0))" --argjson lost "$((l1 - l0))" \
    --argjson unreadable "$((u1 - u0))" --argjson secs "$SECS" \
    --argjson cpu "$(awk -v a="$c0" -v b="$c1" -v h="$CLK_TCK" -v s="$SECS" 'BEGIN {printf "%.3f", (b - a) / h / s}')" \
    '{step: $step, procs: $procs, target_rate: $target, achieved_rate: $achieved, opens: $opens, open_events_received: $received,
      events_lost: $lost, path_unreadable: $unreadable, seconds: $secs, agent_cpu_cores: $cpu,
      loss_ratio: (if $opens > 0 then ($lost / ($opens + $lost) * 10000 | round / 10000) else 0 end)}' | tee -a "$OUTF" >&2
}

for r in $RATES; do step "$r" 1 "$r"; done
# past the limit: two unpaced loops on a 2-core machine (they compete with the agent for CPU)
[ "$PARALLEL_MAX" = 1 ] && step max2 2 5000000
agent_stop

jq -s '{steps: .,
  max_zero_loss_rate: ([.[] | select(.events_lost == 0) | .achieved_rate] | max),
  first_lossy: ([.[] | select(.events_lost > 0)] | first)}' "$OUTF" >"$RUN_DIR/loss.json"
{
  echo "| Target opens/s | Achieved opens/s | Open events received | Lost (ring full / gap) | Loss | Agent CPU (cores) |"
  echo "|---|---|---|---|---|---|"
  jq -r '.steps[] | "| \(if .procs > 1 then "unpaced ×\(.procs)" else (.target_rate | tostring) end) | \(.achieved_rate | floor) | \(.open_events_received) | \(.events_lost) | \(.loss_ratio * 100)% | \(.agent_cpu_cores) |"' "$RUN_DIR/loss.json"
} >"$RUN_DIR/loss.md"
cat "$RUN_DIR/loss.md"
