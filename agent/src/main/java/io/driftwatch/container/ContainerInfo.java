package io.driftwatch.container;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What is known about one container: identity from its cgroup path, metadata from the
 * runtime's OCI state. Absent metadata is {@link #UNKNOWN}, never null. Immutable.
 *
 * @param id           full container id (64 hex for most runtimes; runc's own id otherwise)
 * @param runtime      docker, containerd, cri-o, podman, runc, or unknown
 * @param cgroupPath   the container's cgroup path (v2 path, or the v1 path on v1 hosts)
 * @param namespace    Kubernetes namespace
 * @param pod          Kubernetes pod name
 * @param podUid       Kubernetes pod UID
 * @param container    container name (Kubernetes container name, or the runtime's name)
 * @param image        image reference (repository[:tag][@digest])
 * @param imageDigest  image digest (sha256:...)
 * @param workload     owning workload (Deployment, StatefulSet, DaemonSet, Job, CronJob) name
 * @param workloadKind kind of the workload, or unknown
 * @param bundle       OCI bundle directory, when known
 */
public record ContainerInfo(String id, String runtime, String cgroupPath, String namespace, String pod, String podUid,
        String container, String image, String imageDigest, String workload, String workloadKind, String bundle) {

    public static final String UNKNOWN = "unknown";

    public boolean isKubernetes() {
        return !UNKNOWN.equals(namespace) && !UNKNOWN.equals(pod);
    }

    /** Short id (12 characters) for logs. */
    public String shortId() {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    /** Image repository without tag or digest ("registry/ns/name"). */
    public String imageRepository() {
        return imageRepository(image);
    }

    public static String imageRepository(String image) {
        if (image == null || UNKNOWN.equals(image)) return UNKNOWN;
        String s = image;
        int at = s.indexOf('@');
        if (at >= 0) s = s.substring(0, at);
        int slash = s.lastIndexOf('/');
        int colon = s.lastIndexOf(':');
        if (colon > slash) s = s.substring(0, colon);
        return s;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("runtime", runtime);
        m.put("cgroup_path", cgroupPath);
        m.put("namespace", namespace);
        m.put("pod", pod);
        m.put("pod_uid", podUid);
        m.put("container", container);
        m.put("image", image);
        m.put("image_digest", imageDigest);
        m.put("workload", workload);
        m.put("workload_kind", workloadKind);
        return m;
    }
}
