package io.driftwatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.testsupport.ReviewAgent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against an agent that requires a bearer token. */
final class ProfilesCliTokenTest {
    private static final String TOKEN = "cli-token-0123456789abcdef";
    @TempDir Path tmp;

    private static int run(Map<String, String> env, ByteArrayOutputStream err, String... args) {
        return ProfilesCli.run(List.of(args), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
    }

    @Test
    void token_fromFileOrEnv_elseClear401() throws Exception {
        try (ReviewAgent a = ReviewAgent.start(tmp, TOKEN)) {
            Map<String, String> env = new HashMap<>();
            env.put("DRIFTWATCH_URL", a.base);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertThat(run(env, err, "list")).isEqualTo(1);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("(401 unauthorized)").contains("--token-file");
            Path tf = tmp.resolve("cli-token");
            Files.writeString(tf, TOKEN + "\n");
            assertThat(run(env, new ByteArrayOutputStream(), "list", "--token-file", tf.toString())).isEqualTo(0);
            env.put("DRIFTWATCH_TOKEN", TOKEN);
            assertThat(run(env, new ByteArrayOutputStream(), "mode", "cache/redis/redis", "enforce")).isEqualTo(0);
            env.put("DRIFTWATCH_TOKEN", "wrong");
            assertThat(run(env, new ByteArrayOutputStream(), "list")).isEqualTo(1);
            ByteArrayOutputStream err2 = new ByteArrayOutputStream();
            assertThat(run(env, err2, "list", "--token-file", tmp.resolve("missing").toString())).isEqualTo(1);
            assertThat(err2.toString(StandardCharsets.UTF_8)).contains("cannot read token file");
        }
    }
}
