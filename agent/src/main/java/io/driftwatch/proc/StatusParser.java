package io.driftwatch.proc;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses the fields of {@code /proc/<pid>/status} the agent needs. Pure. Unknown lines are
 * ignored; the Name line is taken verbatim (status escapes newlines in it as "\n").
 */
public final class StatusParser {
    private StatusParser() {}

    /**
     * @param name  the Name field
     * @param tgid  thread group id
     * @param ppid  parent pid
     * @param uid   real uid (first of the four Uid values)
     * @param nspid pids of the process in each nested pid namespace, outermost first (NSpid)
     */
    public record Status(String name, int tgid, int ppid, int uid, int[] nspid) {
        /** The pid in the innermost pid namespace (1 for a container's init), or -1. */
        public int innermostPid() {
            return nspid.length == 0 ? -1 : nspid[nspid.length - 1];
        }
    }

    /** @throws IllegalArgumentException when required fields (Tgid, PPid, Uid) are missing or bad */
    public static Status parse(String text) {
        String name = null;
        int tgid = -1, ppid = -1, uid = -1;
        int[] nspid = new int[0];
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) continue;
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).trim();
            switch (key) {
                case "Name": name = value; break;
                case "Tgid": tgid = StatParser.parseInt(value, "Tgid"); break;
                case "PPid": ppid = StatParser.parseInt(value, "PPid"); break;
                case "Uid": uid = StatParser.parseInt(value.split("\\s+")[0], "Uid"); break;
                case "NSpid": nspid = ints(value); break;
                default: break;
            }
        }
        if (tgid < 0 || ppid < 0 || uid < 0) throw new IllegalArgumentException("status lacks Tgid, PPid or Uid");
        return new Status(name, tgid, ppid, uid, nspid);
    }

    private static int[] ints(String value) {
        List<Integer> out = new ArrayList<>();
        for (String s : value.split("\\s+")) if (!s.isEmpty()) out.add(StatParser.parseInt(s, "NSpid"));
        int[] a = new int[out.size()];
        for (int i = 0; i < a.length; i++) a[i] = out.get(i);
        return a;
    }
}
