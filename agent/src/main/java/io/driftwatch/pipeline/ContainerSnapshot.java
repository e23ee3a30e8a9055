package io.driftwatch.pipeline;

import io.driftwatch.container.ContainerInfo;
import java.util.LinkedHashMap;
import java.util.Map;

/** Immutable view of a container for the HTTP side. */
public record ContainerSnapshot(ContainerInfo info, long cgroupId, int initPid, int processes, long events,
        long startedMillis, String profileKey) {

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>(info.toMap());
        m.put("cgroup_id", cgroupId);
        m.put("init_pid", initPid);
        m.put("processes", processes);
        m.put("events", events);
        m.put("started", java.time.Instant.ofEpochMilli(startedMillis).toString());
        if (profileKey != null) m.put("profile", profileKey);
        return m;
    }
}
