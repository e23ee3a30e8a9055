package io.driftwatch.profile;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Stage 2 of loading a profile: checks the node tree from {@link ProfileReader} against the
 * schema (docs/profile-format.md) and builds the {@link Profile}. Strict, because a typo in a
 * hand-edited profile must not silently widen or narrow a baseline: unknown keys, duplicate keys
 * or entries, bad patterns, addresses, times and counts are errors naming the line of the node
 * that is wrong. Scalars are read as the text written (no YAML 1.1 type guessing).
 */
final class ProfileValidator {
    private static final Set<String> TOP = Set.of("schema_version", "key", "namespace", "workload", "container", "mode",
            "mode_changed", "mode_changed_by", "learning", "images", "executables", "file_reads", "file_writes",
            "listening_ports", "outbound_peers", "inbound_accepts", "tombstones");
    private static final Set<String> LEARNING = Set.of("started", "observations", "observations_base", "converged", "unconverged", "startup_observed",
            "dimensions");
    private static final Set<String> DIM_STATE = Set.of("last_new", "relearn_started", "relearn_observations_base",
            "unconverged");
    private static final Set<String> IMAGE = Set.of("digest", "first_seen", "last_seen");
    private static final Set<String> ENTRY = Set.of("value", "parents", "count", "first_seen", "last_seen", "image",
            "phase", "suspect", "suspect_reason", "generalised_by", "fanout", "examples", "added_by", "reviewed_by");
    private static final Set<String> TOMBSTONE = Set.of("dimension", "value", "removed", "removed_by", "reason",
            "learn_exact");

    private final String origin;

    private ProfileValidator(String origin) {
        this.origin = origin;
    }

    static Profile validate(Node root, String origin) throws ProfileFormatException {
        return new ProfileValidator(origin).profile(root);
    }

    /** Reader + validator: text to profile. */
    static Profile parse(String text, String origin) throws ProfileFormatException {
        return validate(ProfileReader.read(text, origin), origin);
    }

    private ProfileFormatException error(Node n, String problem) {
        return new ProfileFormatException(origin, n == null ? 0 : n.getStartMark().getLine() + 1,
                n == null ? 0 : n.getStartMark().getColumn() + 1, problem);
    }

    private Profile profile(Node root) throws ProfileFormatException {
        if (!(root instanceof MappingNode)) throw error(root, "a profile is a map of keys (schema_version: 1 first)");
        List<NodeTuple> tuples = ((MappingNode) root).getValue();
        if (tuples.isEmpty()) throw error(root, "empty profile (expected schema_version: 1 first)");
        String first = keyName(tuples.get(0));
        if (!"schema_version".equals(first)) throw error(tuples.get(0).getKeyNode(), "schema_version must be the first key");
        Map<String, Node> top = map(root, TOP, "profile");
        String version = scalar(top.get("schema_version"), "schema_version");
        if (!String.valueOf(ProfileWriter.SCHEMA_VERSION).equals(version)) {
            throw error(top.get("schema_version"), "unsupported schema_version '" + version + "' (this agent reads "
                    + ProfileWriter.SCHEMA_VERSION + ")");
        }
        Node keyNode = require(top, "key", root);
        String key = scalar(keyNode, "key");
        if (key.isEmpty()) throw error(keyNode, "key must not be empty");
        if (key.length() > ProfileKey.MAX_KEY) throw error(keyNode, "key longer than " + ProfileKey.MAX_KEY + " characters");
        ProfileKey pk = new ProfileKey(key, optString(top.get("namespace"), "namespace", ""),
                optString(top.get("workload"), "workload", key), optString(top.get("container"), "container", ""));
        Profile p = new Profile(pk);
        Node modeNode = require(top, "mode", root);
        Mode mode = Mode.parse(scalar(modeNode, "mode"));
        if (mode == null) throw error(modeNode, "mode must be learning, monitor or enforce, not '" + scalar(modeNode, "mode") + "'");
        p.mode = mode;
        p.modeChangedMs = optTime(top.get("mode_changed"), "mode_changed");
        p.modeChangedBy = optString(top.get("mode_changed_by"), "mode_changed_by", null);

        if (top.containsKey("learning")) learning(top.get("learning"), p);
        if (top.containsKey("images")) {
            for (Node n : seq(top.get("images"), "images")) {
                Map<String, Node> m = map(n, IMAGE, "image");
                String digest = scalar(require(m, "digest", n), "digest");
                if (p.images.containsKey(digest)) throw error(n, "duplicate image digest " + digest);
                p.images.put(digest, new Profile.ImageRecord(digest, optTime(m.get("first_seen"), "first_seen"),
                        optTime(m.get("last_seen"), "last_seen")));
            }
        }
        for (Dimension d : Dimension.values()) {
            Node n = top.get(d.section());
            if (n == null) continue;
            for (Node item : seq(n, d.section())) entry(item, d, p.dim(d));
        }
        if (top.containsKey("tombstones")) {
            for (Node n : seq(top.get("tombstones"), "tombstones")) tombstone(n, p);
        }
        return p;
    }

    private void learning(Node n, Profile p) throws ProfileFormatException {
        Map<String, Node> m = map(n, LEARNING, "learning");
        p.startedMs = optTime(m.get("started"), "started");
        p.observations = optLong(m.get("observations"), "observations");
        p.observationsBase = optLong(m.get("observations_base"), "observations_base");
        p.convergedMs = optTime(m.get("converged"), "converged");
        p.unconvergedMs = optTime(m.get("unconverged"), "unconverged");
        p.startupObservedMs = optTime(m.get("startup_observed"), "startup_observed");
        for (DimensionData d : p.dims) d.lastNewMs = p.startedMs;
        Node dims = m.get("dimensions");
        if (dims == null) return;
        Map<String, Node> dm = map(dims, null, "learning.dimensions");
        for (Map.Entry<String, Node> e : dm.entrySet()) {
            Dimension d = Dimension.parse(e.getKey());
            if (d == null || !d.section().equals(e.getKey())) {
                throw error(e.getValue(), "unknown dimension '" + e.getKey() + "' (known: " + sections() + ")");
            }
            DimensionData dd = p.dim(d);
            Map<String, Node> s = map(e.getValue(), DIM_STATE, "learning.dimensions." + e.getKey());
            if (s.containsKey("last_new")) dd.lastNewMs = optTime(s.get("last_new"), "last_new");
            dd.unconvergedMs = optTime(s.get("unconverged"), "unconverged");
            if (s.containsKey("relearn_started")) {
                dd.relearning = true;
                dd.relearnStartedMs = optTime(s.get("relearn_started"), "relearn_started");
                dd.relearnObservationsBase = optLong(s.get("relearn_observations_base"), "relearn_observations_base");
            }
        }
    }

    private void entry(Node n, Dimension d, DimensionData dd) throws ProfileFormatException {
        Map<String, Node> m = map(n, ENTRY, d.section() + " entry");
        Node vn = require(m, "value", n);
        String value = scalar(vn, "value");
        Entry e;
        try {
            e = Entry.of(d, value);
        } catch (IllegalArgumentException ex) {
            throw error(vn, "invalid " + d.section() + " value: " + ex.getMessage());
        }
        if (dd.entries.containsKey(value)) throw error(vn, "duplicate " + d.section() + " entry " + value);
        if (m.containsKey("parents")) {
            if (d != Dimension.EXEC) throw error(m.get("parents"), "parents is only valid in executables");
            e.parents = sortedStrings(m.get("parents"), "parents");
        }
        e.count = optLong(m.get("count"), "count");
        e.firstSeenMs = optTime(m.get("first_seen"), "first_seen");
        e.lastSeenMs = optTime(m.get("last_seen"), "last_seen");
        e.image = optString(m.get("image"), "image", null);
        if (m.containsKey("phase")) {
            String phase = scalar(m.get("phase"), "phase");
            if (!phase.equals("startup") && !phase.equals("steady")) {
                throw error(m.get("phase"), "phase must be startup or steady, not '" + phase + "'");
            }
            e.startupOnly = phase.equals("startup");
        }
        if (optBool(m.get("suspect"), "suspect")) {
            e.suspect = optString(m.get("suspect_reason"), "suspect_reason", "suspect");
        } else if (m.containsKey("suspect_reason")) {
            throw error(m.get("suspect_reason"), "suspect_reason without suspect: true");
        }
        if (m.containsKey("generalised_by")) e.generalisedBy = sortedStrings(m.get("generalised_by"), "generalised_by");
        e.fanout = (int) Math.min(Integer.MAX_VALUE, optLong(m.get("fanout"), "fanout"));
        if (m.containsKey("examples")) e.examples = sortedStrings(m.get("examples"), "examples");
        e.addedBy = optString(m.get("added_by"), "added_by", null);
        e.reviewedBy = optString(m.get("reviewed_by"), "reviewed_by", null);
        dd.entries.put(value, e);
    }

    private void tombstone(Node n, Profile p) throws ProfileFormatException {
        Map<String, Node> m = map(n, TOMBSTONE, "tombstone");
        Node dn = require(m, "dimension", n);
        String ds = scalar(dn, "dimension");
        Dimension d = Dimension.parse(ds);
        if (d == null || !d.section().equals(ds)) throw error(dn, "unknown dimension '" + ds + "' (known: " + sections() + ")");
        Node vn = require(m, "value", n);
        String value = scalar(vn, "value");
        Tombstone t;
        try {
            t = new Tombstone(d, value, optTime(m.get("removed"), "removed"), optString(m.get("removed_by"), "removed_by", null),
                    optString(m.get("reason"), "reason", null), optBool(m.get("learn_exact"), "learn_exact"));
        } catch (IllegalArgumentException ex) {
            throw error(vn, "invalid " + d.section() + " tombstone value: " + ex.getMessage());
        }
        DimensionData dd = p.dim(d);
        if (dd.tombstones.containsKey(value)) throw error(vn, "duplicate tombstone " + ds + " " + value);
        if (dd.entries.containsKey(value)) {
            throw error(vn, ds + " " + value + " is both an entry and a tombstone (keep one)");
        }
        dd.tombstones.put(value, t);
    }

    // ---- node helpers ------------------------------------------------------------------------------

    private static String keyName(NodeTuple t) {
        return t.getKeyNode() instanceof ScalarNode ? ((ScalarNode) t.getKeyNode()).getValue() : null;
    }

    /** A mapping's keys to value nodes; rejects non-scalar, duplicate and (when allowed != null) unknown keys. */
    private Map<String, Node> map(Node n, Set<String> allowed, String what) throws ProfileFormatException {
        if (!(n instanceof MappingNode)) throw error(n, what + " must be a map");
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) n).getValue()) {
            String k = keyName(t);
            if (k == null) throw error(t.getKeyNode(), "keys in " + what + " must be plain names");
            if (allowed != null && !allowed.contains(k)) {
                List<String> sorted = new ArrayList<>(allowed);
                java.util.Collections.sort(sorted);
                throw error(t.getKeyNode(), "unknown key '" + k + "' in " + what + " (allowed: " + String.join(", ", sorted) + ")");
            }
            if (out.containsKey(k)) throw error(t.getKeyNode(), "duplicate key '" + k + "' in " + what);
            out.put(k, t.getValueNode());
        }
        return out;
    }

    private List<Node> seq(Node n, String what) throws ProfileFormatException {
        if (n instanceof ScalarNode && ((ScalarNode) n).getValue().isEmpty()) return List.of(); // "key:" with nothing
        if (!(n instanceof SequenceNode)) throw error(n, what + " must be a list");
        return ((SequenceNode) n).getValue();
    }

    private Node require(Map<String, Node> m, String key, Node parent) throws ProfileFormatException {
        Node n = m.get(key);
        if (n == null) throw error(parent, "missing required key '" + key + "'");
        return n;
    }

    private String scalar(Node n, String what) throws ProfileFormatException {
        if (!(n instanceof ScalarNode)) throw error(n, what + " must be a single value");
        return ((ScalarNode) n).getValue();
    }

    private String optString(Node n, String what, String dflt) throws ProfileFormatException {
        return n == null ? dflt : scalar(n, what);
    }

    private long optLong(Node n, String what) throws ProfileFormatException {
        if (n == null) return 0;
        String s = scalar(n, what);
        try {
            long v = Long.parseLong(s);
            if (v < 0) throw error(n, what + " must not be negative");
            return v;
        } catch (NumberFormatException e) {
            throw error(n, what + " must be a whole number, not '" + s + "'");
        }
    }

    private boolean optBool(Node n, String what) throws ProfileFormatException {
        if (n == null) return false;
        String s = scalar(n, what);
        if (s.equals("true")) return true;
        if (s.equals("false")) return false;
        throw error(n, what + " must be true or false, not '" + s + "'");
    }

    private long optTime(Node n, String what) throws ProfileFormatException {
        if (n == null) return 0;
        String s = scalar(n, what);
        try {
            return Instant.parse(s).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw error(n, what + " must be a UTC time like 2026-01-05T10:00:00Z, not '" + s + "'");
        }
    }

    private String[] sortedStrings(Node n, String what) throws ProfileFormatException {
        List<Node> items = seq(n, what);
        String[] out = new String[items.size()];
        for (int i = 0; i < out.length; i++) out[i] = scalar(items.get(i), what);
        Arrays.sort(out);
        return out.length == 0 ? Entry.NONE : out;
    }

    private static String sections() {
        StringBuilder sb = new StringBuilder();
        for (Dimension d : Dimension.values()) sb.append(sb.length() == 0 ? "" : ", ").append(d.section());
        return sb.toString();
    }
}
