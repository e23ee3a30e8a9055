package io.driftwatch.cli;

import io.driftwatch.http.ProfileApi;
import io.driftwatch.json.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code driftwatch profiles ...}: operator review against a running agent, through its HTTP
 * API (docs/api.md). Readable tables by default, {@code --output json|yaml} for scripts.
 *
 * <p>{@code edit KEY} fetches the profile's YAML (GET ?format=yaml, with its ETag), opens
 * {@code $VISUAL}/{@code $EDITOR} (default vi) on a private temporary copy, and uploads the
 * result (PUT, Content-Type application/yaml, If-Match). The agent validates the text with the
 * profile reader and validator and applies it exactly like a file edit; a bad edit is refused
 * with line, column and problem, and the temporary file is kept so no work is lost. Uploading
 * (rather than editing the file under profiles_dir) works against a remote agent, needs no access
 * to its disk, and fails fast instead of leaving a rejected file for hot reload to find.
 *
 * <p>Values shown are attacker-influenced (paths, peers): control characters are replaced before
 * printing, so a crafted path cannot inject terminal escape sequences. Exit codes: 0 ok,
 * 1 error (agent unreachable, refused, not found, invalid), 2 usage.
 */
public final class ProfilesCli {
    public static final String DEFAULT_URL = "http://127.0.0.1:9477";
    static final String USAGE = String.join("\n",
            "usage: driftwatch profiles <command> [args] [--url URL] [--token-file FILE] [--output table|json|yaml]",
            "  list                                   all profiles: mode, state, confidence, entries, proposals",
            "  show KEY                               one profile: entries per dimension with their evidence",
            "  diff KEY                               changes since the approved version",
            "  proposals KEY                          generalised and suspect entries awaiting review",
            "  approve KEY                            approve the current version (what diff compares with)",
            "  approve KEY DIMENSION VALUE            approve one proposal (it joins the profile)",
            "  reject KEY DIMENSION VALUE [--reason TEXT]   reject one proposal (tombstoned: never learned)",
            "  mode KEY learning|monitor|enforce      switch mode (enforce only from monitor)",
            "  relearn KEY DIMENSION                  forget one dimension and learn it again",
            "  edit KEY [--file FILE]                 edit the profile YAML in $EDITOR (or upload FILE) and apply it",
            "dimensions: exec, file_read, file_write, listen, connect, accept",
            "agent URL: --url, else $DRIFTWATCH_URL, else " + DEFAULT_URL
                    + "; token: --token-file, else $DRIFTWATCH_TOKEN",
            "exit codes: 0 ok, 1 error, 2 usage");

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;
    private String url;
    private String token;
    private String output = "table";
    private HttpClient client;

    ProfilesCli(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    /** Runs {@code driftwatch profiles args...}; returns the exit code. */
    public static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) {
        return new ProfilesCli(out, err, env).run(args);
    }

    /** Thrown for usage errors (exit 2). */
    static final class Usage extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Usage(String m) {
            super(m);
        }
    }

    /** Thrown for errors to report (exit 1). */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Failure(String m) {
            super(m);
        }
    }

    int run(List<String> args) {
        try {
            List<String> pos = new ArrayList<>();
            Map<String, String> opts = parse(args, pos);
            if (opts.containsKey("help") || pos.isEmpty()) {
                (pos.isEmpty() && !opts.containsKey("help") ? err : out).println(USAGE);
                return pos.isEmpty() && !opts.containsKey("help") ? 2 : 0;
            }
            configure(opts);
            String cmd = pos.get(0);
            List<String> a = pos.subList(1, pos.size());
            switch (cmd) {
                case "list": arity(cmd, a, 0, 0); list(); break;
                case "show": arity(cmd, a, 1, 1); show(a.get(0)); break;
                case "diff": arity(cmd, a, 1, 1); diff(a.get(0)); break;
                case "proposals": arity(cmd, a, 1, 1); proposals(a.get(0)); break;
                case "approve":
                    if (a.size() != 1 && a.size() != 3) throw new Usage("approve takes KEY, or KEY DIMENSION VALUE");
                    if (a.size() == 1) change(a.get(0), "approve", Map.of());
                    else change(a.get(0), "proposals/approve", Map.of("dimension", a.get(1), "value", a.get(2)));
                    break;
                case "reject": {
                    arity(cmd, a, 3, 3);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("dimension", a.get(1));
                    body.put("value", a.get(2));
                    if (opts.containsKey("reason")) body.put("reason", opts.get("reason"));
                    change(a.get(0), "proposals/reject", body);
                    break;
                }
                case "mode":
                    arity(cmd, a, 2, 2);
                    if (!List.of("learning", "monitor", "enforce").contains(a.get(1))) {
                        throw new Usage("mode must be learning, monitor or enforce, not '" + clean(a.get(1)) + "'");
                    }
                    change(a.get(0), "mode", Map.of("mode", a.get(1)));
                    break;
                case "relearn": arity(cmd, a, 2, 2); change(a.get(0), "relearn", Map.of("dimension", a.get(1))); break;
                case "edit": arity(cmd, a, 1, 1); edit(a.get(0), opts.get("file")); break;
                default: throw new Usage("unknown command '" + clean(cmd) + "'");
            }
            return 0;
        } catch (Usage e) {
            err.println("driftwatch profiles: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (Failure e) {
            err.println("driftwatch: " + e.getMessage());
            return 1;
        }
    }

    private static final List<String> VALUE_OPTS = List.of("url", "token-file", "output", "reason", "file");

    private static Map<String, String> parse(List<String> args, List<String> pos) {
        Map<String, String> opts = new LinkedHashMap<>();
        boolean rest = false;
        for (int i = 0; i < args.size(); i++) {
            String s = args.get(i);
            if (rest || !s.startsWith("--")) {
                pos.add(s);
            } else if (s.equals("--")) {
                rest = true;
            } else if (s.equals("--help")) {
                opts.put("help", "");
            } else {
                int eq = s.indexOf('=');
                String name = eq < 0 ? s.substring(2) : s.substring(2, eq);
                if (!VALUE_OPTS.contains(name)) throw new Usage("unknown option --" + clean(name));
                String v;
                if (eq >= 0) v = s.substring(eq + 1);
                else if (i + 1 < args.size()) v = args.get(++i);
                else throw new Usage("option --" + name + " needs a value");
                opts.put(name, v);
            }
        }
        return opts;
    }

    private void configure(Map<String, String> opts) {
        url = opts.getOrDefault("url", env.getOrDefault("DRIFTWATCH_URL", DEFAULT_URL));
        if (url.isBlank()) url = DEFAULT_URL;
        while (url.endsWith("/")) url = url.substring(0, url.length() - 1);
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new Usage("bad --url '" + clean(url) + "'");
        }
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
            throw new Usage("--url must be http://HOST:PORT (got '" + clean(url) + "')");
        }
        output = opts.getOrDefault("output", "table");
        if (!List.of("table", "json", "yaml").contains(output)) throw new Usage("--output must be table, json or yaml");
        String tf = opts.get("token-file");
        if (tf != null) {
            try {
                token = Files.readString(Path.of(tf), StandardCharsets.UTF_8).trim();
            } catch (IOException | RuntimeException e) {
                throw new Failure("cannot read token file " + tf + ": " + e.getMessage());
            }
        } else {
            String t = env.get("DRIFTWATCH_TOKEN");
            token = t == null || t.isBlank() ? null : t.trim();
        }
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static void arity(String cmd, List<String> a, int min, int max) {
        if (a.size() < min || a.size() > max) {
            throw new Usage(cmd + (min == 0 ? " takes no arguments" : " needs " + (min == 1 ? "KEY" : min + " arguments")
                    + (a.size() > max ? " (too many arguments)" : "")));
        }
    }

    // ---- HTTP -----------------------------------------------------------------------------------

    private record Reply(int status, String body, String etag) {}

    private Reply send(String method, String path, String contentType, String body, String ifMatch) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Accept", path.endsWith("format=yaml") ? "application/yaml" : "application/json");
        if (contentType != null) b.header("Content-Type", contentType);
        if (token != null) b.header("Authorization", "Bearer " + token);
        if (ifMatch != null) b.header("If-Match", ifMatch);
        String user = env.getOrDefault("USER", env.get("LOGNAME"));
        if (user != null && !user.isBlank()) b.header("X-Driftwatch-Operator", clean(user));
        HttpResponse<String> r;
        try {
            r = client.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Failure("cannot connect to the agent at " + url + ": is `./driftwatch run` running?");
        } catch (HttpTimeoutException e) {
            throw new Failure("the agent at " + url + " did not answer within 30 s");
        } catch (IOException e) {
            throw new Failure("cannot talk to the agent at " + url + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        }
        return new Reply(r.statusCode(), r.body(), r.headers().firstValue("etag").orElse(null));
    }

    private Map<String, Object> call(String method, String path, Object jsonBody, String key) {
        Reply r = send(method, path, jsonBody == null ? null : "application/json",
                jsonBody == null ? null : Json.write(jsonBody), null);
        return check(r, key);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> check(Reply r, String key) {
        Map<String, Object> m = null;
        try {
            Object o = Json.parse(r.body());
            if (o instanceof Map) m = (Map<String, Object>) o;
        } catch (IllegalArgumentException e) {
            m = null;
        }
        if (r.status() >= 200 && r.status() < 300) {
            if (m == null) throw new Failure("unexpected answer from the agent at " + url + " (not JSON)");
            return m;
        }
        String msg = m != null && m.get("error") != null ? String.valueOf(m.get("error")) : "HTTP " + r.status();
        Object field = m == null ? null : m.get("field");
        switch (r.status()) {
            case 401:
                throw new Failure("the agent at " + url + " refused the request (401 unauthorized): pass --token-file FILE"
                        + " or set DRIFTWATCH_TOKEN to the token in its http.token_file");
            case 404:
                if (key != null && "key".equals(field)) {
                    throw new Failure("no profile '" + clean(key) + "' on the agent at " + url + " (see `driftwatch profiles list`)");
                }
                throw new Failure(clean(msg) + " (404)");
            default:
                throw new Failure(clean(msg) + (field != null ? " [field: " + clean(String.valueOf(field)) + "]" : "")
                        + " (" + r.status() + ")");
        }
    }

    private static String path(String key, String action) {
        return ProfileApi.PREFIX + "/" + ProfileApi.encodeKey(key) + (action == null ? "" : "/" + action);
    }

    // ---- commands -------------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private void list() {
        Map<String, Object> m = call("GET", ProfileApi.PREFIX, null, null);
        if (structured(m)) return;
        List<Map<String, Object>> ps = (List<Map<String, Object>>) m.get("profiles");
        Table t = new Table("KEY", "MODE", "STATE", "CONF", "ENTRIES", "PROPOSALS", "LAST CHANGE", "APPROVED");
        for (Map<String, Object> p : ps) {
            t.row(p.get("key"), p.get("mode"), p.get("state"), String.format("%.2f", minConfidence(p)), p.get("entries"),
                    p.get("proposals") == null ? "?" : p.get("proposals"), p.get("last_change"),
                    p.get("approved") == null ? "never" : p.get("approved"));
        }
        if (ps.isEmpty()) out.println("no profiles yet on " + url + " (the agent creates one per workload it sees)");
        else t.print(out);
        List<Map<String, Object>> errors = (List<Map<String, Object>>) m.get("errors");
        if (errors != null && !errors.isEmpty()) {
            out.println();
            out.println("rejected profile files (the previous version stays in force):");
            for (Map<String, Object> e : errors) {
                out.println("  " + clean(String.valueOf(e.get("file"))) + (e.get("line") != null ? ":" + e.get("line") + ":" + e.get("column") : "")
                        + ": " + clean(String.valueOf(e.get("problem"))));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static double minConfidence(Map<String, Object> p) {
        double min = 1;
        Object c = p.get("confidence");
        if (c instanceof Map) {
            for (Object v : ((Map<String, Object>) c).values()) if (v instanceof Number) min = Math.min(min, ((Number) v).doubleValue());
        }
        return min;
    }

    private static final String[][] SECTIONS = {
        {"executables", "exec"}, {"file_reads", "file_read"}, {"file_writes", "file_write"},
        {"listening_ports", "listen"}, {"outbound_peers", "connect"}, {"inbound_accepts", "accept"}};

    @SuppressWarnings("unchecked")
    private void show(String key) {
        Map<String, Object> m = call("GET", path(key, null), null, key);
        if (structured(m)) return;
        Map<String, Object> doc = (Map<String, Object>) m.getOrDefault("profile", Map.of());
        out.println("key:          " + clean(String.valueOf(m.get("key"))));
        out.println("mode:         " + m.get("mode") + (doc.get("mode_changed") != null ? " (since " + doc.get("mode_changed")
                + (doc.get("mode_changed_by") != null ? " by " + clean(String.valueOf(doc.get("mode_changed_by"))) : "") + ")" : ""));
        out.println("state:        " + m.get("state"));
        out.println("file:         " + clean(String.valueOf(m.getOrDefault("file", "(not written yet)"))));
        out.println("observations: " + m.get("observations"));
        out.println("entries:      " + m.get("entries") + " (tombstones " + m.get("tombstones") + ", open proposals "
                + (m.get("proposals") == null ? "?" : m.get("proposals")) + ")");
        StringBuilder conf = new StringBuilder();
        if (m.get("confidence") instanceof Map) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m.get("confidence")).entrySet()) {
                if (conf.length() > 0) conf.append("  ");
                conf.append(e.getKey()).append(' ').append(String.format("%.2f", ((Number) e.getValue()).doubleValue()));
            }
        }
        out.println("confidence:   " + conf);
        for (String[] s : SECTIONS) {
            List<Map<String, Object>> entries = doc.get(s[0]) instanceof List ? (List<Map<String, Object>>) doc.get(s[0]) : List.of();
            out.println();
            out.println(s[0] + " (" + s[1] + "): " + entries.size());
            if (entries.isEmpty()) continue;
            Table t = new Table("VALUE", "COUNT", "FIRST SEEN", "IMAGE", "EVIDENCE");
            for (Map<String, Object> e : entries) t.row(e.get("value"), e.get("count"), e.get("first_seen"), shortDigest(e.get("image")), evidence(e));
            t.print(out, "  ");
        }
        List<Map<String, Object>> tombs = doc.get("tombstones") instanceof List ? (List<Map<String, Object>>) doc.get("tombstones") : List.of();
        if (!tombs.isEmpty()) {
            out.println();
            out.println("tombstones: " + tombs.size());
            Table t = new Table("DIMENSION", "VALUE", "REMOVED", "BY", "REASON");
            for (Map<String, Object> e : tombs) t.row(e.get("dimension"), e.get("value"), e.get("removed"), e.get("removed_by"), e.get("reason"));
            t.print(out, "  ");
        }
    }

    @SuppressWarnings("unchecked")
    private static String evidence(Map<String, Object> e) {
        List<String> parts = new ArrayList<>();
        if (e.get("phase") != null) parts.add(String.valueOf(e.get("phase")));
        if (e.get("suspect") != null) parts.add("SUSPECT" + (e.get("suspect_reason") != null ? ": " + e.get("suspect_reason") : ""));
        if (e.get("generalised_by") instanceof List) parts.add("generalised by " + String.join(",", (List<String>) e.get("generalised_by")));
        if (e.get("fanout") != null) parts.add("fanout " + e.get("fanout"));
        if (e.get("examples") instanceof List && !((List<?>) e.get("examples")).isEmpty()) {
            List<?> ex = (List<?>) e.get("examples");
            parts.add("e.g. " + ex.get(0) + (ex.size() > 1 ? " (+" + (ex.size() - 1) + ")" : ""));
        }
        if (e.get("added_by") != null) parts.add("added by " + e.get("added_by"));
        if (e.get("reviewed_by") != null) parts.add("reviewed by " + e.get("reviewed_by"));
        return String.join("; ", parts);
    }

    private static String shortDigest(Object d) {
        if (d == null) return "";
        String s = String.valueOf(d);
        int i = s.indexOf(':');
        return i >= 0 && s.length() > i + 13 ? s.substring(0, i + 13) : s;
    }

    @SuppressWarnings("unchecked")
    private void diff(String key) {
        Map<String, Object> m = call("GET", path(key, "diff"), null, key);
        if (structured(m)) return;
        Map<String, Object> ap = (Map<String, Object>) m.get("approved");
        out.println(clean(key) + ": " + m.get("changes") + " change(s) since "
                + (ap == null ? "(never approved: every entry counts as added)"
                        : "the version approved " + ap.get("time") + " by " + clean(String.valueOf(ap.get("by")))));
        Map<String, Object> mode = (Map<String, Object>) m.get("mode");
        if (ap != null && mode != null && !String.valueOf(mode.get("approved")).equals(String.valueOf(mode.get("current")))) {
            out.println("  mode " + mode.get("approved") + " -> " + mode.get("current"));
        }
        for (Map.Entry<String, Object> d : ((Map<String, Object>) m.get("dimensions")).entrySet()) {
            Map<String, Object> dm = (Map<String, Object>) d.getValue();
            for (Map<String, Object> e : (List<Map<String, Object>>) dm.get("added")) {
                String ev = evidence(e);
                out.println("  + " + d.getKey() + " " + clean(String.valueOf(e.get("value")))
                        + "  (count " + e.get("count") + (e.get("first_seen") != null ? ", first seen " + e.get("first_seen") : "")
                        + (ev.isEmpty() ? "" : "; " + clean(ev)) + ")");
            }
            for (Object v : (List<Object>) dm.get("removed")) out.println("  - " + d.getKey() + " " + clean(String.valueOf(v)));
        }
        Map<String, Object> t = (Map<String, Object>) m.get("tombstones");
        for (Map<String, Object> e : (List<Map<String, Object>>) t.get("added")) {
            out.println("  + tombstone " + e.get("dimension") + " " + clean(String.valueOf(e.get("value"))));
        }
        for (Map<String, Object> e : (List<Map<String, Object>>) t.get("removed")) {
            out.println("  - tombstone " + e.get("dimension") + " " + clean(String.valueOf(e.get("value"))));
        }
    }

    @SuppressWarnings("unchecked")
    private void proposals(String key) {
        Map<String, Object> m = call("GET", path(key, "proposals"), null, key);
        if (structured(m)) return;
        List<Map<String, Object>> ps = (List<Map<String, Object>>) m.get("proposals");
        if (ps.isEmpty()) {
            out.println("no open proposals for " + clean(key));
            return;
        }
        Table t = new Table("DIMENSION", "VALUE", "REASON", "COUNT", "EVIDENCE");
        for (Map<String, Object> p : ps) t.row(p.get("dimension"), p.get("value"), p.get("reason"), p.get("count"), evidence(p));
        t.print(out);
    }

    @SuppressWarnings("unchecked")
    private void change(String key, String action, Map<String, Object> body) {
        Map<String, Object> m = call(action.equals("mode") ? "PUT" : "POST", path(key, action), body, key);
        if (structured(m)) return;
        Map<String, Object> p = (Map<String, Object>) m.get("profile");
        out.println("ok: " + clean(key) + ": " + m.get("result") + (p == null ? "" : " (mode " + p.get("mode") + ", state "
                + p.get("state") + ", " + p.get("entries") + " entries)"));
    }

    private void edit(String key, String fromFile) {
        String text;
        String etag = null;
        Path tmp = null;
        if (fromFile != null) {
            try {
                text = Files.readString(Path.of(fromFile), StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                throw new Failure("cannot read " + fromFile + ": " + e.getMessage());
            }
        } else {
            Reply got = send("GET", path(key, null) + "?format=yaml", null, null, null);
            if (got.status() != 200) check(got, key);
            etag = got.etag();
            try {
                tmp = Files.createTempFile("driftwatch-edit-", ".yaml",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, got.body(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new Failure("cannot create a temporary file: " + e.getMessage());
            }
            String editor = firstNonBlank(env.get("VISUAL"), env.get("EDITOR"), "vi");
            int rc;
            try {
                // through sh so EDITOR may carry arguments ("code --wait"); the file is "$1", never interpolated
                Process p = new ProcessBuilder("sh", "-c", editor + " \"$1\"", "driftwatch-edit", tmp.toString()).inheritIO().start();
                rc = p.waitFor();
            } catch (IOException e) {
                throw new Failure("cannot start editor '" + clean(editor) + "': " + e.getMessage() + "; your copy is " + tmp);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failure("interrupted; your copy is " + tmp);
            }
            if (rc != 0) throw new Failure("editor '" + clean(editor) + "' exited with " + rc + "; nothing uploaded; your copy is " + tmp);
            try {
                text = Files.readString(tmp, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new Failure("cannot read back " + tmp + ": " + e.getMessage());
            }
            if (text.equals(got.body())) {
                deleteQuietly(tmp);
                out.println("no changes: " + clean(key) + " left as it is");
                return;
            }
        }
        Reply r = send("PUT", path(key, null), "application/yaml; charset=utf-8", text, etag);
        if (r.status() == 200) {
            if (tmp != null) deleteQuietly(tmp);
            change(r, key);
            return;
        }
        String kept = tmp == null ? "" : "; your edit is kept in " + tmp + " (upload it with: driftwatch profiles edit "
                + quote(key) + " --file " + tmp + ")";
        try {
            check(r, key);
        } catch (Failure f) {
            if (r.status() == 400 || r.status() == 409) throw new Failure("edit of " + clean(key) + " refused: " + f.getMessage() + kept);
            throw new Failure(f.getMessage() + kept);
        }
    }

    @SuppressWarnings("unchecked")
    private void change(Reply r, String key) {
        Map<String, Object> m = check(r, key);
        if (structured(m)) return;
        Map<String, Object> p = (Map<String, Object>) m.get("profile");
        out.println("ok: " + clean(key) + ": " + m.get("result") + (p == null ? "" : " (mode " + p.get("mode") + ", state "
                + p.get("state") + ", " + p.get("entries") + " entries)"));
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a temporary file; the OS cleans up
        }
    }

    private static String quote(String s) {
        return s.matches("[A-Za-z0-9._/:@-]+") ? s : "'" + clean(s).replace("'", "'\\''") + "'";
    }

    private static String firstNonBlank(String... s) {
        for (String x : s) if (x != null && !x.isBlank()) return x;
        return null;
    }

    /** Prints {@code m} as JSON or YAML when asked; false for tables. */
    private boolean structured(Map<String, Object> m) {
        if (output.equals("json")) {
            out.println(Json.write(m));
            return true;
        }
        if (output.equals("yaml")) {
            DumperOptions o = new DumperOptions();
            o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            o.setIndicatorIndent(2);
            o.setIndentWithIndicator(true);
            o.setSplitLines(false);
            out.print(new Yaml(o).dump(m));
            return true;
        }
        return false;
    }

    /** Replaces control characters (terminal escapes in attacker-influenced values). */
    static String clean(String s) {
        if (s == null) return "";
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean bad = c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029;
            if (bad && sb == null) sb = new StringBuilder(s.length()).append(s, 0, i);
            if (sb != null) sb.append(bad ? '?' : c);
        }
        return sb == null ? s : sb.toString();
    }

    /** A plain left-aligned text table. */
    static final class Table {
        private final List<String[]> rows = new ArrayList<>();
        private final int cols;

        Table(String... header) {
            cols = header.length;
            rows.add(header);
        }

        void row(Object... cells) {
            String[] r = new String[cols];
            for (int i = 0; i < cols; i++) r[i] = i < cells.length && cells[i] != null ? clean(String.valueOf(cells[i])) : "";
            rows.add(r);
        }

        void print(PrintStream out) {
            print(out, "");
        }

        void print(PrintStream out, String indent) {
            int[] w = new int[cols];
            for (String[] r : rows) for (int i = 0; i < cols; i++) w[i] = Math.max(w[i], r[i].length());
            for (String[] r : rows) {
                StringBuilder sb = new StringBuilder(indent);
                for (int i = 0; i < cols; i++) {
                    sb.append(r[i]);
                    if (i < cols - 1) sb.append(" ".repeat(w[i] - r[i].length() + 2));
                }
                out.println(sb.toString().stripTrailing());
            }
        }
    }
}
