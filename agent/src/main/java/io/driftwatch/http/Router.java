package io.driftwatch.http;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Maps method + path (exact, or prefix ending in '/') to routes. Components add their own. */
public final class Router {
    private record Entry(String method, String path, boolean prefix, Route route) {}

    private final List<Entry> entries = new CopyOnWriteArrayList<>();

    public Router get(String path, Route route) { return add("GET", path, route); }
    public Router post(String path, Route route) { return add("POST", path, route); }
    public Router put(String path, Route route) { return add("PUT", path, route); }
    public Router delete(String path, Route route) { return add("DELETE", path, route); }

    /** Adds a route; a path ending in "/*" matches every path below it. */
    public Router add(String method, String path, Route route) {
        boolean prefix = path.endsWith("/*");
        entries.add(new Entry(method, prefix ? path.substring(0, path.length() - 1) : path, prefix, route));
        return this;
    }

    /** The route for a request, or null; sets {@code allowed} to the methods that exist for the path. */
    Route find(String method, String path, List<String> allowed) {
        Route best = null;
        int bestLen = -1;
        for (Entry e : entries) {
            boolean match = e.prefix ? path.startsWith(e.path) && path.length() > e.path.length() : path.equals(e.path);
            if (!match) continue;
            if (allowed != null && !allowed.contains(e.method)) allowed.add(e.method);
            if (e.method.equals(method) && e.path.length() > bestLen) {
                best = e.route;
                bestLen = e.path.length();
            }
        }
        return best;
    }

    List<String> paths() {
        List<String> out = new ArrayList<>();
        for (Entry e : entries) out.add(e.method + " " + e.path + (e.prefix ? "*" : ""));
        return out;
    }
}
