package io.driftwatch.pipeline;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class PathNormalizerTest {

    private static String norm(String path) {
        byte[] raw = path.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(raw.length + 8);
        b.position(3); // not at offset 0: the record's path starts inside a batch buffer
        b.put(raw);
        int n = PathNormalizer.normalize(b, 3, raw.length);
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) out[i] = b.get(3 + i);
        return new String(out, StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @CsvSource({
        "/etc/passwd, /etc/passwd",
        "/var/lib/redis/../../../etc/shadow, /etc/shadow",
        "/../../etc/shadow, /etc/shadow",
        "/a/./b//c/, /a/b/c",
        "/a/b/.., /a",
        "/a/b/., /a/b",
        "/, /",
        "/., /",
        "/.., /",
        "//, /",
        "/home/u/.bashrc, /home/u/.bashrc",
        "/a/..b/.c./..., /a/..b/.c./...",
        "/a/b/../../.., /",
        "/www/../etc/../etc/./passwd, /etc/passwd",
        "relative/../x, relative/../x",
        "./x, ./x",
    })
    void lexical_normalisation(String in, String want) {
        assertThat(norm(in)).isEqualTo(want);
    }

    @Test
    void a_4KiB_path_of_dot_dots_ends_at_the_root() {
        String p = "/..".repeat(1365) + "/etc/shadow";
        assertThat(p.length()).isGreaterThan(4000);
        assertThat(norm(p)).isEqualTo("/etc/shadow");
        assertThat(norm("/a".repeat(2000) + "/" + "../".repeat(1999))).isEqualTo("/a");
    }

    @Test
    void an_open_record_is_rewritten_in_place_and_an_exec_keeps_its_argv() {
        ByteBuffer b = ByteBuffer.allocateDirect(16384).order(ByteOrder.nativeOrder());
        EventWriter w = new EventWriter(b);
        int open = w.position();
        w.header(SRC_BPF, 0, 42, 0, 7, 0, 0, "cat");
        w.open("/var/log/../../etc/shadow", 0, ACC_READ, 3, 1, 2);
        int exec = w.position();
        w.header(SRC_BPF, 0, 42, 0, 8, 0, 0, "sh");
        w.exec("/tmp/../bin/./sh", List.of("sh", "-c", "id"), 0);
        PathNormalizer n = new PathNormalizer();

        EventView ev = new EventView().wrap(b, open);
        n.onEvent(ev, null);
        assertThat(ev.path()).isEqualTo("/etc/shadow");
        assertThat(ev.pathLen()).isEqualTo(11);
        assertThat(ev.check(w.position())).isNull();

        ev.wrap(b, exec);
        n.onEvent(ev, null);
        assertThat(ev.filename()).isEqualTo("/bin/sh");
        assertThat(ev.argv()).containsExactly("sh", "-c", "id");
    }
}
