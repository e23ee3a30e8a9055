package io.driftwatch.json;

import java.io.StringReader;
import java.util.Collection;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Minimal JSON: a writer for maps, lists, strings, numbers, booleans and null (insertion order
 * kept), and a bounded parser for request bodies built on snakeyaml's safe loader.
 */
public final class Json {
    private Json() {}

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder(128);
        write(sb, value);
        return sb.toString();
    }

    public static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof CharSequence) {
            quote(sb, (CharSequence) v);
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short
                || v instanceof Byte) {
            sb.append(v);
        } else if (v instanceof Number) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) sb.append("null");
            else if (d == Math.rint(d) && Math.abs(d) < 1e15) sb.append((long) d);
            else sb.append(d);
        } else if (v instanceof Map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) sb.append(',');
                first = false;
                quote(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof Collection) {
            sb.append('[');
            boolean first = true;
            for (Object o : (Collection<?>) v) {
                if (!first) sb.append(',');
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else if (v instanceof Object[]) {
            write(sb, java.util.Arrays.asList((Object[]) v));
        } else {
            quote(sb, v.toString());
        }
    }

    public static void quote(StringBuilder sb, CharSequence s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    // control characters, C1, line/paragraph separators, BOM, non-characters and lone
                    // surrogates as \\uXXXX: safe in JSON and in YAML double-quoted scalars (profiles)
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 || c == 0xfeff
                            || c == 0xfffe || c == 0xffff || (Character.isSurrogate(c) && !validSurrogate(s, i))) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    private static boolean validSurrogate(CharSequence s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /**
     * Parses a JSON document (objects, arrays, scalars) with snakeyaml's safe loader, bounded in
     * size and nesting. @throws IllegalArgumentException with a readable reason
     */
    public static Object parse(String text) {
        if (text.length() > 1 << 20) throw new IllegalArgumentException("JSON document larger than 1 MiB");
        LoaderOptions opts = new LoaderOptions();
        opts.setMaxAliasesForCollections(0);
        opts.setNestingDepthLimit(32);
        opts.setCodePointLimit(1 << 20);
        opts.setAllowDuplicateKeys(false);
        try (StringReader r = new StringReader(text)) {
            return new Yaml(new SafeConstructor(opts)).load(r);
        } catch (YAMLException e) {
            String m = e.getMessage();
            throw new IllegalArgumentException("malformed JSON: " + (m == null ? "" : m.lines().findFirst().orElse("")));
        }
    }

    /** Parses a JSON object. @throws IllegalArgumentException if it is not one */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object o = parse(text);
        if (!(o instanceof Map)) throw new IllegalArgumentException("expected a JSON object");
        return (Map<String, Object>) o;
    }

}
