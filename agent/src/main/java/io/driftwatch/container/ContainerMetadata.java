package io.driftwatch.container;

import static io.driftwatch.container.ContainerInfo.UNKNOWN;

import io.driftwatch.container.CgroupPaths.Match;
import io.driftwatch.container.RuntimeStateReader.RuntimeState;
import io.driftwatch.json.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a {@link ContainerInfo} from a cgroup match and the runtime's OCI annotations. Pure.
 * Annotation keys, first present wins:
 *
 * <pre>
 * namespace  io.kubernetes.cri.sandbox-namespace (containerd) | io.kubernetes.pod.namespace (cri-dockerd, CRI-O)
 * pod        io.kubernetes.cri.sandbox-name | io.kubernetes.pod.name
 * pod uid    io.kubernetes.cri.sandbox-uid | io.kubernetes.pod.uid | the kubepods cgroup path
 * container  io.kubernetes.cri.container-name | io.kubernetes.container.name
 *            | CRI-O io.kubernetes.cri-o.Labels JSON | io.kubernetes.cri-o.ContainerName (k8s_NAME_POD_NS_UID_N)
 *            | the runc id (plain runc, no Kubernetes)
 * image      io.kubernetes.cri.image-name | io.kubernetes.cri-o.ImageName | io.kubernetes.cri-o.Image
 *            | org.opencontainers.image.ref.name
 * digest     io.kubernetes.cri-o.ImageRef, or the @sha256: part of the image
 * </pre>
 *
 * Absent values are {@link ContainerInfo#UNKNOWN}, never null.
 */
public final class ContainerMetadata {
    private static final Pattern K8S_NAME = Pattern.compile("k8s_([^_]+)_([^_]+)_([^_]+)_([^_]+)_\\d+");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private ContainerMetadata() {}

    public static ContainerInfo info(Match match, RuntimeState state) {
        Map<String, String> a = state == null ? Map.of() : state.annotations();
        Map<String, String> crioLabels = jsonMap(a.get("io.kubernetes.cri-o.Labels"));
        String[] k8sName = k8sName(a.get("io.kubernetes.cri-o.ContainerName"));

        String namespace = first(a.get("io.kubernetes.cri.sandbox-namespace"), a.get("io.kubernetes.pod.namespace"),
                crioLabels.get("io.kubernetes.pod.namespace"), k8sName == null ? null : k8sName[2]);
        String pod = first(a.get("io.kubernetes.cri.sandbox-name"), a.get("io.kubernetes.pod.name"),
                crioLabels.get("io.kubernetes.pod.name"), k8sName == null ? null : k8sName[1]);
        String podUid = first(a.get("io.kubernetes.cri.sandbox-uid"), a.get("io.kubernetes.pod.uid"),
                crioLabels.get("io.kubernetes.pod.uid"), k8sName == null ? null : k8sName[3], match.podUid());
        String runtime = runtime(match, state, a);
        String container = first(a.get("io.kubernetes.cri.container-name"), a.get("io.kubernetes.container.name"),
                crioLabels.get("io.kubernetes.container.name"), k8sName == null ? null : k8sName[0],
                "runc".equals(runtime) && pod == null ? match.id() : null);
        if ("sandbox".equals(a.get("io.kubernetes.cri.container-type"))
                || "sandbox".equals(a.get("io.kubernetes.cri-o.ContainerType"))) {
            container = first(container, "POD");
        }
        String image = first(a.get("io.kubernetes.cri.image-name"), a.get("io.kubernetes.cri-o.ImageName"),
                a.get("io.kubernetes.cri-o.Image"), a.get("org.opencontainers.image.ref.name"));
        String digest = digest(first(a.get("io.kubernetes.cri-o.ImageRef"), image));

        Map<String, String> labels = new LinkedHashMap<>(crioLabels);
        for (Map.Entry<String, String> e : a.entrySet()) labels.putIfAbsent(e.getKey(), e.getValue());
        Workloads.Workload w = pod == null ? Workloads.Workload.UNKNOWN : Workloads.derive(pod, labels);

        return new ContainerInfo(match.id(), runtime, match.path(), orUnknown(namespace), orUnknown(pod),
                orUnknown(podUid), orUnknown(container), orUnknown(image), orUnknown(digest), w.name(), w.kind(),
                state == null || state.bundle() == null ? null : state.bundle().toString());
    }

    private static String runtime(Match match, RuntimeState state, Map<String, String> a) {
        if (!UNKNOWN.equals(match.runtime()) && !"runc".equals(match.runtime())) return match.runtime();
        if (a.keySet().stream().anyMatch(k -> k.startsWith("io.kubernetes.cri-o."))) return "cri-o";
        if (state != null) return state.runtime();
        return match.runtime();
    }

    static String digest(String ref) {
        if (ref == null) return null;
        Matcher m = DIGEST.matcher(ref);
        return m.find() ? m.group() : null;
    }

    static String[] k8sName(String s) {
        if (s == null) return null;
        Matcher m = K8S_NAME.matcher(s);
        return m.matches() ? new String[] {m.group(1), m.group(2), m.group(3), m.group(4)} : null;
    }

    static Map<String, String> jsonMap(String json) {
        Map<String, String> out = new LinkedHashMap<>();
        if (json == null || json.isBlank()) return out;
        try {
            for (Map.Entry<String, Object> e : Json.parseObject(json).entrySet()) {
                if (e.getValue() != null) out.put(e.getKey(), String.valueOf(e.getValue()));
            }
        } catch (IllegalArgumentException e) {
            // malformed label JSON: no labels
        }
        return out;
    }

    private static String first(String... values) {
        for (String v : values) if (v != null && !v.isBlank()) return v;
        return null;
    }

    private static String orUnknown(String s) {
        return s == null || s.isBlank() ? UNKNOWN : s;
    }
}
