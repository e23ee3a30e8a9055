package io.driftwatch.container;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cgroup path → container id and runtime. Pure. Components are examined from the leaf up, so
 * nested layouts ({@code docker-<id>.scope/init.scope}) resolve to the container. Layouts:
 *
 * <pre>
 * docker     /system.slice/docker-ID.scope            /docker/ID
 * containerd /system.slice/cri-containerd-ID.scope    /NS/ID              (ctr, nerdctl: NS = default, k8s.io)
 * CRI-O      /machine.slice/crio-ID.scope             /kubepods/.../crio-ID   (crio-conmon-ID: excluded)
 * podman     /machine.slice/libpod-ID.scope           /libpod_parent/libpod-ID  (libpod-conmon-ID: excluded)
 * runc       /ID  (any runc id; v1 memory may nest it under the caller's cgroup: /a/b/ID)
 * kubepods   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUID.slice/cri-containerd-ID.scope
 *            /kubepods/burstable/podUID/ID   /kubepods/podUID/ID (guaranteed)
 * </pre>
 *
 * A match whose layout names the runtime is {@code confirmed}; a bare id ({@code /ID}, a 64-hex
 * leaf under an unknown parent) is only a candidate that the runtime's state must confirm, so a
 * host cgroup like {@code /init.scope} or {@code /process_api/abc} is never taken for a container.
 */
public final class CgroupPaths {
    private static final Pattern PREFIXED = Pattern.compile("(docker|cri-containerd|crio|libpod)-([0-9a-f]{64})(?:\\.scope)?");
    private static final Pattern CONMON = Pattern.compile("(?:crio|libpod)-conmon-.*");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern POD = Pattern.compile(
            "(?:kubepods(?:-(?:burstable|besteffort|guaranteed))?-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\\.slice)?");
    private static final Pattern RUNC_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}");

    private CgroupPaths() {}

    /**
     * @param id        container id as the runtime knows it
     * @param runtime   docker, containerd, cri-o, podman, runc or unknown (then the state decides)
     * @param podUid    Kubernetes pod UID from a kubepods path, or null
     * @param confirmed true when the layout itself identifies a container
     * @param path      the cgroup path matched
     */
    public record Match(String id, String runtime, String podUid, boolean confirmed, String path) {}

    /** The container of one cgroup path, or null for host cgroups and excluded ones (conmon). */
    public static Match parse(String path) {
        if (path == null || path.isEmpty() || path.length() > 4096) return null;
        String[] comps = path.split("/");
        int last = comps.length - 1;
        while (last >= 0 && comps[last].isEmpty()) last--;
        if (last < 0) return null;
        String podUid = null;
        boolean kubepods = false;
        for (int i = 0; i <= last; i++) {
            if (comps[i].startsWith("kubepods")) kubepods = true;
            Matcher pm = POD.matcher(comps[i]);
            if (pm.matches() && (kubepods || comps[i].endsWith(".slice"))) podUid = pm.group(1).replace('_', '-');
        }
        for (int i = last; i >= 0; i--) {
            String c = comps[i];
            if (c.isEmpty()) continue;
            if (CONMON.matcher(c).matches()) return null;
            Matcher m = PREFIXED.matcher(c);
            if (m.matches()) return new Match(m.group(2), runtimeOfPrefix(m.group(1)), podUid, true, path);
            if (HEX64.matcher(c).matches()) {
                String parent = parentOf(comps, i);
                if ("docker".equals(parent)) return new Match(c, "docker", podUid, true, path);
                if (podUid != null) return new Match(c, ContainerInfo.UNKNOWN, podUid, true, path);
                if (parent != null && isTopLevel(comps, i - 1) && !parent.endsWith(".slice")) {
                    return new Match(c, "containerd", null, true, path); // /<namespace>/<id>
                }
                return new Match(c, ContainerInfo.UNKNOWN, null, false, path);
            }
        }
        // no runtime layout anywhere on the path: the leaf may be a plain runc id (to be confirmed)
        String leaf = comps[last];
        if (kubepods) return null; // kubepods.slice, pod slices: not containers
        String lower = leaf.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".scope") || lower.endsWith(".slice") || lower.endsWith(".service")
                || lower.endsWith(".mount") || lower.endsWith(".socket")) {
            return null; // systemd units
        }
        if (RUNC_ID.matcher(leaf).matches() && !leaf.equals(".") && !leaf.equals("..")) {
            return new Match(leaf, "runc", null, false, path);
        }
        return null;
    }

    /** The best match over a process's cgroup paths (in preference order): first confirmed, else first candidate. */
    public static Match best(List<String> paths) {
        Match candidate = null;
        for (String p : paths) {
            Match m = parse(p);
            if (m == null) continue;
            if (m.confirmed()) return m;
            if (candidate == null) candidate = m;
        }
        return candidate;
    }

    private static String runtimeOfPrefix(String prefix) {
        switch (prefix) {
            case "docker": return "docker";
            case "cri-containerd": return "containerd";
            case "crio": return "cri-o";
            default: return "podman";
        }
    }

    private static String parentOf(String[] comps, int i) {
        for (int j = i - 1; j >= 0; j--) if (!comps[j].isEmpty()) return comps[j];
        return null;
    }

    private static boolean isTopLevel(String[] comps, int i) {
        if (i < 0 || comps[i].isEmpty()) return false;
        for (int j = i - 1; j >= 0; j--) if (!comps[j].isEmpty()) return false;
        return true;
    }
}
