package io.driftwatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.json.Json;
import io.driftwatch.testsupport.ReviewAgent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** `driftwatch profiles ...` against a real agent on 127.0.0.1:0 (main logic run in-process). */
final class ProfilesCliTest {
    private static final String REDIS = "cache/redis/redis";
    @TempDir Path tmp;
    private ReviewAgent a;
    private final Map<String, String> env = new HashMap<>();

    private record Run(int code, String out, String err) {}

    @BeforeEach
    void start() throws Exception {
        a = ReviewAgent.start(tmp, null);
        env.put("DRIFTWATCH_URL", a.base);
        env.put("USER", "alice");
    }

    @AfterEach
    void stop() {
        if (a != null) a.close();
    }

    private Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = ProfilesCli.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void list_table_oneRowPerProfile() {
        Run r = cli("list");
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).startsWith("KEY").contains("MODE").contains("STATE").contains("CONF").contains("PROPOSALS");
        assertThat(lines).anyMatch(l -> l.startsWith("cache/redis/redis ") && l.contains("monitor") && l.contains("1.00")
                && l.endsWith("never"));
        assertThat(lines).anyMatch(l -> l.startsWith("shop/web/nginx "));
        assertThat(lines).anyMatch(l -> l.startsWith(ReviewAgent.HOSTILE_KEY) && l.contains("learning"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void list_jsonAndYaml_machineReadable() {
        Run j = cli("list", "--output", "json");
        assertThat(j.code()).isEqualTo(0);
        Map<String, Object> m = Json.parseObject(j.out());
        assertThat((List<Object>) m.get("profiles")).hasSize(4);
        Run y = cli("--output=yaml", "list");
        assertThat(y.code()).isEqualTo(0);
        Map<String, Object> ym = new Yaml(new SafeConstructor(new LoaderOptions())).load(y.out());
        assertThat((List<Object>) ym.get("profiles")).hasSize(4);
    }

    @Test
    void show_table_entriesWithEvidence() {
        Run r = cli("show", REDIS);
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("key:          cache/redis/redis").contains("mode:         monitor")
                .contains("file_reads (file_read):").contains("VALUE").contains("FIRST SEEN")
                .contains("/proc/[pid]/stat").contains("generalised by proc-pid; e.g. /proc/").contains("tcp:6379");
        assertThat(cli("show", "shop/web/nginx").out()).contains("fanout 17");
    }

    @Test
    void proposals_approveRejectAndDiff() throws Exception {
        Run p = cli("proposals", REDIS);
        assertThat(p.code()).isEqualTo(0);
        assertThat(p.out()).contains("generalised").contains("/data/temp-[num].rdb");
        Run ok = cli("approve", REDIS, "file_write", "/data/temp-[num].rdb");
        assertThat(ok.code()).as(ok.err()).isEqualTo(0);
        assertThat(ok.out()).startsWith("ok: cache/redis/redis: approved (mode monitor");
        Run rej = cli("reject", REDIS, "file_read", "/proc/[pid]/smaps", "--reason", "not needed");
        assertThat(rej.code()).as(rej.err()).isEqualTo(0);
        assertThat(cli("proposals", REDIS).out()).doesNotContain("/data/temp-[num].rdb").doesNotContain("/proc/[pid]/smaps");
        assertThat(a.get(REDIS_PATH()).body()).contains("alice via 127.0.0.1");
        Run again = cli("approve", REDIS, "file_write", "/data/temp-[num].rdb");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("no open proposal");
        Run diff = cli("diff", REDIS);
        assertThat(diff.code()).isEqualTo(0);
        assertThat(diff.out()).startsWith("cache/redis/redis: 0 change(s) since the version approved ");
    }

    private static String REDIS_PATH() {
        return "/api/v1/profiles/cache%2Fredis%2Fredis";
    }

    @Test
    void diff_neverApproved_everythingAdded() {
        Run d = cli("diff", REDIS);
        assertThat(d.code()).isEqualTo(0);
        assertThat(d.out()).contains("never approved").contains("  + exec /usr/local/bin/redis-server");
        assertThat(cli("approve", REDIS).code()).isEqualTo(0);
        assertThat(cli("diff", REDIS).out()).contains("0 change(s)");
    }

    @Test
    void mode_switch_andRefusal() {
        Run ok = cli("mode", REDIS, "enforce");
        assertThat(ok.code()).as(ok.err()).isEqualTo(0);
        assertThat(ok.out()).contains("mode enforce");
        assertThat(a.agent.profiles().snapshot(REDIS).mode()).isEqualTo("enforce");
        assertThat(cli("mode", REDIS, "learning").code()).isEqualTo(0);
        Run refused = cli("mode", REDIS, "enforce");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("move it to monitor first").contains("(409)");
        Run usage = cli("mode", REDIS, "enforcing");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("mode must be learning, monitor or enforce");
    }

    @Test
    void relearn_dimension() {
        Run r = cli("relearn", REDIS, "exec");
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        assertThat(cli("show", REDIS).out()).contains("executables (exec): 0");
        Run bad = cli("relearn", REDIS, "execs");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("unknown dimension").contains("[field: dimension]");
    }

    @Test
    void errors_unknownKeyAndNoAgent_clearMessages() throws Exception {
        Run missing = cli("show", "no/such/thing");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("driftwatch: no profile 'no/such/thing' on the agent at " + a.base
                + " (see `driftwatch profiles list`)\n");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run down = cli("list", "--url", "http://127.0.0.1:" + port);
        assertThat(down.code()).isEqualTo(1);
        assertThat(down.err()).isEqualTo("driftwatch: cannot connect to the agent at http://127.0.0.1:" + port
                + ": is `./driftwatch run` running?\n");
    }

    @Test
    void usage_errors_exit2() {
        assertThat(cli().code()).isEqualTo(2);
        assertThat(cli("frobnicate").code()).isEqualTo(2);
        assertThat(cli("show").code()).isEqualTo(2);
        assertThat(cli("show", "a", "b").code()).isEqualTo(2);
        assertThat(cli("list", "--output", "xml").code()).isEqualTo(2);
        assertThat(cli("list", "--bogus").code()).isEqualTo(2);
        assertThat(cli("list", "--url", "ftp://x").code()).isEqualTo(2);
        assertThat(cli("approve", REDIS, "exec").code()).isEqualTo(2);
        Run help = cli("--help");
        assertThat(help.code()).isEqualTo(0);
        assertThat(help.out()).contains("usage: driftwatch profiles");
    }

    @Test
    void edit_withEditor_uploadsAndApplies() throws Exception {
        env.put("EDITOR", "sed -i -e 's/^mode: monitor$/mode: enforce/'");
        Run r = cli("edit", REDIS);
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).startsWith("ok: cache/redis/redis: replaced (mode enforce");
        assertThat(a.agent.profiles().snapshot(REDIS).mode()).isEqualTo("enforce");
        env.put("EDITOR", "true");
        assertThat(cli("edit", REDIS).out()).startsWith("no changes");
    }

    @Test
    void edit_badEdit_refusedWithLineAndKept() throws Exception {
        env.put("EDITOR", "sed -i -e 's/^  - value: \\/usr\\/bin\\/find$/  - value: usr\\/bin\\/find/'");
        Run r = cli("edit", REDIS);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("edit of cache/redis/redis refused: line ").contains("your edit is kept in ");
        String kept = r.err().replaceAll("(?s).*your edit is kept in (\\S+) .*", "$1");
        assertThat(Files.readString(Path.of(kept))).contains("  - value: usr/bin/find");
        assertThat(a.agent.profiles().snapshot(REDIS).document().toString()).contains("/usr/bin/find");
        // fixed by hand, uploaded from the kept file
        Files.writeString(Path.of(kept), Files.readString(Path.of(kept)).replace("value: usr/bin/find", "value: /usr/bin/find2"));
        Run up = cli("edit", REDIS, "--file", kept);
        assertThat(up.code()).as(up.err()).isEqualTo(0);
        assertThat(a.get(REDIS_PATH()).body()).contains("/usr/bin/find2");
        Files.deleteIfExists(Path.of(kept));
        env.put("EDITOR", "false");
        Run failed = cli("edit", REDIS);
        assertThat(failed.code()).isEqualTo(1);
        assertThat(failed.err()).contains("exited with 1; nothing uploaded");
    }

    @Test
    void clean_controlCharacters_replaced() {
        assertThat(ProfilesCli.clean("/tmp/\u001b[31mred\u0007")).isEqualTo("/tmp/?[31mred?");
    }
}
