package io.driftwatch.respond;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.detect.Deviation;
import io.driftwatch.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class JsonLinesSinkTest {
    static Deviation deviation(String value) {
        Instant t = Instant.parse("2026-11-29T10:00:00Z");
        return new Deviation(t, "node-1", "abc123", "shop", "web-1", "nginx", "web", "nginx:1.25", "exec", value, 42,
                "sh", "/bin/sh", "/usr/sbin/nginx", "monitor", "alert", "shop/web/nginx", Map.of(), 1, t);
    }

    @Test
    void emit_writesOneParsableObjectPerLineWithTheContractFields() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonLinesSink s = new JsonLinesSink(new PrintStream(bytes, true), null, 1 << 20, 1)) {
            s.emit(deviation("/bin/sh\nfake line"));
        }
        List<String> lines = bytes.toString().lines().toList();
        assertThat(lines).hasSize(1);
        Map<String, Object> rec = Json.parseObject(lines.get(0));
        assertThat(rec).containsKeys("time", "node", "container_id", "namespace", "pod", "container", "workload", "image",
                "kind", "value", "pid", "comm", "exe", "parent_exe", "profile_state", "action");
        assertThat(rec.get("value")).isEqualTo("/bin/sh\nfake line");
    }

    @Test
    void file_rotatesBySizeAndKeepsN(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("dev.jsonl");
        try (JsonLinesSink s = new JsonLinesSink(null, f, 1000, 2)) {
            for (int i = 0; i < 20; i++) s.emit(deviation("/bin/x" + i));
        }
        assertThat(f).exists();
        assertThat(dir.resolve("dev.jsonl.1")).exists();
        assertThat(dir.resolve("dev.jsonl.2")).exists();
        assertThat(dir.resolve("dev.jsonl.3")).doesNotExist();
        assertThat(Files.size(f)).isLessThanOrEqualTo(1000);
        assertThat(Files.readString(f)).contains("/bin/x19");
    }

    @Test
    void unwritableFile_isCountedNotThrown(@TempDir Path dir) throws Exception {
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "x");
        try (JsonLinesSink s = new JsonLinesSink(null, blocker.resolve("sub.jsonl"), 1000, 1)) {
            s.emit(deviation("/bin/sh"));
            assertThat(s.failures()).isEqualTo(1);
        }
    }
}
