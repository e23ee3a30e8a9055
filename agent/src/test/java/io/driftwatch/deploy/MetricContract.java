package io.driftwatch.deploy;

import java.util.Map;

/**
 * The agent's Prometheus metrics that alert rules and the dashboard may use (DESIGN.md,
 * "Metrics"; docs/deploy.md lists them with their labels). A rule or panel that uses another
 * driftwatch_ name is a typo or an undocumented metric.
 */
final class MetricContract {
    private MetricContract() {}

    /** Prometheus name → labels (besides job and instance). */
    static final Map<String, String> METRICS = Map.ofEntries(
            Map.entry("driftwatch_build_info", "version, java"),
            Map.entry("driftwatch_deviations_total", "namespace, workload, kind, action"),
            Map.entry("driftwatch_actions_total", "action, result"),
            Map.entry("driftwatch_events_total", "source, kind"),
            Map.entry("driftwatch_events_lost_total", "source, reason"),
            Map.entry("driftwatch_profiles", "state"),
            Map.entry("driftwatch_profile_confidence", "namespace, workload, dimension"),
            Map.entry("driftwatch_source_info", "source, state"),
            Map.entry("driftwatch_pipeline_lag_seconds", ""),
            Map.entry("driftwatch_pipeline_queue_depth", ""),
            Map.entry("driftwatch_pipeline_commands_dropped_total", ""),
            Map.entry("driftwatch_ready", ""));

    /** Series Prometheus makes itself for every target. */
    static final java.util.Set<String> PROMETHEUS = java.util.Set.of("up", "scrape_duration_seconds",
            "scrape_samples_scraped");
}
