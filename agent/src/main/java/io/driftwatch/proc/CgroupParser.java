package io.driftwatch.proc;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses {@code /proc/<pid>/cgroup}: lines {@code hierarchy-ID:controller-list:path}. Hierarchy
 * 0 with an empty controller list is the v2 (unified) hierarchy; {@code name=systemd} is a
 * named v1 hierarchy. Pure; malformed lines are skipped. Like procfs's parseCgroupString.
 */
public final class CgroupParser {
    private CgroupParser() {}

    /**
     * @param hierarchy   hierarchy id (0 = unified)
     * @param controllers controllers of the hierarchy (empty for unified; "name=systemd" kept as is)
     * @param path        cgroup path relative to the hierarchy's root (starts with '/')
     */
    public record CgroupLine(int hierarchy, List<String> controllers, String path) {
        public boolean unified() {
            return hierarchy == 0 && controllers.isEmpty();
        }

        public boolean has(String controller) {
            return controllers.contains(controller);
        }
    }

    public static List<CgroupLine> parse(String text) {
        List<CgroupLine> out = new ArrayList<>();
        if (text == null) return out;
        for (String line : text.split("\n")) {
            if (line.isEmpty()) continue;
            int a = line.indexOf(':');
            int b = a < 0 ? -1 : line.indexOf(':', a + 1);
            if (a <= 0 || b < 0) continue;
            int id;
            try {
                id = Integer.parseInt(line.substring(0, a));
            } catch (NumberFormatException e) {
                continue;
            }
            String ctrl = line.substring(a + 1, b);
            String path = line.substring(b + 1); // may itself contain ':'
            if (!path.startsWith("/")) continue;
            List<String> controllers = ctrl.isEmpty() ? List.of() : List.of(ctrl.split(","));
            out.add(new CgroupLine(id, controllers, path));
        }
        return out;
    }

    /** The unified (v2) path, or null when the process has no v2 line. */
    public static String unifiedPath(List<CgroupLine> lines) {
        for (CgroupLine l : lines) if (l.unified()) return l.path();
        return null;
    }

    /** The path in the v1 hierarchy carrying {@code controller}, or null. */
    public static String v1Path(List<CgroupLine> lines, String controller) {
        for (CgroupLine l : lines) if (l.has(controller)) return l.path();
        return null;
    }

    /**
     * Candidate paths for container attribution in preference order: unified, memory,
     * name=systemd, then every other v1 hierarchy.
     */
    public static List<String> attributionPaths(List<CgroupLine> lines) {
        List<String> out = new ArrayList<>();
        String u = unifiedPath(lines);
        if (u != null) out.add(u);
        String m = v1Path(lines, "memory");
        if (m != null && !out.contains(m)) out.add(m);
        String s = v1Path(lines, "name=systemd");
        if (s != null && !out.contains(s)) out.add(s);
        for (CgroupLine l : lines) if (!out.contains(l.path())) out.add(l.path());
        return out;
    }
}
