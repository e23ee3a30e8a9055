package io.driftwatch.proc;

/**
 * Parses {@code /proc/<pid>/stat}. Pure. The command name sits between the first '(' and the
 * LAST ')' because it may itself contain spaces and parentheses (e.g. {@code (sd-pam) x)});
 * the numeric fields after it are split on single spaces (proc(5)).
 */
public final class StatParser {
    private StatParser() {}

    /**
     * @param pid       process id
     * @param comm      command name (up to 15 bytes, any characters but NUL)
     * @param state     state letter (R, S, D, Z, ...)
     * @param ppid      parent pid (0 for init and kthreadd)
     * @param startTicks start time in clock ticks after boot (field 22)
     */
    public record Stat(int pid, String comm, char state, int ppid, long startTicks) {
        /** Kernel threads are children of kthreadd (2) or kthreadd itself. */
        public boolean kernelThread() {
            return pid == 2 || ppid == 2;
        }
    }

    /** @throws IllegalArgumentException when the text is not a stat line */
    public static Stat parse(String text) {
        if (text == null) throw new IllegalArgumentException("no stat text");
        int open = text.indexOf('(');
        int close = text.lastIndexOf(')');
        if (open <= 0 || close < open) throw new IllegalArgumentException("no (comm) in stat line");
        int pid = parseInt(text.substring(0, open).trim(), "pid");
        String comm = text.substring(open + 1, close);
        String rest = text.substring(close + 1).trim();
        String[] f = rest.split(" +");
        // f[0] = state (field 3), f[1] = ppid (4), ... f[19] = starttime (22)
        if (f.length < 20 || f[0].length() != 1) throw new IllegalArgumentException("stat line has " + f.length
                + " fields after comm, need 20");
        return new Stat(pid, comm, f[0].charAt(0), parseInt(f[1], "ppid"), parseLong(f[19], "starttime"));
    }

    static int parseInt(String s, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad " + what + " '" + abbreviate(s) + "'");
        }
    }

    static long parseLong(String s, String what) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad " + what + " '" + abbreviate(s) + "'");
        }
    }

    static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
