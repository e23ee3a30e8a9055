#!/usr/bin/env bash
# Driftwatch e2e: turns one run directory into results.json and results.md.
#
#   bench/e2e/report.sh RUN_DIR
#
# Inputs (written by run.sh): run.json, containers.jsonl, phases.jsonl, loads.jsonl, maint.jsonl,
# attacks.jsonl, observed.tsv (arrival time in ms <TAB> one deviation record from deviations.file).
# A deviation is attributed to a workload by container_id (or pod + container name), to a phase
# by its arrival time, and to an attack when it comes from the attacked container between the
# attack's start and the next attack in that container (at most 15 s later); a deviation of the
# technique's expected kind and value counts as its precise signal up to 30 s late. Everything else
# during the attack phase is an unrelated (false) alert.
set -euo pipefail
RUN="${1:?usage: report.sh RUN_DIR}"
cd "$RUN"
for f in containers.jsonl phases.jsonl loads.jsonl maint.jsonl attacks.jsonl; do [ -e "$f" ] || : > "$f"; done
[ -e observed.tsv ] || : > observed.tsv

jq -R -c 'split("\t") | select(length >= 2) | {arrival_ms: (.[0] | tonumber), rec: (.[1:] | join("\t") | fromjson?)}
          | select(.rec != null)' observed.tsv > observed.jsonl

jq -n \
  --slurpfile run run.json \
  --slurpfile ctrs containers.jsonl \
  --slurpfile phases phases.jsonl \
  --slurpfile loads loads.jsonl \
  --slurpfile maint maint.jsonl \
  --slurpfile attacks attacks.jsonl \
  --slurpfile devs observed.jsonl '
  def owner($d): first($ctrs[] | select(.container_id == $d.rec.container_id
                      or (.pod == $d.rec.pod and .container == $d.rec.container)) | .workload) // null;
  def ph($t): ([$phases[] | select(.event == "begin" and .time_ms <= $t)] | last | .phase) as $p |
              ([$phases[] | select(.event == "end" and .phase == $p)] | first | .time_ms) as $e |
              if $p == null then "start-up" elif ($e != null and $t > $e) then "after " + $p else $p end;
  def brief($d): {kind: $d.rec.kind, value: $d.rec.value, exe: $d.rec.exe, parent_exe: $d.rec.parent_exe,
                  comm: $d.rec.comm, action: $d.rec.action, profile_state: $d.rec.profile_state};
  def causes($ds): [$ds | group_by([.rec.kind, .rec.value, .rec.exe, .rec.parent_exe])[]
                    | (brief(.[0]) + {count: length})] | sort_by(-.count);
  # only deviations of the containers this harness started; other containers on the node are not judged
  ([$devs[] | . + {workload: owner(.), phase: ph(.arrival_ms)} | select(.workload != null)]) as $D |
  ($attacks | sort_by(.start_ms)) as $A |
  ([$phases[] | select(.phase == "attacks" and .event == "end") | .time_ms] | first // 9e15) as $attack_end |
  # an attack window: from its start to the next attack in the same container, at most 15 s;
  # a precise match (expected kind and value) may arrive up to 30 s late
  [range(0; $A | length) as $i | $A[$i] as $a |
    ([$A[$i + 1:][] | select(.workload == $a.workload) | .start_ms] | first // $attack_end) as $next |
    $a + {window_end_ms: ([$next, $a.start_ms + 15000, $attack_end] | min),
          late_end_ms: ([$a.start_ms + 30000, $attack_end] | min)}] as $AW |
  def pm($d; $b): $b.workload == $d.workload and $d.arrival_ms >= $b.start_ms and $d.arrival_ms < $b.late_end_ms
                  and ($d.rec.kind as $k | $b.expect_kinds | index($k)) and (($d.rec.value // "") | test($b.expect_value));
  ($run[0] // {}) as $R |
  {
    run: $R,
    containers: $ctrs,
    deviations_total: ($D | length),
    deviations_by_phase: ($D | group_by(.phase) | map({key: .[0].phase, value: length}) | from_entries),
    workloads: [$ctrs[] | .workload as $w | {
      workload: $w, container_id, pod, container, image,
      loads: [$loads[] | select(.workload == $w)],
      maintenance: [$maint[] | select(.workload == $w)],
      learned_maintenance: [$maint[] | select(.workload == $w and .phase == "learning" and .rc == 0) | .op | select(startswith("wait for") | not)] | unique,
      requests: {
        learning: ([$loads[] | select(.workload == $w and .phase == "learning") | .requests] | add // 0),
        benign: ([$loads[] | select(.workload == $w and .phase == "benign") | .requests] | add // 0)},
      errors: ([$loads[] | select(.workload == $w) | .errors] | add // 0),
      failed_steps: ([$loads[], $maint[] | select(.workload == $w and .rc != 0)] | length),
      deviations_learning: [$D[] | select(.workload == $w and .phase == "learning")] | length,
      false_positives: [$D[] | select(.workload == $w and (.phase == "benign" or .phase == "after learning"))] | length,
      false_positive_causes: causes([$D[] | select(.workload == $w and (.phase == "benign" or .phase == "after learning"))])
    }],
    attacks: [$AW[] | . as $a |
      [$D[] | select(.workload == $a.workload and .arrival_ms >= $a.start_ms and .arrival_ms < $a.window_end_ms)
            | . as $d | select(pm($d; $a) or ([$AW[] | select(.technique != $a.technique or .start_ms != $a.start_ms) | select(pm($d; .))] | length == 0))] as $in |
      [$D[] | select(.workload == $a.workload and .arrival_ms >= $a.start_ms and .arrival_ms < $a.late_end_ms)
            | select((.rec.kind as $k | $a.expect_kinds | index($k)) and ((.rec.value // "") | test($a.expect_value)))] as $match |
      $a + {
        detected: (($in | length) > 0 or ($match | length) > 0),
        precise: (($match | length) > 0),
        deviations_in_window: ($in | length),
        first_deviation: (if ($in | length) > 0 then brief($in[0]) else null end),
        matching_deviation: (if ($match | length) > 0 then brief($match[0]) else null end),
        time_to_alert_ms: (if ($in | length) > 0 then $in[0].arrival_ms - $a.start_ms else null end),
        time_to_precise_alert_ms: (if ($match | length) > 0 then $match[0].arrival_ms - $a.start_ms else null end),
        window_deviations: causes($in)
      }],
    false_alerts_during_attacks: causes([$D[] | select(.phase == "attacks") | . as $d |
      select([$AW[] | select(($d.workload == .workload and $d.arrival_ms >= .start_ms and $d.arrival_ms < .window_end_ms) or pm($d; .))]
             | length == 0)]),
    unattributed_deviations: causes([$D[] | select(.workload == null)])
  }' > results.json

# ---- Markdown ---------------------------------------------------------------------------------
jq -r '
  def yn: if . then "yes" else "no" end;
  def ms: if . == null then "–" else tostring end;
  def dv: if . == null then "–" else "`" + .kind + " " + (.value // "") + "`" end;
  def esc: tostring | gsub("\\|"; "\\|") | gsub("\n"; " ");
  "Run `" + (.run.tag // "?") + "` (" + (.run.mode // "?") + ", commit " + (.run.commit // "?") + ", kernel " + (.run.kernel // "?") + ")",
  "",
  "Learning: " + (.run.learning_status // "?") + "; phase timings (s): " + ((.run.timings_s // {}) | to_entries | map(.key + " " + (.value | tostring)) | join(", ")) + ".",
  "Deviation records: " + (.deviations_total | tostring) + (if .deviations_total > 0 then " (" + (.deviations_by_phase | to_entries | map(.key + ": " + (.value | tostring)) | join(", ")) + ")" else "" end) + ".",
  "Agent: sources " + ((.run.agent.sources // []) | map(.source + " " + .state) | if length == 0 then "none" else join(", ") end)
     + "; `/api/v1/containers` (HTTP " + (.run.agent.containers_api_http // "?") + ") listed " + ((.run.agent.containers_listed // []) | length | tostring) + " of " + (.containers | length | tostring) + " containers"
     + "; `/api/v1/profiles` HTTP " + (.run.agent.profiles_api_http // "?") + "; `/api/v1/deviations` HTTP " + (.run.agent.deviations_api_http // "?") + ".",
  "",
  "**Summary:** techniques executed " + ([.attacks[] | select(.executed)] | length | tostring) + "/" + (.attacks | length | tostring)
     + ", detected " + ([.attacks[] | select(.detected)] | length | tostring) + ", with the precise signal " + ([.attacks[] | select(.precise)] | length | tostring)
     + "; false positives in the benign replay " + ([.workloads[].false_positives] | add // 0 | tostring)
     + "; false alerts during the attacks " + ([.false_alerts_during_attacks[].count] | add // 0 | tostring)
     + "; requests served " + ([.workloads[].requests.learning, .workloads[].requests.benign] | add // 0 | tostring) + " with " + ([.workloads[].errors] | add // 0 | tostring) + " errors.",
  "",
  "### Benign workloads (false positives)",
  "",
  "| Workload | Requests (learning / replay) | Errors | Failed steps | Maintenance also run while learning | Deviations during replay | Causes |",
  "|---|---|---|---|---|---|---|",
  (.workloads[] | "| " + .workload + " (`" + .image + "`) | " + (.requests.learning | tostring) + " / " + (.requests.benign | tostring)
     + " | " + (.errors | tostring) + " | " + (.failed_steps | tostring) + " | " + (.learned_maintenance | join(", ") | esc)
     + " | " + (.false_positives | tostring) + " | "
     + (if (.false_positive_causes | length) == 0 then "–" else (.false_positive_causes[:5] | map("`" + .kind + " " + (.value // "") + "` ×" + (.count | tostring) + " (" + (.exe // "?") + ")") | join("; ") | esc) end) + " |"),
  "",
  "Load steps:",
  "",
  "| Workload | Phase | Step | Tool | Requests | Errors | Non-2xx | Exit |",
  "|---|---|---|---|---|---|---|---|",
  (.workloads[] | .loads[] | "| " + .workload + " | " + .phase + " | " + .step + " | `" + .tool + "` | " + (.requests | tostring) + " | " + (.errors | tostring) + " | " + (.non2xx | tostring) + " | " + (.rc | tostring) + " |"),
  "",
  "### Attack techniques",
  "",
  "| Technique | Container | Via | Executed (proof) | Detected | Precise signal | First deviation | Time to alert (ms) |",
  "|---|---|---|---|---|---|---|---|",
  (.attacks[] | "| " + .technique + " | " + .workload + " | " + .via + " | " + (.executed | yn) + ": " + ((.outcome + "; " + .proof) | .[:110] | esc)
     + " | " + (.detected | yn) + " | " + (.precise | yn) + " " + (.matching_deviation | dv) + " | " + (.first_deviation | dv) + " | "
     + (.time_to_precise_alert_ms // .time_to_alert_ms | ms) + " |"),
  "",
  "False alerts during the attack phase (outside any attack window): " + (.false_alerts_during_attacks | length | tostring)
     + (if (.false_alerts_during_attacks | length) > 0 then " — " + (.false_alerts_during_attacks[:5] | map("`" + .kind + " " + (.value // "") + "` ×" + (.count | tostring)) | join(", ")) else "" end) + "."
' results.json > results.md
cat results.md
