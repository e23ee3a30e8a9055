package io.driftwatch.learn;

import io.driftwatch.config.ConfigException;
import io.driftwatch.log.Log;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.PathPattern;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Path generalisation rules: DATA, loaded from the built-in {@code default-rules.yaml} or from
 * {@code learning.rules_file}. Each rule is a regular expression over the escaped path and a
 * replacement in profile pattern syntax; they run in order and the entry records which rules
 * changed it. Rules are checked when loaded (regex compiles, dimensions exist, every listed
 * example gives its expected pattern) so a bad rules file stops start-up with a clear error.
 * Slow path only (new values): regexes allocate.
 */
public final class GeneralisationRules {
    static final String RESOURCE = "/io/driftwatch/learn/default-rules.yaml";
    private static final Set<Dimension> DEFAULT_DIMS = EnumSet.of(Dimension.FILE_READ, Dimension.FILE_WRITE);

    record Rule(String name, String description, Set<Dimension> dimensions, Pattern match, String replace) {}

    /** A generalised value: the pattern text and the names of the rules that produced it (empty: exact). */
    public record Result(String value, String[] rules) {}

    private static final String[] NONE = new String[0];

    private final List<Rule> rules;
    private final int fanoutMinDepth;
    private final int maxExamples;
    private final String origin;
    private final Set<String> reported = new HashSet<>();

    private GeneralisationRules(List<Rule> rules, int fanoutMinDepth, int maxExamples, String origin) {
        this.rules = rules;
        this.fanoutMinDepth = fanoutMinDepth;
        this.maxExamples = maxExamples;
        this.origin = origin;
    }

    public int fanoutMinDepth() { return fanoutMinDepth; }
    public int maxExamples() { return maxExamples; }
    public String origin() { return origin; }
    public List<String> names() { return rules.stream().map(Rule::name).toList(); }

    /** The built-in rules. */
    public static GeneralisationRules defaults() {
        try (InputStream in = GeneralisationRules.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + RESOURCE);
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in rules");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
    }

    /** The rules of {@code learning.rules_file}, or the defaults when null. @throws ConfigException */
    public static GeneralisationRules load(Path file) {
        if (file == null) return defaults();
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new ConfigException("config key 'learning.rules_file': cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Parses and checks a rules document. @throws ConfigException naming the origin and rule */
    public static GeneralisationRules parse(String text, String origin) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (YAMLException e) {
            throw bad(origin, "malformed YAML: " + String.valueOf(e.getMessage()).replace('\n', ' '));
        }
        if (!(doc instanceof Map)) throw bad(origin, "expected a map with schema_version and rules");
        Map<?, ?> m = (Map<?, ?>) doc;
        if (!Integer.valueOf(1).equals(m.get("schema_version"))) throw bad(origin, "schema_version must be 1");
        int minDepth = 2, examples = 3;
        if (m.get("fanout") instanceof Map) {
            Map<?, ?> f = (Map<?, ?>) m.get("fanout");
            minDepth = intIn(f.get("min_depth"), 2, 1, 64, origin, "fanout.min_depth");
            examples = intIn(f.get("examples"), 3, 0, 100, origin, "fanout.examples");
        }
        if (!(m.get("rules") instanceof List)) throw bad(origin, "rules must be a list");
        List<Rule> rules = new ArrayList<>();
        List<Object[]> checks = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Object o : (List<?>) m.get("rules")) {
            if (!(o instanceof Map)) throw bad(origin, "each rule must be a map (name, match, replace)");
            Map<?, ?> r = (Map<?, ?>) o;
            String name = str(r.get("name"), origin, "rule name");
            if (!name.matches("[a-z0-9][a-z0-9-]*") || name.equals("fanout")) {
                throw bad(origin, "rule name '" + name + "' must be lower-case letters, digits and '-' (and not 'fanout')");
            }
            if (!names.add(name)) throw bad(origin, "duplicate rule name '" + name + "'");
            String where = "rule '" + name + "'";
            Pattern match;
            try {
                match = Pattern.compile(str(r.get("match"), origin, where + " match"));
            } catch (PatternSyntaxException e) {
                throw bad(origin, where + ": bad regular expression: " + e.getDescription());
            }
            String replace = str(r.get("replace"), origin, where + " replace");
            Set<Dimension> dims = EnumSet.noneOf(Dimension.class);
            if (r.get("dimensions") == null) {
                dims.addAll(DEFAULT_DIMS);
            } else if (r.get("dimensions") instanceof List) {
                for (Object d : (List<?>) r.get("dimensions")) {
                    Dimension dim = Dimension.parse(String.valueOf(d));
                    if (dim == null || !dim.isPath()) {
                        throw bad(origin, where + ": dimension '" + d + "' is not a path dimension (exec, file_read, file_write)");
                    }
                    dims.add(dim);
                }
            } else {
                throw bad(origin, where + ": dimensions must be a list");
            }
            Object desc = r.get("description");
            rules.add(new Rule(name, desc == null ? "" : String.valueOf(desc), dims, match, replace));
            if (r.get("examples") instanceof List) {
                for (Object e : (List<?>) r.get("examples")) {
                    if (!(e instanceof Map)) throw bad(origin, where + ": examples are maps {path, expect}");
                    Map<?, ?> em = (Map<?, ?>) e;
                    checks.add(new Object[] {name, dims.iterator().next(), str(em.get("path"), origin, where + " example path"),
                            str(em.get("expect"), origin, where + " example expect")});
                }
            }
        }
        GeneralisationRules g = new GeneralisationRules(List.copyOf(rules), minDepth, examples, origin);
        for (Object[] c : checks) {
            Result got = g.generalise((Dimension) c[1], (String) c[2]);
            if (!got.value().equals(c[3])) {
                throw bad(origin, "rule '" + c[0] + "': example " + c[2] + " gives " + got.value() + ", expected " + c[3]);
            }
        }
        return g;
    }

    /**
     * Generalises a real path of dimension {@code d}. The result always matches {@code path}; a
     * rule set that would produce a pattern that does not (or an invalid one) is skipped for
     * this path and reported once.
     */
    public Result generalise(Dimension d, String path) {
        String exact = PathPattern.escape(path);
        if (path.isEmpty() || path.charAt(0) != '/') return new Result(exact, NONE);
        String v = exact;
        List<String> used = null;
        for (Rule r : rules) {
            if (!r.dimensions.contains(d)) continue;
            Matcher m = r.match.matcher(v);
            if (!m.find()) continue;
            String next;
            try {
                next = m.replaceAll(r.replace);
            } catch (RuntimeException e) {
                report(r, path, "replacement failed: " + e.getMessage());
                continue;
            }
            if (next.equals(v)) continue;
            v = next;
            if (used == null) used = new ArrayList<>(2);
            used.add(r.name);
        }
        if (used == null) return new Result(exact, NONE);
        try {
            if (!PathPattern.compile(v).matches(path)) {
                report(null, path, "result " + v + " does not match the path");
                return new Result(exact, NONE);
            }
        } catch (IllegalArgumentException e) {
            report(null, path, "result is not a valid pattern: " + e.getMessage());
            return new Result(exact, NONE);
        }
        String[] names = used.toArray(NONE);
        java.util.Arrays.sort(names);
        return new Result(v, names);
    }

    private void report(Rule r, String path, String problem) {
        String key = (r == null ? "*" : r.name) + problem;
        if (reported.size() < 1000 && reported.add(key)) {
            Log.warn("generalisation rule misbehaves; path learned exactly", "rules", origin, "rule",
                    r == null ? "(combined)" : r.name, "path", path, "problem", problem);
        }
    }

    private static ConfigException bad(String origin, String msg) {
        return new ConfigException("config key 'learning.rules_file': " + origin + ": " + msg);
    }

    private static String str(Object o, String origin, String what) {
        if (o == null) throw bad(origin, what + " is missing");
        return String.valueOf(o);
    }

    private static int intIn(Object o, int dflt, int min, int max, String origin, String what) {
        if (o == null) return dflt;
        if (!(o instanceof Integer) || (Integer) o < min || (Integer) o > max) {
            throw bad(origin, what + " must be a whole number " + min + ".." + max);
        }
        return (Integer) o;
    }
}
