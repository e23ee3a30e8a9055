package io.driftwatch.deploy;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough PromQL reading to list the metric names an expression selects: strings, label
 * matchers, ranges and grouping clauses are removed, then every identifier that is not a
 * function call or a keyword is a metric name. Good for rule files and dashboards, not a parser.
 */
final class PromQl {
    private PromQl() {}

    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "offset", "bool", "inf", "nan", "atan2", "start", "end");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern MATCHERS = Pattern.compile("\\{[^{}]*\\}");
    private static final Pattern RANGE = Pattern.compile("\\[[^\\[\\]]*\\]");
    private static final Pattern GROUPING = Pattern.compile(
            "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^()]*\\)");
    private static final Pattern IDENT = Pattern.compile("(?<![\\w$.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");

    static Set<String> metricNames(String expr) {
        String s = STRING.matcher(expr).replaceAll("\"\"");
        s = MATCHERS.matcher(s).replaceAll("");
        s = RANGE.matcher(s).replaceAll("");
        s = GROUPING.matcher(s).replaceAll(" ");
        s = s.replaceAll("\\$\\{?\\w+\\}?", " "); // Grafana variables outside ranges
        Set<String> names = new TreeSet<>();
        Matcher m = IDENT.matcher(s);
        while (m.find()) {
            if (m.group(2) != null) continue; // a function or aggregation
            String id = m.group(1);
            if (!KEYWORDS.contains(id)) names.add(id);
        }
        return names;
    }
}
