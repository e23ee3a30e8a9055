package io.driftwatch.profile;

import io.driftwatch.bridge.Hashing;
import io.driftwatch.container.ContainerInfo;

/**
 * Which profile a container belongs to ({@code profiles.key}):
 *
 * <ul>
 *   <li>{@code workload} (default): Kubernetes {@code namespace/workload/container} (the pod name
 *       stands in for the workload when the owner is not known: bare pods keep their name across
 *       restarts); outside Kubernetes the {@code image} key.</li>
 *   <li>{@code image}: {@code repository:container-name}, the image repository without tag or
 *       digest (so new image versions continue the same profile; each entry records the digest
 *       that produced it).</li>
 *   <li>{@code container}: the container id; every container, and every restart, learns alone.</li>
 * </ul>
 *
 * When the image repository is not known either, the container id is used: unrelated containers
 * must never share a baseline. Keys are sanitised (control characters replaced) and bounded
 * ({@value #MAX_KEY} characters; longer keys are cut and suffixed with a hash of the whole key).
 *
 * @param namespace,workload,container the metric labels of the profile (namespace is "" outside Kubernetes)
 */
public record ProfileKey(String key, String namespace, String workload, String container) {
    public static final int MAX_KEY = 512;
    static final int MAX_FILE_STEM = 80;

    public ProfileKey {
        key = bound(clean(key));
        namespace = bound(clean(namespace));
        workload = bound(clean(workload));
        container = bound(clean(container));
        if (key.isEmpty()) throw new IllegalArgumentException("empty profile key");
    }

    /** The profile key of a container under grouping {@code mode} (workload, image or container). */
    public static ProfileKey of(ContainerInfo info, String mode) {
        String name = known(info.container()) ? info.container() : "unknown";
        String repo = info.imageRepository();
        boolean k8s = info.isKubernetes();
        switch (mode) {
            case "container":
                return new ProfileKey(info.id(), k8s ? info.namespace() : "", known(repo) ? repo : info.shortId(), name);
            case "workload":
                if (k8s) {
                    String wl = known(info.workload()) ? info.workload() : info.pod();
                    return new ProfileKey(info.namespace() + "/" + wl + "/" + name, info.namespace(), wl, name);
                }
                return imageKey(info, repo, name); // outside Kubernetes the workload is the image
            case "image":
                return imageKey(info, repo, name);
            default:
                throw new IllegalArgumentException("unknown profiles.key mode '" + mode + "'");
        }
    }

    private static ProfileKey imageKey(ContainerInfo info, String repo, String name) {
        if (!known(repo)) return new ProfileKey(info.id(), "", info.shortId(), name);
        return new ProfileKey(repo + ":" + name, "", repo, name);
    }

    private static boolean known(String s) {
        return s != null && !s.isEmpty() && !ContainerInfo.UNKNOWN.equals(s);
    }

    private static String clean(String s) {
        if (s == null) return "";
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean bad = c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || Character.isSurrogate(c) || c == 0x2028
                    || c == 0x2029 || c == 0xfeff;
            if (bad && sb == null) sb = new StringBuilder(s.length()).append(s, 0, i);
            if (sb != null) sb.append(bad ? '?' : c);
        }
        return sb == null ? s : sb.toString();
    }

    private static String bound(String s) {
        if (s.length() <= MAX_KEY) return s;
        return s.substring(0, MAX_KEY - 17) + "~" + Long.toHexString(Hashing.hash(s) >>> 1 | 1L << 62);
    }

    /**
     * File name of the profile: a readable stem (characters outside {@code [A-Za-z0-9._-]}
     * become '_', no "..", no leading '.', at most 80 characters) plus 12 hex digits of a hash of
     * the whole key, so different keys never share a file. Not reversible: the key is inside the file.
     */
    public String fileName() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.length() && sb.length() < MAX_FILE_STEM; i++) {
            char c = key.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '_' || (c == '.' && sb.length() > 0 && sb.charAt(sb.length() - 1) != '.');
            sb.append(ok ? c : '_');
        }
        String h = String.format("%012x", Hashing.hash(key) & 0xffff_ffff_ffffL);
        return sb + "-" + h + ".yaml";
    }

    @Override
    public String toString() {
        return key;
    }
}
