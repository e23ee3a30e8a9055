package io.driftwatch.proc;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits {@code /proc/<pid>/cmdline} (NUL-separated argv) into arguments. Pure. Arguments may
 * contain newlines and any other byte; a process that rewrote its argv without NULs (e.g.
 * "nginx: worker process") yields one argument. Kernel threads have an empty cmdline.
 */
public final class CmdlineParser {
    /** Arguments kept; the wire format has room for 1 KiB of argv anyway. */
    public static final int MAX_ARGS = 256;

    private CmdlineParser() {}

    public static List<String> parse(byte[] raw) {
        List<String> out = new ArrayList<>();
        if (raw == null) return out;
        int start = 0;
        for (int i = 0; i < raw.length && out.size() < MAX_ARGS; i++) {
            if (raw[i] == 0) {
                out.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < raw.length && out.size() < MAX_ARGS) {
            out.add(new String(raw, start, raw.length - start, StandardCharsets.UTF_8));
        }
        return out;
    }

    public static List<String> parse(String raw) {
        return parse(raw.getBytes(StandardCharsets.UTF_8));
    }
}
