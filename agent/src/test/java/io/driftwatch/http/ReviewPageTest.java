package io.driftwatch.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.json.Json;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.ReviewAgent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The review page in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core from npm, installed on first use into agent/target/ui-test; no browser is
 * downloaded). A real agent with a token serves the example profiles plus a hostile one; the
 * browser enters the token, reads the table, opens a profile, approves a proposal, switches to
 * enforce (confirming the dialog), and renders HTML/JS payloads as text. The API confirms the
 * changes. Screenshot: agent/target/review-page.png (docs/review-page.png with
 * -Ddriftwatch.updateScreenshot=true).
 */
@Privileged(tools = {"chromium", "npm"})
final class ReviewPageTest {
    /** Pinned: the version the page test was written against. */
    static final String PLAYWRIGHT_CORE = "playwright-core@1.65.1";
    private static final String TOKEN = "page-token-0123456789abcdef";
    @TempDir Path tmp;

    private static Path repo() {
        return Path.of(System.getProperty("driftwatch.repo", "..")).toAbsolutePath().normalize();
    }

    /** Installs playwright-core under agent/target/ui-test when missing; returns its module directory. */
    static Path playwrightCore() throws Exception {
        Path prefix = repo().resolve("agent/target/ui-test");
        Path module = prefix.resolve("node_modules/playwright-core");
        if (Files.isRegularFile(module.resolve("package.json"))
                && Files.readString(module.resolve("package.json")).contains("\"version\": \"" + PLAYWRIGHT_CORE.split("@")[1] + "\"")) {
            return module;
        }
        Files.createDirectories(prefix);
        ProcessBuilder pb = new ProcessBuilder("npm", "install", "--prefix", prefix.toString(), "--no-audit", "--no-fund",
                "--no-save", "--loglevel=error", PLAYWRIGHT_CORE).redirectErrorStream(true)
                .redirectOutput(prefix.resolve("npm-install.log").toFile());
        pb.environment().put("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Process p = pb.start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) throw new IllegalStateException("npm install " + PLAYWRIGHT_CORE + " took over 60 s");
            if (p.exitValue() != 0) {
                throw new IllegalStateException("npm install " + PLAYWRIGHT_CORE + " failed: "
                        + Files.readString(prefix.resolve("npm-install.log")));
            }
        } finally {
            stop(p);
        }
        return module;
    }

    /** Stops a process and everything it started (by process id; Chromium is node's child). */
    private static void stop(Process p) {
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy();
        for (ProcessHandle c : children) c.destroy();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle c : children) if (c.isAlive()) c.destroyForcibly();
        if (p.isAlive()) p.destroyForcibly();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    @SuppressWarnings("unchecked")
    void page_tokenTableApproveModeAndXss_inChromium() throws Exception {
        Path module = playwrightCore();
        Path script = tmp.resolve("review-page.cjs");
        try (var in = ReviewPageTest.class.getResourceAsStream("/ui/review-page.cjs")) {
            Files.write(script, in.readAllBytes());
        }
        Path shot = tmp.resolve("review-page.png");
        try (ReviewAgent a = ReviewAgent.start(tmp, TOKEN)) {
            ProcessBuilder pb = new ProcessBuilder("node", script.toString()).redirectError(tmp.resolve("node.err").toFile());
            Map<String, String> env = pb.environment();
            env.put("PLAYWRIGHT_CORE", module.toString());
            env.put("DW_BASE", a.base);
            env.put("DW_TOKEN", TOKEN);
            env.put("DW_HOSTILE_KEY", ReviewAgent.HOSTILE_KEY);
            env.put("DW_XSS_FILE", ReviewAgent.XSS_FILE);
            env.put("DW_SCREENSHOT", shot.toString());
            env.put("DW_USER_DATA_DIR", Files.createDirectories(tmp.resolve("chromium-profile")).toString());
            Process node = pb.start();
            String out;
            try {
                if (!node.waitFor(60, TimeUnit.SECONDS)) throw new IllegalStateException("browser script took over 60 s");
                out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } finally {
                stop(node);
            }
            String err = readQuietly(tmp.resolve("node.err"));
            assertThat(out).as("stderr: " + err).isNotBlank();
            Map<String, Object> r = Json.parseObject(out.lines().reduce((x, y) -> y).orElse("{}"));
            assertThat(r.get("ok")).as(out + "\nstderr: " + err).isEqualTo(true);

            // token: asked for, kept for the session only
            assertThat(r.get("tokenInSession")).isEqualTo(TOKEN);
            assertThat((List<Object>) r.get("localStorageKeys")).isEmpty();
            // the table
            List<List<String>> rows = (List<List<String>>) r.get("rows");
            assertThat(rows).extracting(row -> row.get(0)).contains("cache/redis/redis", "shop/web/nginx", ReviewAgent.HOSTILE_KEY);
            List<String> redis = rows.stream().filter(row -> row.get(0).equals("cache/redis/redis")).findFirst().orElseThrow();
            assertThat(redis.get(1)).isEqualTo("monitor");
            assertThat(redis.get(2)).isEqualTo("monitor");
            assertThat(redis.get(3)).endsWith("1.00");
            // entries per dimension with their evidence
            assertThat((List<String>) r.get("sections")).contains("Executables (4)", "Listening ports (1)");
            assertThat(String.join("\n", (List<String>) r.get("evidence"))).contains("generalised by proc-pid").contains("/proc/21/smaps");
            // approve + mode, confirmed through the API
            assertThat(((Number) r.get("proposalsAfter")).intValue()).isEqualTo(((Number) r.get("proposalsBefore")).intValue() - 1);
            Map<String, Object> approved = (Map<String, Object>) r.get("approved");
            String proposals = a.get("/api/v1/profiles/cache%2Fredis%2Fredis/proposals").body();
            assertThat(proposals).doesNotContain("\"value\":" + Json.write(approved.get("value")));
            assertThat(a.agent.profiles().snapshot("cache/redis/redis").mode()).isEqualTo("enforce");
            assertThat(a.get("/api/v1/profiles/cache%2Fredis%2Fredis/diff").body()).contains("\"changes\":0");
            assertThat(r.get("modeShown")).isEqualTo("enforce");
            assertThat((List<Object>) r.get("strayText")).isEmpty();
            assertThat((List<Map<String, Object>>) r.get("dialogs")).singleElement()
                    .satisfies(d -> assertThat(d.get("type")).isEqualTo("confirm"));
            // XSS: payloads are text, nothing injected, no alert
            assertThat(r.get("hostileKeyShown")).isEqualTo(ReviewAgent.HOSTILE_KEY);
            assertThat((List<String>) r.get("hostileValues")).contains(ReviewAgent.XSS_FILE, "/srv/<svg onload=alert(3)>/*");
            assertThat((Map<String, Object>) r.get("injected")).containsEntry("img", 0).containsEntry("svg", 0)
                    .containsEntry("iframe", 0).containsEntry("b", 0).containsEntry("scripts", 1);
            // offline: no request left loopback; no CSP violation or script error
            assertThat((List<Object>) r.get("blocked")).isEmpty();
            assertThat((List<Object>) r.get("consoleErrors")).allSatisfy(e ->
                    assertThat(e.toString()).doesNotContain("Content Security Policy").doesNotContain("pageerror"));
        }
        assertThat(Files.size(shot)).isGreaterThan(10_000);
        // the committed screenshot changes only on request (it shows times, so every run differs)
        Files.createDirectories(repo().resolve("agent/target"));
        Files.copy(shot, repo().resolve("agent/target/review-page.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        if (Boolean.getBoolean("driftwatch.updateScreenshot")) {
            Files.copy(shot, repo().resolve("docs/review-page.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
