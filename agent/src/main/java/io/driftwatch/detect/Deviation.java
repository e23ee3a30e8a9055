package io.driftwatch.detect;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One deviation: behaviour of a container outside its profile. The fields are the contract of
 * the deviation record (docs/deviations.md); {@link #toMap()} gives the JSON line.
 *
 * @param kind         exec | file | listen | connect | accept
 * @param value        path, {@code proto:port} or {@code proto:addr:port}
 * @param detail       extra context (file access mode, dimension, argv ...), may be empty
 * @param action       alert | freeze | kill | deny (what the responder does or would do)
 * @param count        occurrences aggregated into this record (1 for a first occurrence)
 */
public record Deviation(Instant time, String node, String containerId, String namespace, String pod, String container,
        String workload, String image, String kind, String value, int pid, String comm, String exe, String parentExe,
        String profileState, String action, String profileKey, Map<String, Object> detail, long count,
        Instant firstSeen) {

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", time.toString());
        m.put("node", node);
        m.put("container_id", containerId);
        m.put("namespace", namespace);
        m.put("pod", pod);
        m.put("container", container);
        m.put("workload", workload);
        m.put("image", image);
        m.put("kind", kind);
        m.put("value", value);
        m.put("pid", pid);
        m.put("comm", comm);
        m.put("exe", exe);
        m.put("parent_exe", parentExe);
        m.put("profile_state", profileState);
        m.put("action", action);
        m.put("profile", profileKey);
        m.put("count", count);
        m.put("first_seen", firstSeen.toString());
        if (detail != null && !detail.isEmpty()) m.putAll(detail);
        return m;
    }

    public Deviation withCount(long n, Instant last) {
        return new Deviation(last, node, containerId, namespace, pod, container, workload, image, kind, value, pid, comm,
                exe, parentExe, profileState, action, profileKey, detail, n, firstSeen);
    }

    public Deviation withAction(String a) {
        return new Deviation(time, node, containerId, namespace, pod, container, workload, image, kind, value, pid, comm,
                exe, parentExe, profileState, a, profileKey, detail, count, firstSeen);
    }
}
