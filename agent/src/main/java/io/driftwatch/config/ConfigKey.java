package io.driftwatch.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One configuration key: its dotted name, default, documentation and a parser that turns the
 * raw YAML or command-line value into the typed value (or says what is allowed).
 */
public final class ConfigKey<T> {
    private final String name;
    private final String defaultText;
    private final String allowed;
    private final String doc;
    private final Function<Object, T> parser;

    private ConfigKey(String name, String defaultText, String allowed, String doc, Function<Object, T> parser) {
        this.name = name;
        this.defaultText = defaultText;
        this.allowed = allowed;
        this.doc = doc;
        this.parser = parser;
    }

    public String name() { return name; }
    public String defaultText() { return defaultText; }
    public String allowed() { return allowed; }
    public String doc() { return doc; }

    T parse(Object raw) {
        try {
            return parser.apply(raw);
        } catch (IllegalArgumentException e) {
            String shown = raw == null ? "null" : String.valueOf(raw);
            if (shown.length() > 80) shown = shown.substring(0, 80) + "...";
            throw new ConfigException("config key '" + name + "': invalid value '" + shown + "': "
                    + e.getMessage() + " (allowed: " + allowed + ")");
        }
    }

    T defaultValue() {
        return defaultText == null ? null : parse(defaultText);
    }

    // ---- factories --------------------------------------------------------------------------

    static ConfigKey<String> string(String name, String def, String doc) {
        return new ConfigKey<>(name, def, "any string", doc, raw -> {
            if (raw instanceof java.util.Map || raw instanceof List) throw new IllegalArgumentException("expected a string");
            return String.valueOf(raw);
        });
    }

    static ConfigKey<Path> path(String name, String def, String doc) {
        return new ConfigKey<>(name, def, "a file system path", doc, raw -> {
            String s = scalar(raw);
            if (s.isEmpty()) throw new IllegalArgumentException("empty path");
            if (s.indexOf('\0') >= 0) throw new IllegalArgumentException("path contains a NUL byte");
            return Path.of(s);
        });
    }

    static ConfigKey<Boolean> bool(String name, boolean def, String doc) {
        return new ConfigKey<>(name, Boolean.toString(def), "true or false", doc, raw -> {
            if (raw instanceof Boolean) return (Boolean) raw;
            String s = scalar(raw).toLowerCase(Locale.ROOT);
            if (s.equals("true")) return true;
            if (s.equals("false")) return false;
            throw new IllegalArgumentException("expected true or false");
        });
    }

    static ConfigKey<Duration> duration(String name, String def, String doc) {
        return new ConfigKey<>(name, def, "a duration such as 500ms, 30s, 10m, 24h, 7d", doc,
                raw -> Durations.parse(scalar(raw)));
    }

    static ConfigKey<Integer> integer(String name, int def, int min, int max, String doc) {
        return new ConfigKey<>(name, Integer.toString(def), "an integer from " + min + " to " + max, doc, raw -> {
            long v;
            if (raw instanceof Number) {
                v = ((Number) raw).longValue();
            } else {
                try {
                    v = Long.parseLong(scalar(raw));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not an integer");
                }
            }
            if (v < min || v > max) throw new IllegalArgumentException("out of range");
            return (int) v;
        });
    }

    static ConfigKey<String> oneOf(String name, String def, List<String> values, String doc) {
        return new ConfigKey<>(name, def, String.join(" | ", values), doc, raw -> {
            String s = scalar(raw);
            if (!values.contains(s)) throw new IllegalArgumentException("not one of the allowed values");
            return s;
        });
    }

    static ConfigKey<InetSocketAddress> hostPort(String name, String def, String doc) {
        return new ConfigKey<>(name, def, "host:port, e.g. 127.0.0.1:9477 or [::1]:9477 (port 0 = any free port)",
                doc, raw -> parseHostPort(scalar(raw)));
    }

    static InetSocketAddress parseHostPort(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) throw new IllegalArgumentException("expected host:port");
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number");
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range 0-65535");
        if (host.isEmpty()) throw new IllegalArgumentException("empty host");
        return InetSocketAddress.createUnresolved(host, port);
    }

    private static String scalar(Object raw) {
        if (raw == null) throw new IllegalArgumentException("missing value");
        if (raw instanceof java.util.Map || raw instanceof List) throw new IllegalArgumentException("expected a single value, got a " + (raw instanceof List ? "list" : "map"));
        return String.valueOf(raw).trim();
    }
}
