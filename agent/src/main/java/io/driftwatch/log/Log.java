package io.driftwatch.log;

import io.driftwatch.json.Json;
import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Structured logging: one JSON object per line on stderr ({@code log.format: json}), or a
 * readable line ({@code text}). Lifecycle messages and, with {@code log.events}, every event.
 * Thread-safe; each line is written with one print call.
 */
public final class Log {
    public enum Level { DEBUG, INFO, WARN, ERROR }

    private static volatile PrintStream out = System.err;
    private static volatile boolean json = true;
    private static volatile Level min = Level.INFO;

    private Log() {}

    public static void configure(String format, String level, PrintStream stream) {
        json = !"text".equals(format);
        min = Level.valueOf(level.toUpperCase(java.util.Locale.ROOT));
        if (stream != null) out = stream;
    }

    public static boolean enabled(Level level) {
        return level.compareTo(min) >= 0;
    }

    public static void debug(String msg, Object... kv) { log(Level.DEBUG, msg, kv); }
    public static void info(String msg, Object... kv) { log(Level.INFO, msg, kv); }
    public static void warn(String msg, Object... kv) { log(Level.WARN, msg, kv); }
    public static void error(String msg, Object... kv) { log(Level.ERROR, msg, kv); }

    public static void log(Level level, String msg, Object... kv) {
        if (!enabled(level)) return;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", Instant.now().toString());
        m.put("level", level.name().toLowerCase(java.util.Locale.ROOT));
        m.put("msg", msg);
        for (int i = 0; i + 1 < kv.length; i += 2) {
            Object v = kv[i + 1];
            if (v instanceof Throwable) v = String.valueOf(((Throwable) v).getMessage());
            m.put(String.valueOf(kv[i]), v);
        }
        emit(m);
    }

    /** Writes a prepared record (e.g. a raw event for log.events) as one line. */
    public static void emit(Map<String, Object> record) {
        String line;
        if (json) {
            line = Json.write(record);
        } else {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<String, Object> e : record.entrySet()) {
                if (sb.length() > 0) sb.append(' ');
                sb.append(e.getKey()).append('=').append(e.getValue());
            }
            line = sb.toString();
        }
        out.println(line);
    }
}
