#!/usr/bin/env bash
# Driftwatch benchmarks, side by side in one run (./driftwatch bench):
#   1. JMH: decode + attribute + profile check, events/s per core and bytes allocated per event
#   2. syscall overhead: open/close, fork+exec, connect with no agent, the agent learning, in
#      monitor with kernel suppression on and off, auditd and bpftrace (ratios to no agent)
#   3. event loss: the highest open rate held with zero loss, and the loss past it
#   4. latency: event -> deviation record and event -> kill, p50/p99 from the agent's timers
#   5. footprint: agent RSS and CPU with idle containers and with service workloads
# Results: DIR/results.json (machine-readable) and DIR/results.md (the Markdown of
# docs/benchmarks.md's results section, which a full run rewrites between its markers).
#
#   bench/run.sh [--smoke] [--out DIR] [--no-build] [--no-doc] [--only jmh,overhead,loss,latency,footprint]
#
# --smoke: a reduced run (< 2 minutes) whose numbers mean nothing; it proves the harness works
# (BenchSmokeTest runs it in the test suite). Root only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

SMOKE=0; OUT=""; BUILD=1; DOC=1; ONLY="jmh,overhead,loss,latency,footprint"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1;;
    --out) OUT="$2"; shift;;
    --no-build) BUILD=0;;
    --no-doc) DOC=0;;
    --only) ONLY="$2"; shift;;
    -h|--help) sed -n '2,16p' "$0"; exit 0;;
    *) bdie "unknown argument $1 (see --help)";;
  esac
  shift
done
[ "$(id -u)" = 0 ] || bdie "the benchmarks need root (eBPF, runc, audit rules)"
[ "$SMOKE" = 1 ] && DOC=0
SUFFIX=""; [ "$SMOKE" = 1 ] && SUFFIX=-smoke
RUN_DIR="${OUT:-$ROOT/var/bench/$(date -u +%Y%m%dT%H%M%SZ)$SUFFIX}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
blog "results in $RUN_DIR"
want() { case ",$ONLY," in *",$1,"*) return 0;; *) return 1;; esac; }
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# other processes' eBPF tracepoint attachments (agents of other test suites on a shared machine
# slow down every "no agent" syscall too)
# (grep -c prints 0 and fails when nothing matches: take its count, never a second "0")
foreign_bpf() {
  local n=0
  command -v bpftool >/dev/null && n=$(bpftool perf list 2>/dev/null | grep -c 'tracepoint' || true)
  echo "${n:-0}"
}
FOREIGN_BEFORE=$(foreign_bpf)
# kernel.bpf_stats_enabled adds two clock reads to every run of every BPF program (the agent's,
# the floor's, bpftrace's): off for the run, restored afterwards
BPF_STATS_WAS=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
if [ "$BPF_STATS_WAS" = 1 ]; then
  echo 0 >/proc/sys/kernel/bpf_stats_enabled && blog "kernel.bpf_stats_enabled was 1: off for this run"
  on_exit 'echo 1 >/proc/sys/kernel/bpf_stats_enabled'
fi

# ---- what the benchmarks need ----
if [ "$BUILD" = 1 ]; then
  missing=()
  for p in jq curl gcc libc6-dev make runc busybox-static auditd bpftrace; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    blog "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || blog "could not install ${missing[*]}: the benchmarks that need them will say so"
  fi
  if [ -n "$(find "$ROOT/native" -newer "$ROOT/native/.output/dist/libdriftwatch.so" -type f \( -name '*.c' -o -name '*.h' -o -name Makefile \) -print -quit 2>/dev/null)" ] \
      || [ ! -e "$ROOT/native/.output/dist/libdriftwatch.so" ]; then
    blog "building native/"; make -s -C "$ROOT/native" >&2
  fi
  blog "building the agent and benchmark jars"
  (cd "$ROOT" && { mvn -q -B -o -DskipTests install >/dev/null 2>&1 || mvn -q -B -DskipTests install >&2; })
fi
for t in jq curl gcc runc; do command -v "$t" >/dev/null || bdie "$t is missing (run without --no-build to install it)"; done
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

SMOKEFLAG=(); [ "$SMOKE" = 1 ] && SMOKEFLAG=(--smoke)
STATUS="$RUN_DIR/status.jsonl"; : >"$STATUS"
# section NAME CMD...: runs one benchmark; a failure is recorded, the others still run
section() {
  local name="$1"; shift
  local t0=$SECONDS rc=0
  blog "=== $name ==="
  "$@" >"$RUN_DIR/$name.log" 2>&1 || rc=$?
  jq -n -c --arg s "$name" --argjson rc "$rc" --argjson secs "$((SECONDS - t0))" '{section: $s, rc: $rc, seconds: $secs}' >>"$STATUS"
  [ "$rc" = 0 ] || { blog "$name FAILED (rc $rc): tail of $RUN_DIR/$name.log:"; tail -15 "$RUN_DIR/$name.log" >&2; }
}

# ---- 1. JMH ----
jmh() {
  local jar="$ROOT/bench/target/driftwatch-bench.jar"
  [ -f "$jar" ] || { echo '{"skipped": "bench/target/driftwatch-bench.jar not built (mvn -DskipTests install)"}' >"$RUN_DIR/jmh.json"; return 0; }
  local args=(-f 3 -wi 3 -w 2 -i 3 -r 2)
  [ "$SMOKE" = 1 ] && args=(-f 1 -wi 1 -w 200ms -i 1 -r 300ms)
  java -jar "$jar" 'io.driftwatch.bench.(PipelineBenchmark|DecodeBenchmark)' "${args[@]}" -prof gc \
    -rf json -rff "$RUN_DIR/jmh.raw.json" >"$RUN_DIR/jmh.out" 2>&1
  jq '{benchmarks: map(
        ([.primaryMetric.rawData[][]] | sort) as $v
        | {name: (.benchmark | sub("^io\\.driftwatch\\.bench\\."; "")), forks: .forks, iterations: ($v | length),
           events_per_second: .primaryMetric.score, error: .primaryMetric.scoreError,
           median: ($v | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end),
           min: ($v | min), max: ($v | max),
           alloc_bytes_per_event: (.secondaryMetrics["gc.alloc.rate.norm"].score // null)})}' \
    "$RUN_DIR/jmh.raw.json" >"$RUN_DIR/jmh.json"
}
want jmh && section jmh jmh
want overhead && section overhead "$HERE/overhead/run.sh" "${SMOKEFLAG[@]}" --out "$RUN_DIR/overhead"
want loss && section loss "$HERE/loss.sh" "${SMOKEFLAG[@]}" --out "$RUN_DIR/loss"
want latency && section latency "$HERE/latency.sh" "${SMOKEFLAG[@]}" --out "$RUN_DIR/latency"
want footprint && section footprint "$HERE/footprint.sh" "${SMOKEFLAG[@]}" --out "$RUN_DIR/footprint"

# ---- results.json ----
read_json() { [ -f "$1" ] && jq -c . "$1" 2>/dev/null || echo null; }
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -v '^??' | head -1 || true)
jq -n --argjson smoke "$([ "$SMOKE" = 1 ] && echo true || echo false)" --arg started "$STARTED" \
  --arg finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg git "$GIT$([ -n "$DIRTY" ] && echo +dirty)" \
  --arg kernel "$(uname -r)" --arg cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
  --argjson cpus "$(nproc)" --argjson mem "$(awk '/^MemTotal/ {print $2}' /proc/meminfo)" \
  --arg load_before "$LOAD_BEFORE" --arg load_after "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --argjson fb "$FOREIGN_BEFORE" --argjson fa "$(foreign_bpf)" \
  --arg java "$(java -version 2>&1 | head -1)" \
  --slurpfile status "$STATUS" \
  --argjson jmh "$(read_json "$RUN_DIR/jmh.json")" \
  --argjson overhead "$(read_json "$RUN_DIR/overhead/overhead.json")" \
  --argjson loss "$(read_json "$RUN_DIR/loss/loss.json")" \
  --argjson latency "$(read_json "$RUN_DIR/latency/latency.json")" \
  --argjson footprint "$(read_json "$RUN_DIR/footprint/footprint.json")" \
  '{schema: 1, smoke: $smoke, started: $started, finished: $finished, git: $git,
    machine: {kernel: $kernel, cpu: $cpu, cpus: $cpus, mem_kb: $mem, java: $java, shared: true,
              loadavg_before: $load_before, loadavg_after: $load_after,
              other_bpf_tracepoint_attachments_before: $fb, other_bpf_tracepoint_attachments_after: $fa},
    sections: $status, jmh: $jmh, overhead: $overhead, loss: $loss, latency: $latency, footprint: $footprint}' \
  >"$RUN_DIR/results.json"

# ---- targets ----
cat >"$RUN_DIR/targets.jq" <<'JQ'
def ratio_of($c; $e; $l): [.overhead.results // [] | .[] | select(.config == $c and .env == $e and .loop == $l) | .ratio] | first;
. as $r
| {
  jmh_5M_events_per_core: ([.jmh.benchmarks // [] | .[] | select(.name == "PipelineBenchmark.monitorKnown")] | first
     | if . == null then null else {value: .median, met: (.median >= 5000000)} end),
  jmh_zero_alloc_known_path: ([.jmh.benchmarks // [] | .[] | select(.name | test("monitorKnown|learningKnown|compiledMatch")) | .alloc_bytes_per_event]
     | if length == 0 then null else {value: max, met: (max < 0.1)} end),
  overhead_openclose_steady_5pct: ([.overhead.results // [] | .[] | select(.config == "monitor-supp-on" and .loop == "openclose")]
     | if length == 0 then null else {value: (map({(.env): .ratio}) | add), met: all(.ratio <= 1.05)} end),
  overhead_below_peers: ([.overhead.results // [] | .[] | select(.config == "monitor-supp-on")]
     | if length == 0 then null else
         (map(. as $m | {dw: $m.ratio, peers: [($r | ratio_of("auditd"; $m.env; $m.loop)), ($r | ratio_of("bpftrace"; $m.env; $m.loop)) | select(. != null)]}))
         | {met: (all(.peers | length == 2) and all(.dw < (.peers | min))),
            value: "agent below both peers in \(map(select((.peers | length == 2) and .dw < (.peers | min))) | length) of \(length) loop/env pairs"}
       end),
  zero_loss_200k: (.loss.max_zero_loss_rate | if . == null then null else {value: ., met: (. >= 200000)} end)
}
JQ
jq -f "$RUN_DIR/targets.jq" "$RUN_DIR/results.json" >"$RUN_DIR/targets.json"
jq --slurpfile t "$RUN_DIR/targets.json" '.targets = $t[0]' "$RUN_DIR/results.json" >"$RUN_DIR/results.json.tmp" \
  && mv "$RUN_DIR/results.json.tmp" "$RUN_DIR/results.json"

# ---- results.md ----
md() { [ -f "$1" ] && cat "$1" || echo "_not run or failed: see the section's log in the run directory_"; }
{
  echo "Run $(jq -r '.started' "$RUN_DIR/results.json") (git $(jq -r '.git' "$RUN_DIR/results.json")$([ "$SMOKE" = 1 ] && echo ', SMOKE: numbers meaningless')):"
  echo "$(jq -r '.machine | "\(.cpus) vCPUs (\(.cpu)), \(.mem_kb / 1048576 | floor) GiB, kernel \(.kernel), \(.java); load average before \(.loadavg_before), after \(.loadavg_after)"' "$RUN_DIR/results.json")."
  echo "The machine was shared with other engineers' test suites during the run ($(jq -r '.machine | "eBPF tracepoint attachments of other processes: \(.other_bpf_tracepoint_attachments_before) before, \(.other_bpf_tracepoint_attachments_after) after"' "$RUN_DIR/results.json"))."
  echo
  echo "#### Targets"
  echo
  jq -r '.targets | to_entries[] | "- \(.key): \(if .value == null then "not measured" elif .value.met then "**met**" else "**missed**" end)\(if .value.value != null then " (\(.value.value | tostring))" else "" end)"' "$RUN_DIR/results.json"
  echo
  echo "#### JMH (single thread = one core; events/s, median of all measurement iterations [min–max]; B/op = gc.alloc.rate.norm per event)"
  echo
  if jq -e '.jmh.benchmarks' "$RUN_DIR/results.json" >/dev/null 2>&1; then
    echo "| Benchmark | Events/s/core | Spread | B/event | Iterations |"
    echo "|---|---|---|---|---|"
    jq -r '.jmh.benchmarks[] | "| \(.name) | \(.median / 1e6 * 100 | round / 100)M | \(.min / 1e6 * 10 | round / 10)–\(.max / 1e6 * 10 | round / 10)M | \(.alloc_bytes_per_event | . * 1000 | round / 1000) | \(.iterations) (\(.forks) forks) |"' "$RUN_DIR/results.json"
  else
    echo "_$(jq -r '.jmh.skipped // "not run"' "$RUN_DIR/results.json")_"
  fi
  echo
  echo "#### Syscall overhead (ns/op: median [min–max] of $(jq -r '.overhead.reps // "?"' "$RUN_DIR/results.json") runs; ratio to no agent, whose median covers the runs before and after)"
  echo
  md "$RUN_DIR/overhead/overhead.md"
  echo
  jq -r '.overhead.iterations // {} | "Iterations per run: " + (to_entries | map("\(.key) \(.value)") | join(", ")) + "."' "$RUN_DIR/results.json"
  echo
  if jq -e '.overhead.agent' "$RUN_DIR/results.json" >/dev/null 2>&1; then
    echo "| Agent during the timed runs | Agent CPU s | BPF events received | Suppressed in kernel | Host-filtered in kernel | Lost | RSS MiB |"
    echo "|---|---|---|---|---|---|---|"
    jq -r '.overhead.agent[] | "| \(.config) | \(.agent_cpu_seconds) | \(.events_received) | \(.events_suppressed) | \(.events_host_filtered // 0) | \(.events_lost) | \(.agent_rss_kb / 1024 | floor) |"' "$RUN_DIR/results.json"
    echo
    jq -r '.overhead.agent[] | select(.events_received_by_kind != null) | "- \(.config): received by kind: " + (.events_received_by_kind | to_entries | sort_by(-.value) | map("\(.key) \(.value)") | join(", "))' "$RUN_DIR/results.json"
    echo
  fi
  jq -r '.overhead.notes // [] | .[] | "- " + .' "$RUN_DIR/results.json"
  echo
  echo "#### Event loss (opens on the host paced by \`loops openrate\`; agent with sources.bpf on)"
  echo
  md "$RUN_DIR/loss/loss.md"
  echo
  jq -r '"Highest rate held with zero loss: \(.loss.max_zero_loss_rate // "n/a") opens/s" + (if .loss.first_lossy then "; first loss at \(.loss.first_lossy.achieved_rate | floor)/s: \(.loss.first_lossy.events_lost) events (\(.loss.first_lossy.loss_ratio * 100)%)." else "; no step lost events." end)' "$RUN_DIR/results.json"
  echo
  echo "#### Latency (the agent's timers: kernel event time → deviation record; → kill completed)"
  echo
  md "$RUN_DIR/latency/latency.md"
  echo
  jq -r '.latency.kill // empty | "Fresh replicas whose start-up exec of their entrypoint was a deviation: \(.startup_deviations // "n/a") of \(.containers)."' "$RUN_DIR/results.json"
  echo
  echo "#### Footprint (agent process: VmRSS; CPU = utime+stime over the window)"
  echo
  md "$RUN_DIR/footprint/footprint.md"
  echo
  jq -r '.footprint | if . == null then empty else "Profile YAML of a service workload: \(.service_profile_yaml_bytes_median // "n/a") bytes (median of \(.service_profile_yaml_bytes | length) files)." end' "$RUN_DIR/results.json"
  echo
  jq -r '.sections[] | select(.rc != 0) | "- section \(.section) FAILED (rc \(.rc)); see \(.section).log"' "$RUN_DIR/results.json"
} >"$RUN_DIR/results.md"

if [ "$DOC" = 1 ] && [ -f "$ROOT/docs/benchmarks.md" ] && grep -q '<!-- bench:results:start -->' "$ROOT/docs/benchmarks.md"; then
  awk -v f="$RUN_DIR/results.md" '
    /<!-- bench:results:start -->/ {print; while ((getline l < f) > 0) print l; skip = 1; next}
    /<!-- bench:results:end -->/ {skip = 0}
    !skip {print}' "$ROOT/docs/benchmarks.md" >"$RUN_DIR/benchmarks.md.new" && cp "$RUN_DIR/benchmarks.md.new" "$ROOT/docs/benchmarks.md"
  blog "docs/benchmarks.md results section rewritten"
fi
cat "$RUN_DIR/results.md"
blog "results: $RUN_DIR/results.json, $RUN_DIR/results.md"
failed=$(jq '[.sections[] | select(.rc != 0)] | length' "$RUN_DIR/results.json")
[ "$failed" = 0 ] || bdie "$failed benchmark section(s) failed"
