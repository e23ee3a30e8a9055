package io.driftwatch.profile;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An immutable view of one profile for other threads (HTTP, CLI): published by the pipeline
 * thread through a volatile field, never mutated afterwards.
 *
 * @param confidence per dimension tag ({@code exec}, {@code file_read} ...) 0..1
 * @param document   the profile as in its YAML file (ordered maps/lists/scalars), refreshed at
 *                   most every few seconds while counters move
 * @param approxBytes approximate heap bytes the profile takes in the agent
 */
public record ProfileSnapshot(String key, String namespace, String workload, String container, String mode,
        String state, String file, int entries, int tombstones, long observations, long approxBytes,
        Map<String, Double> confidence, Map<String, Object> document, long documentTimeMs) {

    /** The summary served by GET /api/v1/profiles. */
    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key);
        m.put("namespace", namespace);
        m.put("workload", workload);
        m.put("container", container);
        m.put("mode", mode);
        m.put("state", state);
        if (file != null) m.put("file", file);
        m.put("entries", entries);
        m.put("tombstones", tombstones);
        m.put("observations", observations);
        m.put("approx_bytes", approxBytes);
        m.put("confidence", confidence);
        return m;
    }

    /** The full view served by GET /api/v1/profiles/{key}: the summary plus the profile document. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = summary();
        m.put("document_time", ProfileWriter.formatTime(documentTimeMs));
        m.put("profile", document);
        return m;
    }
}
