package io.driftwatch.http;

import io.driftwatch.json.Json;
import io.driftwatch.log.Log;
import io.driftwatch.pipeline.Pipeline;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.Entry;
import io.driftwatch.profile.Mode;
import io.driftwatch.profile.ProfileError;
import io.driftwatch.profile.ProfileFormatException;
import io.driftwatch.profile.ProfileKey;
import io.driftwatch.profile.ProfileSnapshot;
import io.driftwatch.profile.ProfileStore;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The operator review API under {@code /api/v1/profiles} (docs/api.md): list, show, diff against
 * the approved version, proposals (approve/reject), mode, entries, relearn, approve, and the
 * YAML document (GET/PUT) that {@code driftwatch profiles edit} uses.
 *
 * <p><b>Keys in paths.</b> Profile keys contain slashes ({@code namespace/workload/container},
 * image keys like {@code docker.io/library/redis:redis}). The key is taken from the <em>raw</em>
 * path: it is split on literal '/', each segment is percent-decoded on its own (strict: a bad
 * escape or invalid UTF-8 is a 400), and the segments are joined with '/'. So a key may be sent
 * as one segment with its slashes encoded ({@code shop%2Fweb%2Fnginx}: canonical, what the CLI
 * and the page send) or raw ({@code shop/web/nginx}). A trailing action ({@code diff},
 * {@code proposals}, {@code proposals/approve}, {@code proposals/reject}, {@code mode},
 * {@code entries}, {@code relearn}, {@code approve}) is split off when at least one key segment
 * precedes it; a key whose last component is itself an action name must therefore be sent
 * encoded. Keys are only ever looked up in the store's map: the file of a profile comes from the
 * store ({@link ProfileKey#fileName}), never from the request, so no key reaches the file system.
 *
 * <p><b>Threading.</b> Routes run on HTTP worker threads. Reads use the store's published
 * snapshots; every change (and proposals, diff) runs on the pipeline thread through
 * {@link Pipeline#call} with a timeout. After each change the profile is saved as its approved
 * version ({@link ProfileStore#markApproved}), which {@code diff} compares against.
 *
 * <p><b>Browser safety.</b> Writes need {@code Content-Type: application/json} (the YAML upload:
 * {@code application/yaml}), so a cross-site form cannot post (415) and a cross-site script
 * needs a CORS preflight, which this server never grants. A request whose {@code Origin} differs
 * from its {@code Host} is refused (403). Without a token on a loopback listener the
 * {@code Host} must be a loopback address or {@code localhost} (DNS rebinding).
 */
public final class ProfileApi {
    public static final String PREFIX = "/api/v1/profiles";
    /** How long a request waits for the pipeline thread. */
    static final long TIMEOUT_MS = 5_000;
    /** Longest accepted entry value (a path of 4096 bytes plus escapes). */
    static final int MAX_VALUE_CHARS = 8192;
    private static final List<String> ACTIONS = List.of("diff", "proposals", "mode", "entries", "relearn", "approve");
    private static final Set<String> JSON_TYPES = Set.of("application/json");
    private static final Set<String> YAML_TYPES = Set.of("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml");

    private final ProfileStore store;
    private final Pipeline pipeline;
    private final String node;
    private final boolean checkHost;

    /**
     * @param checkHost refuse requests whose Host is not loopback (true when the server is bound
     *                  to loopback without a token)
     */
    public ProfileApi(ProfileStore store, Pipeline pipeline, String node, boolean checkHost) {
        this.store = store;
        this.pipeline = pipeline;
        this.node = node;
        this.checkHost = checkHost;
    }

    /** Registers the routes on {@code router}. */
    public ProfileApi register(Router router) {
        router.get(PREFIX, this::list);
        for (String m : List.of("GET", "POST", "PUT", "DELETE")) router.add(m, PREFIX + "/*", this::dispatch);
        return this;
    }

    // ---- target parsing -------------------------------------------------------------------------

    /** The profile key and action a raw request path names. */
    record Target(String key, String action) {}

    /** Parses the raw path below {@code /api/v1/profiles/}. @throws ApiException 400 naming field "key" */
    static Target target(String rawPath) {
        if (!rawPath.startsWith(PREFIX + "/")) throw new ApiException(404, "no such endpoint: " + rawPath);
        String rest = rawPath.substring(PREFIX.length() + 1);
        if (rest.length() > 3 * ProfileKey.MAX_KEY + 64) {
            throw new ApiException(400, "profile key longer than " + ProfileKey.MAX_KEY + " characters", "key");
        }
        String[] raw = rest.split("/", -1);
        List<String> segs = new ArrayList<>(raw.length);
        for (String s : raw) segs.add(decodeSegment(s));
        int n = segs.size();
        String action = "";
        if (n >= 3 && segs.get(n - 2).equals("proposals") && (segs.get(n - 1).equals("approve") || segs.get(n - 1).equals("reject"))) {
            action = "proposals/" + segs.get(n - 1);
            n -= 2;
        } else if (n >= 2 && ACTIONS.contains(segs.get(n - 1))) {
            action = segs.get(n - 1);
            n -= 1;
        }
        String key = String.join("/", segs.subList(0, n));
        if (key.isEmpty()) throw new ApiException(400, "empty profile key", "key");
        if (key.length() > ProfileKey.MAX_KEY) {
            throw new ApiException(400, "profile key longer than " + ProfileKey.MAX_KEY + " characters", "key");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f) throw new ApiException(400, "profile key contains a control character", "key");
        }
        return new Target(key, action);
    }

    /** Strict percent-decoding of one path segment ('+' stays '+'). */
    static String decodeSegment(String s) {
        if (s.indexOf('%') < 0) return s;
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = hi < 0 ? -1 : Character.digit(s.charAt(i + 2), 16);
                if (lo < 0) throw new ApiException(400, "malformed percent-encoding in the profile key", "key");
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new ApiException(400, "profile key is not valid UTF-8", "key");
        }
    }

    /** The canonical path of a key (one segment, every reserved character percent-encoded). */
    public static String encodeKey(String key) {
        StringBuilder sb = new StringBuilder();
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.' || c == '~' || c == ':' || c == '@';
            if (plain) sb.append((char) c);
            else sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
        }
        return sb.toString();
    }

    // ---- routes ---------------------------------------------------------------------------------

    private Response list(Request r) {
        checkOrigin(r);
        Collection<ProfileSnapshot> snaps = store.snapshots();
        Map<String, Object[]> extra = callOrNull(() -> {
            Map<String, Object[]> m = new HashMap<>();
            for (ProfileSnapshot s : snaps) {
                try {
                    ProfileStore.Approved a = store.approved(s.key());
                    m.put(s.key(), new Object[] {store.proposals(s.key()).size(), a});
                } catch (NoSuchElementException e) {
                    // deleted meanwhile
                }
            }
            return m;
        });
        List<Object> list = new ArrayList<>();
        for (ProfileSnapshot s : snaps) list.add(summary(s, extra == null ? null : extra.get(s.key())));
        List<Object> errors = new ArrayList<>();
        for (ProfileError e : store.errors()) errors.add(e.toMap());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", node);
        m.put("dir", store.dir().toString());
        m.put("profiles", list);
        m.put("errors", errors);
        return Response.ok(m);
    }

    /** The list item: the snapshot summary plus entry counts per dimension, proposals, last change. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> summary(ProfileSnapshot s, Object[] extra) {
        Map<String, Object> m = s.summary();
        Map<String, Object> doc = s.document();
        Map<String, Object> counts = new LinkedHashMap<>();
        String last = str(doc.get("mode_changed"));
        for (Dimension d : Dimension.values()) {
            Object list = doc.get(d.section());
            counts.put(d.tag(), list instanceof List ? ((List<?>) list).size() : 0);
        }
        Object learning = doc.get("learning");
        if (learning instanceof Map && ((Map<String, Object>) learning).get("dimensions") instanceof Map) {
            for (Object dim : ((Map<String, Object>) ((Map<String, Object>) learning).get("dimensions")).values()) {
                if (dim instanceof Map) last = later(last, str(((Map<String, Object>) dim).get("last_new")));
            }
        }
        if (doc.get("tombstones") instanceof List) {
            for (Object t : (List<Object>) doc.get("tombstones")) {
                if (t instanceof Map) last = later(last, str(((Map<String, Object>) t).get("removed")));
            }
        }
        m.put("entries_by_dimension", counts);
        if (extra != null) {
            m.put("proposals", extra[0]);
            ProfileStore.Approved a = (ProfileStore.Approved) extra[1];
            m.put("approved", a == null || a.timeMs() == 0 ? null : formatTime(a.timeMs()));
            if (a != null && a.timeMs() != 0) last = later(last, formatTime(a.timeMs()));
        }
        m.put("last_change", last);
        return m;
    }

    private Response dispatch(Request r) throws Exception {
        checkOrigin(r);
        Target t = target(r.rawPath());
        String m = "HEAD".equals(r.method()) ? "GET" : r.method(); // the server sends no body for HEAD
        switch (t.action()) {
            case "":
                if (m.equals("GET")) return show(r, t.key());
                if (m.equals("PUT")) return upload(r, t.key());
                throw notAllowed(m, "GET, PUT");
            case "diff":
                if (!m.equals("GET")) throw notAllowed(m, "GET");
                return Response.ok(call(() -> store.diff(t.key())));
            case "proposals":
                if (!m.equals("GET")) throw notAllowed(m, "GET");
                return proposals(t.key());
            case "proposals/approve":
            case "proposals/reject":
                if (!m.equals("POST")) throw notAllowed(m, "POST");
                return decide(r, t.key(), t.action().endsWith("approve"));
            case "mode":
                if (!m.equals("PUT") && !m.equals("POST")) throw notAllowed(m, "PUT, POST");
                return mode(r, t.key());
            case "entries":
                if (m.equals("POST")) return addEntry(r, t.key());
                if (m.equals("DELETE")) return tombstone(r, t.key());
                throw notAllowed(m, "POST, DELETE");
            case "relearn":
                if (!m.equals("POST")) throw notAllowed(m, "POST");
                return relearn(r, t.key());
            case "approve":
                if (!m.equals("POST")) throw notAllowed(m, "POST");
                return approveProfile(r, t.key());
            default:
                throw new ApiException(404, "no such endpoint");
        }
    }

    private Response show(Request r, String key) {
        String accept = r.header("accept");
        boolean yaml = "yaml".equals(r.param("format")) || (accept != null && accept.toLowerCase(Locale.ROOT).contains("yaml"));
        if (yaml) {
            ProfileStore.Document d = call(() -> store.document(key));
            return new Response(200, "application/yaml; charset=utf-8", d.yaml().getBytes(StandardCharsets.UTF_8))
                    .withHeader("ETag", "\"" + d.version() + "\"");
        }
        if (r.param("format") != null && !"json".equals(r.param("format"))) {
            throw new ApiException(400, "format must be json or yaml", "format");
        }
        ProfileSnapshot s = store.snapshot(key);
        if (s == null) throw new ApiException(404, "no profile '" + key + "'", "key");
        Map<String, Object> m = s.toMap();
        Integer open = callOrNull(() -> store.proposals(key).size());
        m.put("proposals", open);
        return Response.ok(m);
    }

    private Response proposals(String key) {
        List<Map<String, Object>> list = call(() -> store.proposals(key));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key);
        m.put("proposals", list);
        return Response.ok(m);
    }

    private Response decide(Request r, String key, boolean approve) {
        Map<String, Object> body = jsonBody(r, Set.of("dimension", "value", "reason"));
        Dimension d = dimension(body);
        String value = value(body, d);
        String reason = optString(body, "reason");
        String caller = caller(r);
        ProfileSnapshot s = call(() -> {
            boolean open = false;
            boolean entry = false;
            for (Map<String, Object> p : store.proposals(key)) {
                if (d == Dimension.parse(String.valueOf(p.get("dimension"))) && value.equals(p.get("value"))) open = true;
            }
            if (!open) throw new NoSuchElementException("no open proposal " + d.tag() + " " + value + " in '" + key + "'");
            io.driftwatch.profile.Profile p = store.profile(key);
            entry = p != null && p.dim(d).entry(value) != null;
            ProfileSnapshot after;
            if (!approve) after = store.tombstone(key, d, value, caller, reason == null ? "proposal rejected" : reason);
            else if (entry) after = store.approve(key, d, value, caller);
            else after = store.addEntry(key, d, value, caller); // a deviation-derived proposal joins the profile
            store.markApproved(key, caller);
            return store.snapshot(key) != null ? store.snapshot(key) : after;
        });
        logChange(approve ? "proposal approved" : "proposal rejected (tombstoned)", key, caller, "dimension", d.tag(), "value", value);
        return changed(approve ? "approved" : "rejected (tombstoned)", s);
    }

    private Response mode(Request r, String key) {
        Map<String, Object> body = jsonBody(r, Set.of("mode"));
        String text = requireString(body, "mode");
        Mode mode = Mode.parse(text);
        if (mode == null) throw new ApiException(400, "mode must be learning, monitor or enforce, not '" + clip(text) + "'", "mode");
        String caller = caller(r);
        ProfileSnapshot before = store.snapshot(key);
        ProfileSnapshot s = call(() -> {
            ProfileSnapshot after = store.setMode(key, mode, caller);
            store.markApproved(key, caller);
            return after;
        });
        logChange("mode set", key, caller, "from", before == null ? null : before.mode(), "to", mode.text());
        return changed("mode changed", s);
    }

    private Response addEntry(Request r, String key) {
        Map<String, Object> body = jsonBody(r, Set.of("dimension", "value"));
        Dimension d = dimension(body);
        String value = value(body, d);
        String caller = caller(r);
        ProfileSnapshot s = call(() -> {
            ProfileSnapshot after = store.addEntry(key, d, value, caller);
            store.markApproved(key, caller);
            return after;
        });
        logChange("entry added", key, caller, "dimension", d.tag(), "value", value);
        return changed("added", s);
    }

    private Response tombstone(Request r, String key) {
        Map<String, Object> body;
        if (r.body().isBlank() && r.param("dimension") != null) {
            body = new LinkedHashMap<>();
            body.put("dimension", r.param("dimension"));
            body.put("value", r.param("value"));
            if (r.param("reason") != null) body.put("reason", r.param("reason"));
        } else {
            body = jsonBody(r, Set.of("dimension", "value", "reason"));
        }
        Dimension d = dimension(body);
        String value = value(body, d);
        String reason = optString(body, "reason");
        String caller = caller(r);
        ProfileSnapshot s = call(() -> {
            ProfileSnapshot after = store.tombstone(key, d, value, caller, reason == null ? "removed by operator" : reason);
            store.markApproved(key, caller);
            return after;
        });
        logChange("entry tombstoned", key, caller, "dimension", d.tag(), "value", value);
        return changed("tombstoned", s);
    }

    private Response relearn(Request r, String key) {
        Map<String, Object> body = jsonBody(r, Set.of("dimension"));
        Dimension d = dimension(body);
        String caller = caller(r);
        ProfileSnapshot s = call(() -> {
            ProfileSnapshot after = store.relearn(key, d, caller);
            store.markApproved(key, caller);
            return after;
        });
        logChange("dimension relearning", key, caller, "dimension", d.tag());
        return changed("relearning", s);
    }

    private Response approveProfile(Request r, String key) {
        jsonBody(r, Set.of());
        String caller = caller(r);
        ProfileSnapshot s = call(() -> {
            store.markApproved(key, caller);
            return store.snapshot(key);
        });
        logChange("profile approved", key, caller);
        return changed("approved", s);
    }

    private Response upload(Request r, String key) {
        String type = r.mediaType();
        if (type == null || !YAML_TYPES.contains(type)) {
            throw new ApiException(415, "PUT a profile as Content-Type: application/yaml (got " + (type == null ? "none" : clip(type)) + ")",
                    "content-type");
        }
        String yaml = r.body();
        if (yaml.isBlank()) throw new ApiException(400, "empty profile", "body");
        String named;
        try {
            named = ProfileStore.validate(yaml, "request body");
        } catch (ProfileFormatException e) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("error", (e.line() > 0 ? "line " + e.line() + ", column " + e.column() + ": " : "") + e.problem());
            m.put("field", "body");
            if (e.line() > 0) {
                m.put("line", e.line());
                m.put("column", e.column());
            }
            m.put("problem", e.problem());
            return Response.json(400, m);
        }
        if (!named.equals(key)) {
            throw new ApiException(400, "the profile names key '" + clip(named) + "' but was sent to '" + clip(key)
                    + "' (a profile keeps its key)", "key");
        }
        long expected = -1;
        String ifMatch = r.header("if-match");
        if (ifMatch != null && !ifMatch.trim().equals("*")) {
            try {
                expected = Long.parseLong(ifMatch.trim().replace("\"", "").replace("W/", ""));
            } catch (NumberFormatException e) {
                throw new ApiException(400, "If-Match must be the ETag of GET ?format=yaml", "if-match");
            }
        }
        long version = expected;
        String caller = caller(r);
        ProfileSnapshot s = call(() -> {
            ProfileSnapshot after = store.upload(key, yaml, version, caller);
            store.markApproved(key, caller);
            return after;
        });
        logChange("profile replaced (edit)", key, caller, "bytes", yaml.length());
        return changed("replaced", s);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static Response changed(String what, ProfileSnapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("result", what);
        m.put("profile", s == null ? null : s.summary());
        return Response.ok(m);
    }

    private static void logChange(String what, String key, String caller, Object... kv) {
        Object[] all = new Object[4 + kv.length];
        all[0] = "key";
        all[1] = key;
        all[2] = "caller";
        all[3] = caller;
        System.arraycopy(kv, 0, all, 4, kv.length);
        Log.info("api: " + what, all);
    }

    private static ApiException notAllowed(String method, String allowed) {
        return new ApiException(405, "method " + method + " not allowed here; use " + allowed);
    }

    /**
     * Who makes a change: the self-declared operator name from {@code X-Driftwatch-Operator}
     * (the CLI sends $USER; sanitised, at most 64 characters) and the connection (address, token).
     */
    static String caller(Request r) {
        String op = r.header("x-driftwatch-operator");
        // "/127.0.0.1:53122 (token)" -> "127.0.0.1 (token)": the ephemeral port says nothing later
        String conn = r.caller() == null || r.caller().isBlank() ? "unknown"
                : r.caller().replaceFirst("^/", "").replaceFirst(":\\d+(?=$| )", "");
        if (op == null || op.isBlank()) return conn;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < op.length() && sb.length() < 64; i++) {
            char c = op.charAt(i);
            boolean ok = Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-' || c == '@';
            sb.append(ok ? c : '_');
        }
        return sb + " via " + conn;
    }

    private void checkOrigin(Request r) {
        String host = r.header("host");
        String origin = r.header("origin");
        if (origin != null && !origin.equals("null")) {
            String o = origin.replaceFirst("^https?://", "");
            if (host == null || !o.equalsIgnoreCase(host)) {
                throw new ApiException(403, "cross-origin request refused (Origin " + clip(origin) + ")");
            }
        } else if (origin != null) {
            throw new ApiException(403, "cross-origin request refused (Origin null)");
        }
        if (checkHost && host != null) {
            String h = host.startsWith("[") ? host.substring(0, Math.max(1, host.indexOf(']') + 1))
                    : host.contains(":") ? host.substring(0, host.lastIndexOf(':')) : host;
            h = h.toLowerCase(Locale.ROOT);
            boolean loopback = h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]");
            if (!loopback) {
                throw new ApiException(403, "Host '" + clip(host) + "' refused: this agent listens on loopback without a token"
                        + " (use http://127.0.0.1:PORT)");
            }
        }
    }

    private static Map<String, Object> jsonBody(Request r, Set<String> fields) {
        String type = r.mediaType();
        if (type == null || !(JSON_TYPES.contains(type) || type.endsWith("+json"))) {
            throw new ApiException(415, "send the request body as Content-Type: application/json (got "
                    + (type == null ? "none" : clip(type)) + ")", "content-type");
        }
        String text = r.body();
        if (text.isBlank()) {
            if (fields.isEmpty()) return Map.of();
            throw new ApiException(400, "missing JSON body (an object with " + String.join(", ", fields) + ")", "body");
        }
        Map<String, Object> m;
        try {
            m = Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage(), "body");
        }
        for (String k : m.keySet()) {
            if (!fields.contains(k)) throw new ApiException(400, "unknown field '" + clip(String.valueOf(k)) + "'", String.valueOf(k));
        }
        return m;
    }

    private static Dimension dimension(Map<String, Object> body) {
        String s = requireString(body, "dimension");
        Dimension d = Dimension.parse(s);
        if (d == null) {
            List<String> tags = new ArrayList<>();
            for (Dimension x : Dimension.values()) tags.add(x.tag());
            throw new ApiException(400, "unknown dimension '" + clip(s) + "' (one of " + String.join(", ", tags) + ")", "dimension");
        }
        return d;
    }

    private static String value(Map<String, Object> body, Dimension d) {
        String v = requireString(body, "value");
        if (v.length() > MAX_VALUE_CHARS) throw new ApiException(400, "value longer than " + MAX_VALUE_CHARS + " characters", "value");
        try {
            Entry.of(d, v);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "invalid " + d.tag() + " value: " + e.getMessage(), "value");
        }
        return v;
    }

    private static String requireString(Map<String, Object> body, String field) {
        Object v = body.get(field);
        if (v == null) throw new ApiException(400, "missing field '" + field + "'", field);
        if (!(v instanceof String)) throw new ApiException(400, "field '" + field + "' must be a string", field);
        if (((String) v).isEmpty()) throw new ApiException(400, "field '" + field + "' must not be empty", field);
        return (String) v;
    }

    private static String optString(Map<String, Object> body, String field) {
        Object v = body.get(field);
        if (v == null) return null;
        if (!(v instanceof String)) throw new ApiException(400, "field '" + field + "' must be a string", field);
        String s = (String) v;
        if (s.length() > 500) throw new ApiException(400, "field '" + field + "' longer than 500 characters", field);
        return s;
    }

    /** Runs {@code work} on the pipeline thread; maps the store's exceptions to HTTP statuses. */
    private <T> T call(Supplier<T> work) {
        try {
            return pipeline.call(work, TIMEOUT_MS);
        } catch (ApiException e) {
            throw e;
        } catch (NoSuchElementException e) {
            String msg = String.valueOf(e.getMessage());
            throw new ApiException(404, msg, msg.startsWith("no profile") ? "key" : "value");
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, String.valueOf(e.getMessage()));
        } catch (IllegalStateException e) {
            if (String.valueOf(e.getMessage()).startsWith("pipeline busy")) throw new ApiException(503, e.getMessage());
            throw new ApiException(409, String.valueOf(e.getMessage()));
        } catch (TimeoutException e) {
            throw new ApiException(503, "the pipeline thread did not answer within " + TIMEOUT_MS + " ms");
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new ApiException(500, "internal error: " + e.getClass().getSimpleName());
        }
    }

    private <T> T callOrNull(Supplier<T> work) {
        try {
            return pipeline.call(work, TIMEOUT_MS);
        } catch (Exception e) {
            return null;
        }
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    /** The later of two ISO-8601 UTC times of the same format (null-safe). */
    private static String later(String a, String b) {
        if (a == null) return b;
        if (b == null) return a;
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static String formatTime(long ms) {
        return java.time.format.DateTimeFormatter.ISO_INSTANT.format(java.time.Instant.ofEpochSecond(Math.floorDiv(ms, 1000)));
    }

    private static String clip(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
