package io.driftwatch.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.json.Json;
import io.driftwatch.log.Log;
import io.driftwatch.profile.Dimension;
import io.driftwatch.testsupport.ReviewAgent;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Contract of the review API (docs/api.md), through a real agent on 127.0.0.1:0. */
final class ProfileApiTest {
    private static final String REDIS = "/api/v1/profiles/cache%2Fredis%2Fredis";
    @TempDir Path tmp;
    private ReviewAgent a;

    @BeforeEach
    void start() throws Exception {
        a = ReviewAgent.start(tmp, null);
    }

    @AfterEach
    void stop() {
        if (a != null) a.close();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(HttpResponse<String> r) {
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        return (Map<String, Object>) Json.parse(r.body());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        return (List<Map<String, Object>>) o;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private static void assertError(HttpResponse<String> r, int status, String field) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        Map<String, Object> m = json(r);
        assertThat(m.get("error")).isInstanceOf(String.class);
        if (field != null) assertThat(m.get("field")).isEqualTo(field);
    }

    // ---- list and show --------------------------------------------------------------------------

    @Test
    void list_examples_summaryPerProfile() throws Exception {
        HttpResponse<String> r = a.get("/api/v1/profiles");
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, Object> m = json(r);
        assertThat(m.get("node")).isEqualTo("test-node");
        List<Map<String, Object>> ps = list(m.get("profiles"));
        assertThat(ps).extracting(p -> p.get("key")).containsExactly("cache/redis/redis", "db/orders-db/postgres",
                ReviewAgent.HOSTILE_KEY, "shop/web/nginx");
        Map<String, Object> redis = ps.get(0);
        assertThat(redis).containsEntry("mode", "monitor").containsEntry("state", "monitor").containsEntry("approved", null);
        assertThat(map(redis.get("confidence"))).containsKeys("exec", "file_read", "file_write", "listen", "connect", "accept");
        assertThat(map(redis.get("entries_by_dimension"))).containsEntry("exec", 4);
        assertThat((Integer) redis.get("proposals")).isPositive();
        assertThat(redis.get("last_change")).isEqualTo("2026-01-01T00:11:40Z");
        assertThat(list(m.get("errors"))).isEmpty();
    }

    @Test
    void show_encodedAndRawKey_sameProfile() throws Exception {
        HttpResponse<String> enc = a.get(REDIS);
        HttpResponse<String> raw = a.get("/api/v1/profiles/cache/redis/redis");
        assertThat(enc.statusCode()).isEqualTo(200);
        assertThat(raw.statusCode()).isEqualTo(200);
        Map<String, Object> m = json(enc);
        assertThat(m.get("key")).isEqualTo("cache/redis/redis");
        assertThat(map(m.get("profile")).get("listening_ports").toString()).contains("tcp:6379");
        assertThat(json(raw).get("key")).isEqualTo("cache/redis/redis");
        assertThat(a.send("HEAD", REDIS, null, null).statusCode()).isEqualTo(200);
        // lower-case escapes and a mix of encoded and raw slashes name the same key
        assertThat(a.get("/api/v1/profiles/cache%2fredis/redis").statusCode()).isEqualTo(200);
    }

    @Test
    void show_yaml_isTheFileWithETag() throws Exception {
        HttpResponse<String> r = a.get(REDIS + "?format=yaml");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/yaml");
        assertThat(r.headers().firstValue("etag")).isPresent();
        assertThat(r.body()).startsWith("schema_version: 1\n").contains("key: cache/redis/redis");
        String file = a.agent.profiles().snapshot("cache/redis/redis").file();
        assertThat(Files.readString(a.dir.resolve(file))).isEqualTo(r.body());
    }

    @Test
    void show_unknownKey_404NamingKey() throws Exception {
        HttpResponse<String> r = a.get("/api/v1/profiles/no%2Fsuch%2Fkey");
        assertError(r, 404, "key");
        assertThat(r.body()).contains("no/such/key");
        assertError(a.get("/api/v1/profiles/no%2Fsuch/diff"), 404, "key");
        assertError(a.postJson("/api/v1/profiles/no%2Fsuch/mode", "{\"mode\":\"monitor\"}"), 404, "key");
    }

    // ---- hostile keys ---------------------------------------------------------------------------

    @Test
    void keys_traversalNulAndHuge_neverReachTheFileSystem() throws Exception {
        Path outside = tmp.resolve("outside.yaml");
        Files.writeString(outside, ReviewAgent.hostileProfile().replace(ReviewAgent.HOSTILE_KEY, "x"));
        List<String> before = listing();
        String big = "a".repeat(4096);
        String[][] cases = {
            {"/api/v1/profiles/../outside", "404"},
            {"/api/v1/profiles/..%2Foutside", "404"},
            {"/api/v1/profiles/%2e%2e%2f%2e%2e%2foutside", "404"},
            {"/api/v1/profiles/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd?format=yaml", "404"},
            {"/api/v1/profiles/..%2F..%2F..%2F..%2Fetc%2Fpasswd/diff", "404"},
            {"/api/v1/profiles/cache%2Fredis%2Fredis%00", "400"},
            {"/api/v1/profiles/%00", "400"},
            {"/api/v1/profiles/" + big, "400"},
            {"/api/v1/profiles/" + big + "/diff", "400"},
            {"/api/v1/profiles/bad%zzescape", "400"},
            {"/api/v1/profiles/%ff%fe", "400"},
            {"/api/v1/profiles/%2F", "404"},
        };
        for (String[] c : cases) {
            String resp = rawRequest("GET " + c[0] + " HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nConnection: close\r\n\r\n");
            assertThat(resp).as(c[0]).startsWith("HTTP/1.1 " + c[1] + " ");
            assertThat(resp).as(c[0]).doesNotContain("root:").doesNotContain("schema_version");
        }
        for (String w : new String[] {"/api/v1/profiles/..%2F..%2Foutside/mode", "/api/v1/profiles/../../outside/mode"}) {
            String body = "{\"mode\":\"monitor\"}";
            String resp = rawRequest("POST " + w + " HTTP/1.1\r\nHost: 127.0.0.1:" + a.port()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
            assertThat(resp).as(w).startsWith("HTTP/1.1 404 ");
        }
        // a 4 KiB key percent-encoded (12 KiB request line) is refused by the HTTP decoder
        String huge = "%2F".repeat(4096);
        assertThat(rawRequest("GET /api/v1/profiles/" + huge + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 4");
        assertThat(listing()).isEqualTo(before);
        assertThat(Files.readString(outside)).contains("key: \"x\"");
    }

    private List<String> listing() throws Exception {
        try (Stream<Path> s = Files.walk(tmp)) {
            return s.map(p -> tmp.relativize(p).toString()).sorted().toList();
        }
    }

    private String rawRequest(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", a.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void target_actionsAndKeys_parsed() {
        assertThat(ProfileApi.target("/api/v1/profiles/a%2Fb%2Fc")).isEqualTo(new ProfileApi.Target("a/b/c", ""));
        assertThat(ProfileApi.target("/api/v1/profiles/a/b/c")).isEqualTo(new ProfileApi.Target("a/b/c", ""));
        assertThat(ProfileApi.target("/api/v1/profiles/a/b/c/diff")).isEqualTo(new ProfileApi.Target("a/b/c", "diff"));
        assertThat(ProfileApi.target("/api/v1/profiles/a%2Fb%2Fdiff")).isEqualTo(new ProfileApi.Target("a/b/diff", ""));
        assertThat(ProfileApi.target("/api/v1/profiles/a%2Fb%2Fdiff/diff")).isEqualTo(new ProfileApi.Target("a/b/diff", "diff"));
        assertThat(ProfileApi.target("/api/v1/profiles/x/proposals/approve"))
                .isEqualTo(new ProfileApi.Target("x", "proposals/approve"));
        assertThat(ProfileApi.target("/api/v1/profiles/mode")).isEqualTo(new ProfileApi.Target("mode", ""));
        assertThat(ProfileApi.target("/api/v1/profiles/docker.io%2Flibrary%2Fredis%3Aredis"))
                .isEqualTo(new ProfileApi.Target("docker.io/library/redis:redis", ""));
        assertThat(ProfileApi.target("/api/v1/profiles/a%20b+c")).isEqualTo(new ProfileApi.Target("a b+c", ""));
        String k = "ns/wl/<c> ü%";
        assertThat(ProfileApi.target("/api/v1/profiles/" + ProfileApi.encodeKey(k) + "/mode")).isEqualTo(new ProfileApi.Target(k, "mode"));
        assertThat(ProfileApi.encodeKey("a/b/c")).isEqualTo("a%2Fb%2Fc");
    }

    // ---- proposals, diff ------------------------------------------------------------------------

    @Test
    void proposals_approveAndReject_leaveListAndAreRecorded() throws Exception {
        List<Map<String, Object>> ps = list(json(a.get(REDIS + "/proposals")).get("proposals"));
        assertThat(ps).isNotEmpty();
        Map<String, Object> first = ps.get(0), second = ps.get(1);
        String body1 = Json.write(Map.of("dimension", first.get("dimension"), "value", first.get("value")));
        HttpResponse<String> ok = a.postJson(REDIS + "/proposals/approve", body1);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(json(ok).get("result")).isEqualTo("approved");
        String body2 = Json.write(Map.of("dimension", second.get("dimension"), "value", second.get("value"), "reason", "not needed"));
        HttpResponse<String> rej = a.postJson(REDIS + "/proposals/reject", body2);
        assertThat(rej.statusCode()).as(rej.body()).isEqualTo(200);
        List<Map<String, Object>> after = list(json(a.get(REDIS + "/proposals")).get("proposals"));
        assertThat(after).hasSize(ps.size() - 2);
        Map<String, Object> doc = map(json(a.get(REDIS)).get("profile"));
        assertThat(doc.get("tombstones").toString()).contains(second.get("value").toString()).contains("not needed");
        assertThat(doc.toString()).contains("reviewed_by=");
        // deciding again: no longer open
        assertError(a.postJson(REDIS + "/proposals/approve", body1), 404, "value");
        assertError(a.postJson(REDIS + "/proposals/reject", "{\"dimension\":\"exec\",\"value\":\"/nope\"}"), 404, "value");
        // every API change saves the approved version: nothing to diff
        Map<String, Object> diff = json(a.get(REDIS + "/diff"));
        assertThat(diff.get("changes")).isEqualTo(0);
        assertThat(map(diff.get("approved")).get("by").toString()).contains("127.0.0.1");
        assertThat(Files.list(a.dir).map(p -> p.getFileName().toString())).anyMatch(n -> n.endsWith(".yaml.approved"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void diff_againstApprovedVersion_listsAddedAndRemoved() throws Exception {
        Map<String, Object> none = json(a.get(REDIS + "/diff"));
        assertThat(none.get("approved")).isNull();
        assertThat(list(map(map(none.get("dimensions")).get("exec")).get("added"))).hasSize(4);
        assertThat(a.send("POST", REDIS + "/approve", "application/json", "").statusCode()).isEqualTo(200);
        assertThat(json(a.get(REDIS + "/diff")).get("changes")).isEqualTo(0);
        // changes not made through the API (the learner, a file edit) show up against the approved copy
        a.agent.pipeline().call(() -> {
            a.agent.profiles().removeEntry("cache/redis/redis", Dimension.EXEC, "/usr/bin/find", "test");
            a.agent.profiles().addEntry("cache/redis/redis", Dimension.CONNECT, "tcp:10.0.0.9:443", "test");
            return null;
        }, 5000);
        Map<String, Object> diff = json(a.get(REDIS + "/diff"));
        assertThat(diff.get("changes")).isEqualTo(2);
        Map<String, Object> dims = map(diff.get("dimensions"));
        assertThat((List<Object>) map(dims.get("exec")).get("removed")).containsExactly("/usr/bin/find");
        assertThat(list(map(dims.get("connect")).get("added"))).extracting(e -> e.get("value")).containsExactly("tcp:10.0.0.9:443");
        // the approved copy survives a restart of the agent (it is a file)
        a.close();
        a = ReviewAgent.startExisting(tmp, null);
        assertThat(json(a.get(REDIS + "/diff")).get("changes")).isEqualTo(2);
    }

    // ---- mode, entries, relearn -----------------------------------------------------------------

    @Test
    void mode_transitions_followTheStoreRules() throws Exception {
        HttpResponse<String> r = a.send("PUT", REDIS + "/mode", "application/json", "{\"mode\":\"enforce\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(map(json(r).get("profile")).get("mode")).isEqualTo("enforce");
        assertThat(a.postJson(REDIS + "/mode", "{\"mode\":\"learning\"}").statusCode()).isEqualTo(200);
        HttpResponse<String> refused = a.postJson(REDIS + "/mode", "{\"mode\":\"enforce\"}");
        assertError(refused, 409, null);
        assertThat(refused.body()).contains("monitor first");
        assertError(a.postJson(REDIS + "/mode", "{\"mode\":\"ENFORCE!\"}"), 400, "mode");
        assertError(a.postJson(REDIS + "/mode", "{\"mode\":1}"), 400, "mode");
        assertError(a.postJson(REDIS + "/mode", "{\"mode\":null}"), 400, "mode");
        assertError(a.postJson(REDIS + "/mode", "{}"), 400, "mode");
        assertError(a.postJson(REDIS + "/mode", "{\"mode\":\"monitor\",\"force\":true}"), 400, "force");
        assertError(a.send("GET", REDIS + "/mode", null, null), 405, null);
        assertThat(a.agent.profiles().snapshot("cache/redis/redis").mode()).isEqualTo("learning");
    }

    @Test
    void entries_addThenTombstone_byBodyAndByQuery() throws Exception {
        HttpResponse<String> add = a.postJson(REDIS + "/entries", "{\"dimension\":\"file_read\",\"value\":\"/etc/redis/extra.conf\"}");
        assertThat(add.statusCode()).as(add.body()).isEqualTo(200);
        assertThat(a.get(REDIS).body()).contains("/etc/redis/extra.conf");
        HttpResponse<String> del = a.send("DELETE", REDIS + "/entries", "application/json",
                "{\"dimension\":\"file_reads\",\"value\":\"/etc/redis/extra.conf\",\"reason\":\"test\"}");
        assertThat(del.statusCode()).as(del.body()).isEqualTo(200);
        HttpResponse<String> delq = a.send("DELETE", REDIS + "/entries?dimension=exec&value=%2Fusr%2Fbin%2Ffind", null, null);
        assertThat(delq.statusCode()).as(delq.body()).isEqualTo(200);
        Map<String, Object> doc = map(json(a.get(REDIS)).get("profile"));
        assertThat(doc.get("executables").toString()).doesNotContain("/usr/bin/find");
        assertThat(doc.get("tombstones").toString()).contains("/usr/bin/find").contains("/etc/redis/extra.conf");

        assertError(a.postJson(REDIS + "/entries", "{\"dimension\":\"files\",\"value\":\"/x\"}"), 400, "dimension");
        assertError(a.postJson(REDIS + "/entries", "{\"dimension\":\"exec\",\"value\":\"relative/path\"}"), 400, "value");
        assertError(a.postJson(REDIS + "/entries", "{\"dimension\":\"listen\",\"value\":\"tcp:99999\"}"), 400, "value");
        assertError(a.postJson(REDIS + "/entries", "{\"dimension\":\"exec\",\"value\":[\"/bin/sh\"]}"), 400, "value");
        assertError(a.postJson(REDIS + "/entries", "{\"dimension\":\"exec\",\"value\":\"/" + "a".repeat(9000) + "\"}"), 400, "value");
        assertError(a.postJson(REDIS + "/entries", "{\"dimension\":\"exec\"}"), 400, "value");
        assertError(a.send("PUT", REDIS + "/entries", "application/json", "{}"), 405, null);
    }

    @Test
    void relearn_oneDimension_clearsItsEntries() throws Exception {
        HttpResponse<String> r = a.postJson(REDIS + "/relearn", "{\"dimension\":\"exec\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        Map<String, Object> s = json(a.get(REDIS));
        assertThat((List<?>) map(s.get("profile")).get("executables")).isEmpty();
        assertThat(s.get("state")).isEqualTo("monitor");
        assertError(a.postJson(REDIS + "/relearn", "{\"dimension\":\"\"}"), 400, "dimension");
    }

    // ---- hostile bodies -------------------------------------------------------------------------

    @Test
    void bodies_hostile_clearErrors() throws Exception {
        assertError(a.postJson(REDIS + "/mode", "{\"mode\":"), 400, "body");
        assertError(a.postJson(REDIS + "/mode", "[1,2]"), 400, "body");
        assertError(a.postJson(REDIS + "/mode", "\"monitor\""), 400, "body");
        assertError(a.postJson(REDIS + "/mode", "{\"mode\":\"monitor\",\"mode\":\"enforce\"}"), 400, "body");
        assertError(a.postJson(REDIS + "/mode", "[".repeat(5000)), 400, "body");
        assertError(a.postJson(REDIS + "/mode", "{a: &x [1], b: *x}"), 400, null);
        assertError(a.postJson(REDIS + "/mode", ""), 400, "body");
        assertError(a.send("POST", REDIS + "/mode", "text/plain", "{\"mode\":\"monitor\"}"), 415, "content-type");
        assertError(a.send("POST", REDIS + "/mode", "application/x-www-form-urlencoded", "mode=monitor"), 415, "content-type");
        assertError(a.send("POST", REDIS + "/mode", null, "{\"mode\":\"monitor\"}"), 415, "content-type");
        assertError(a.send("POST", REDIS + "/approve", null, null), 415, "content-type");
        HttpResponse<String> huge = a.postJson(REDIS + "/mode", "{\"mode\":\"" + "x".repeat(HttpServer.MAX_BODY_BYTES + 10) + "\"}");
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(a.get(REDIS).statusCode()).isEqualTo(200); // still serving
        assertThat(a.agent.profiles().snapshot("cache/redis/redis").mode()).isEqualTo("monitor");
    }

    @Test
    void origin_crossSite_refused() throws Exception {
        String body = "{\"mode\":\"enforce\"}";
        String resp = rawRequest("POST " + REDIS + "/mode HTTP/1.1\r\nHost: 127.0.0.1:" + a.port()
                + "\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(resp).startsWith("HTTP/1.1 403 ");
        String rebound = rawRequest("GET " + REDIS + " HTTP/1.1\r\nHost: evil.example:" + a.port() + "\r\nConnection: close\r\n\r\n");
        assertThat(rebound).startsWith("HTTP/1.1 403 ");
        String same = rawRequest("GET " + REDIS + " HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nOrigin: http://127.0.0.1:"
                + a.port() + "\r\nConnection: close\r\n\r\n");
        assertThat(same).startsWith("HTTP/1.1 200 ");
        assertThat(a.agent.profiles().snapshot("cache/redis/redis").mode()).isEqualTo("monitor");
    }

    // ---- YAML upload (profiles edit) ------------------------------------------------------------

    @Test
    void upload_editedYaml_appliedLikeAFileEdit() throws Exception {
        HttpResponse<String> got = a.get(REDIS + "?format=yaml");
        String etag = got.headers().firstValue("etag").orElseThrow();
        String yaml = got.body();
        String edited = yaml.replace("mode: monitor", "mode: enforce")
                .replaceAll("(?s)  - value: /usr/bin/find\n.*?(?=  - value: /usr/local/bin/docker-entrypoint.sh)", "");
        assertThat(edited).doesNotContain("/usr/bin/find");
        HttpResponse<String> put = a.agent == null ? null : putYaml(REDIS, edited, etag);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        Map<String, Object> doc = map(json(a.get(REDIS)).get("profile"));
        assertThat(doc.get("mode")).isEqualTo("enforce");
        assertThat(doc.get("mode_changed_by").toString()).contains("127.0.0.1");
        assertThat(doc.get("tombstones").toString()).contains("/usr/bin/find");
        // the old ETag is stale now
        assertError(putYaml(REDIS, yaml, etag), 409, null);
    }

    @Test
    void upload_badEdit_400WithLineAndNothingChanged() throws Exception {
        String yaml = a.get(REDIS + "?format=yaml").body();
        String bad = yaml.replace("  - value: /usr/bin/find", "  - value: usr/bin/find");
        HttpResponse<String> r = putYaml(REDIS, bad, null);
        assertError(r, 400, "body");
        Map<String, Object> m = json(r);
        assertThat((Integer) m.get("line")).isEqualTo(yaml.lines().toList().indexOf("  - value: /usr/bin/find") + 1);
        assertThat(m.get("problem").toString()).isNotEmpty();
        assertError(putYaml(REDIS, "schema_version: 1\nkey: [\n", null), 400, "body");
        assertError(putYaml(REDIS, yaml.replace("key: cache/redis/redis", "key: other/key/x"), null), 400, "key");
        assertError(a.send("PUT", REDIS, "application/json", "{}"), 415, "content-type");
        assertThat(a.get(REDIS).body()).contains("/usr/bin/find");
        assertThat(a.agent.profiles().errors()).isEmpty();
    }

    private HttpResponse<String> putYaml(String path, String yaml, String etag) throws Exception {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(a.base + path))
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(yaml)).header("Content-Type", "application/yaml");
        if (etag != null) b.header("If-Match", etag);
        return java.net.http.HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    // ---- logging, static page -------------------------------------------------------------------

    @Test
    void changes_loggedWithCaller() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Log.configure("json", "info", new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(java.net.URI.create(a.base + REDIS + "/mode"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"mode\":\"enforce\"}"))
                    .header("Content-Type", "application/json").header("X-Driftwatch-Operator", "alice <x>").build();
            assertThat(java.net.http.HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(200);
        } finally {
            Log.configure("json", "info", System.err);
        }
        String log = buf.toString(StandardCharsets.UTF_8);
        assertThat(log).contains("\"msg\":\"api: mode set\"").contains("\"key\":\"cache/redis/redis\"")
                .contains("\"from\":\"monitor\"").contains("\"to\":\"enforce\"").contains("\"caller\":\"alice__x_ via 127.0.0.1\"");
    }

    @Test
    void page_servedWithTypesAndCsp() throws Exception {
        HttpResponse<String> index = a.get("/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(index.headers().firstValue("content-security-policy").orElse("")).contains("default-src 'none'")
                .contains("script-src 'self'").doesNotContain("unsafe");
        assertThat(index.body()).contains("<script src=\"/ui/app.js\"").doesNotContain("http://").doesNotContain("https://");
        assertThat(a.get("/ui/app.js").headers().firstValue("content-type")).hasValue("text/javascript; charset=utf-8");
        assertThat(a.get("/ui/style.css").headers().firstValue("content-type")).hasValue("text/css; charset=utf-8");
        assertThat(a.get("/ui/nope.js").statusCode()).isEqualTo(404);
        assertThat(rawRequest("GET /ui/../io/driftwatch/learn/default-rules.yaml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 404 ");
        assertThat(rawRequest("GET /ui/%2e%2e%2fMETA-INF%2fMANIFEST.MF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 404 ");
    }
}
