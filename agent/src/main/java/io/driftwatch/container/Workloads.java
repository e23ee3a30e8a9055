package io.driftwatch.container;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Derives the owning workload of a pod. Pure. Pod labels decide when present
 * ({@code pod-template-hash} → Deployment, {@code statefulset.kubernetes.io/pod-name} →
 * StatefulSet, {@code controller-revision-hash} → DaemonSet, {@code job-name} → Job or CronJob);
 * otherwise the pod name's shape, as the controllers generate it:
 *
 * <pre>
 * web-7d4b9c6f8-x2x9q   Deployment web   (ReplicaSet hash, then a 5-char suffix, both from
 *                                         k8s' safe alphabet bcdfghjklmnpqrstvwxz2456789)
 * db-0                  StatefulSet db   (ordinal)
 * backup-28391040-x7k2p CronJob backup   (scheduled minute since epoch, then a 5-char suffix)
 * fluentd-x7k2p         unknown fluentd  (DaemonSet or Job: the name cannot tell them apart)
 * etcd-node1            Pod etcd-node1   (bare or static pod)
 * </pre>
 */
public final class Workloads {
    private static final Pattern SUFFIX = Pattern.compile("[bcdfghjklmnpqrstvwxz2456789]{5}");
    private static final Pattern LOOSE_SUFFIX = Pattern.compile("[a-z0-9]{5}");
    private static final Pattern RS_HASH = Pattern.compile("[bcdfghjklmnpqrstvwxz2456789]{6,10}");
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");

    private Workloads() {}

    /** @param name workload name, @param kind Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod or unknown */
    public record Workload(String name, String kind) {
        public static final Workload UNKNOWN = new Workload(ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN);
    }

    public static Workload derive(String pod, Map<String, String> labels) {
        if (pod == null || pod.isEmpty() || ContainerInfo.UNKNOWN.equals(pod)) return Workload.UNKNOWN;
        Map<String, String> l = labels == null ? Map.of() : labels;
        String hash = l.get("pod-template-hash");
        if (hash != null && !hash.isEmpty() && pod.contains("-" + hash + "-")) {
            return new Workload(pod.substring(0, pod.lastIndexOf("-" + hash + "-")), "Deployment");
        }
        String job = l.getOrDefault("batch.kubernetes.io/job-name", l.get("job-name"));
        if (job != null && !job.isEmpty()) {
            int dash = job.lastIndexOf('-');
            if (dash > 0 && DIGITS.matcher(job.substring(dash + 1)).matches() && job.length() - dash - 1 >= 8) {
                return new Workload(job.substring(0, dash), "CronJob");
            }
            return new Workload(job, "Job");
        }
        if (l.containsKey("statefulset.kubernetes.io/pod-name")) {
            int dash = pod.lastIndexOf('-');
            return new Workload(dash > 0 ? pod.substring(0, dash) : pod, "StatefulSet");
        }
        if (l.containsKey("controller-revision-hash") && l.containsKey("pod-template-generation")) {
            int dash = pod.lastIndexOf('-');
            return new Workload(dash > 0 ? pod.substring(0, dash) : pod, "DaemonSet");
        }
        return fromName(pod);
    }

    static Workload fromName(String pod) {
        String[] p = pod.split("-");
        int n = p.length;
        if (n >= 3 && LOOSE_SUFFIX.matcher(p[n - 1]).matches()) {
            String mid = p[n - 2];
            String prefix = join(p, n - 2);
            if (DIGITS.matcher(mid).matches() && (mid.length() >= 8 || !RS_HASH.matcher(mid).matches())) {
                return new Workload(prefix, "CronJob");
            }
            if (SUFFIX.matcher(p[n - 1]).matches() && RS_HASH.matcher(mid).matches()) {
                return new Workload(prefix, "Deployment");
            }
        }
        if (n >= 2 && DIGITS.matcher(p[n - 1]).matches() && p[n - 1].length() <= 5) {
            return new Workload(join(p, n - 1), "StatefulSet");
        }
        if (n >= 2 && SUFFIX.matcher(p[n - 1]).matches()) {
            return new Workload(join(p, n - 1), ContainerInfo.UNKNOWN);
        }
        return new Workload(pod, "Pod");
    }

    private static String join(String[] parts, int count) {
        return String.join("-", java.util.Arrays.asList(parts).subList(0, count));
    }
}
