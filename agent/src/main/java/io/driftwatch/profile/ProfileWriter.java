package io.driftwatch.profile;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes a profile as YAML, by hand, so the output is a pure function of the profile: keys in a
 * fixed order, lists sorted, one quoting rule, timestamps in whole seconds (UTC). Writing an
 * unchanged profile gives byte-identical output, and {@link ProfileReader} + {@link ProfileValidator}
 * read back exactly what was written. Format: docs/profile-format.md.
 */
final class ProfileWriter {
    static final int SCHEMA_VERSION = 1;
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9/_.][A-Za-z0-9/_.:@+=,~%\\[\\]*()-]*");
    private static final Pattern AMBIGUOUS = Pattern.compile(
            "(?i)y|yes|n|no|true|false|on|off|null|~|[-+.]?[0-9][0-9_.:eE+-]*|\\.(inf|nan)|<<|=");

    private ProfileWriter() {}

    static byte[] write(Profile p) {
        return write(p, null);
    }

    /** @param comment lines placed after schema_version as YAML comments (e.g. how an example was produced), or null */
    static byte[] write(Profile p, String comment) {
        StringBuilder sb = new StringBuilder(4096);
        Map<String, Object> doc = toMap(p);
        sb.append("schema_version: ").append(SCHEMA_VERSION).append('\n');
        sb.append("# Driftwatch behaviour profile: one workload's learned baseline. Format: docs/profile-format.md\n");
        if (comment != null) {
            for (String line : comment.split("\n", -1)) sb.append('#').append(line.isEmpty() ? "" : " " + line).append('\n');
        }
        doc.remove("schema_version");
        map(sb, doc, 0, false);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The profile as ordered maps, lists and scalars (String, Long, Boolean): what the YAML file
     * says, also served as JSON by the API. Optional fields are left out when unset.
     */
    static Map<String, Object> toMap(Profile p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema_version", (long) SCHEMA_VERSION);
        m.put("key", p.key.key());
        m.put("namespace", p.key.namespace());
        m.put("workload", p.key.workload());
        m.put("container", p.key.container());
        m.put("mode", p.mode.text());
        time(m, "mode_changed", p.modeChangedMs);
        if (p.modeChangedBy != null) m.put("mode_changed_by", p.modeChangedBy);
        Map<String, Object> l = new LinkedHashMap<>();
        time(l, "started", p.startedMs);
        l.put("observations", p.observations);
        if (p.observationsBase != 0) l.put("observations_base", p.observationsBase);
        time(l, "converged", p.convergedMs);
        time(l, "unconverged", p.unconvergedMs);
        time(l, "startup_observed", p.startupObservedMs);
        Map<String, Object> dims = new LinkedHashMap<>();
        for (DimensionData d : p.dims) {
            Map<String, Object> dm = new LinkedHashMap<>();
            time(dm, "last_new", d.lastNewMs);
            if (d.relearning) {
                time(dm, "relearn_started", d.relearnStartedMs);
                dm.put("relearn_observations_base", d.relearnObservationsBase);
            }
            time(dm, "unconverged", d.unconvergedMs);
            dims.put(d.dimension.section(), dm);
        }
        l.put("dimensions", dims);
        m.put("learning", l);
        List<Object> images = new ArrayList<>();
        for (Profile.ImageRecord r : p.images.values()) {
            Map<String, Object> im = new LinkedHashMap<>();
            im.put("digest", r.digest);
            time(im, "first_seen", r.firstSeenMs);
            time(im, "last_seen", r.lastSeenMs);
            images.add(im);
        }
        m.put("images", images);
        for (DimensionData d : p.dims) {
            List<Object> entries = new ArrayList<>();
            for (Entry e : d.entries.values()) entries.add(entry(e));
            m.put(d.dimension.section(), entries);
        }
        List<Object> tombs = new ArrayList<>();
        for (DimensionData d : p.dims) {
            for (Tombstone t : d.tombstones.values()) {
                Map<String, Object> tm = new LinkedHashMap<>();
                tm.put("dimension", d.dimension.section());
                tm.put("value", t.value);
                time(tm, "removed", t.removedMs);
                if (t.removedBy != null) tm.put("removed_by", t.removedBy);
                if (t.reason != null) tm.put("reason", t.reason);
                if (t.learnExact) tm.put("learn_exact", Boolean.TRUE);
                tombs.add(tm);
            }
        }
        m.put("tombstones", tombs);
        return m;
    }

    private static Map<String, Object> entry(Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("value", e.value);
        if (e.parents.length > 0) m.put("parents", List.of(e.parents));
        if (e.count != 0) m.put("count", e.count);
        time(m, "first_seen", e.firstSeenMs);
        time(m, "last_seen", e.lastSeenMs);
        if (e.image != null) m.put("image", e.image);
        if (e.startupOnly) m.put("phase", "startup");
        if (e.suspect != null) {
            m.put("suspect", Boolean.TRUE);
            m.put("suspect_reason", e.suspect);
        }
        if (e.generalisedBy.length > 0) m.put("generalised_by", List.of(e.generalisedBy));
        if (e.fanout != 0) m.put("fanout", (long) e.fanout);
        if (e.examples.length > 0) m.put("examples", List.of(e.examples));
        if (e.addedBy != null) m.put("added_by", e.addedBy);
        if (e.reviewedBy != null) m.put("reviewed_by", e.reviewedBy);
        return m;
    }

    private static void time(Map<String, Object> m, String key, long ms) {
        if (ms != 0) m.put(key, formatTime(ms));
    }

    // ---- emitter: block style, two-space indent, deterministic -----------------------------------

    private static void map(StringBuilder sb, Map<?, ?> m, int indent, boolean inline) {
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(first && inline)) indent(sb, indent);
            first = false;
            sb.append(e.getKey()).append(':');
            value(sb, e.getValue(), indent);
        }
    }

    private static void value(StringBuilder sb, Object v, int indent) {
        if (v instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) v;
            if (m.isEmpty()) {
                sb.append(" {}\n");
            } else {
                sb.append('\n');
                map(sb, m, indent + 2, false);
            }
        } else if (v instanceof List) {
            List<?> l = (List<?>) v;
            if (l.isEmpty()) {
                sb.append(" []\n");
                return;
            }
            sb.append('\n');
            for (Object item : l) {
                indent(sb, indent + 2).append("- ");
                if (item instanceof Map) {
                    map(sb, (Map<?, ?>) item, indent + 4, true);
                } else {
                    scalar(sb, item);
                    sb.append('\n');
                }
            }
        } else {
            sb.append(' ');
            scalar(sb, v);
            sb.append('\n');
        }
    }

    private static void scalar(StringBuilder sb, Object v) {
        if (v instanceof Number || v instanceof Boolean) sb.append(v);
        else scalar(sb, String.valueOf(v));
    }

    static String formatTime(long ms) {
        return DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(Math.floorDiv(ms, 1000)));
    }

    private static StringBuilder indent(StringBuilder sb, int n) {
        for (int i = 0; i < n; i++) sb.append(' ');
        return sb;
    }

    /** A scalar: plain when unambiguous, else double-quoted with escapes. */
    static void scalar(StringBuilder sb, String s) {
        if (!s.isEmpty() && PLAIN.matcher(s).matches() && !AMBIGUOUS.matcher(s).matches() && !s.endsWith(":")) {
            sb.append(s);
            return;
        }
        io.driftwatch.json.Json.quote(sb, s); // JSON's escapes are valid in YAML double-quoted scalars
    }

}
