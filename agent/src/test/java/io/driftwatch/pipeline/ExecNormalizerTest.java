package io.driftwatch.pipeline;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.bridge.Hashing;
import io.driftwatch.container.ContainerInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ExecNormalizerTest {
    @TempDir Path proc;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
    private final EventView view = new EventView();
    private ContainerState c;
    private ExecNormalizer normalizer;

    @BeforeEach
    void setUp() throws Exception {
        // the container's root as seen through /proc/<init>/root: busybox in /bin, an applet link in /usr/bin
        Path root = proc.resolve("100/root");
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("usr/bin"));
        Files.writeString(root.resolve("bin/busybox"), "");
        Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("busybox"));
        Files.createSymbolicLink(root.resolve("usr/bin/wget"), Path.of("../../bin/busybox"));
        ContainerInfo info = new ContainerInfo("c1", "runc", "/c1", "ns", "pod", "uid", "ctr", "img", "dig", "w", "Deployment", null);
        c = new ContainerState(44, info, 44, 0);
        c.initPid = 100;
        normalizer = new ExecNormalizer(proc);
    }

    private EventView exec(String filename, int flags, String... argv) {
        EventWriter w = new EventWriter(buf);
        w.header(SRC_BPF, 1, 44, 0, 123, 100, 0, "x").flags(flags).exec(filename, List.of(argv), 0);
        return view.wrap(buf, 0);
    }

    @Test
    void selfExeReexec_isNamedByTheAppletsPathInTheContainer() {
        EventView ev = exec("/proc/self/exe", F_RUNTIME, "sh", "-c", "id");
        normalizer.onEvent(ev, c);
        assertThat(ev.filename()).isEqualTo("/bin/sh");
        assertThat(ev.filenameHash()).isEqualTo(Hashing.hash("/bin/sh"));
        assertThat(ev.hasFlag(F_RUNTIME)).as("a busybox applet is the container's own work").isFalse();
        assertThat(ev.argv()).containsExactly("sh", "-c", "id");

        EventView w = exec("/proc/self/exe", F_RUNTIME, "wget", "-q", "http://x/");
        normalizer.onEvent(w, c);
        assertThat(w.filename()).as("first PATH directory holding the name").isEqualTo("/usr/bin/wget");
    }

    @Test
    void runcInit_keepsTheRuntimeFlag_andMemfdReexecGetsIt() {
        EventView init = exec("/proc/self/exe", F_RUNTIME, "/proc/self/exe", "init");
        normalizer.onEvent(init, c);
        assertThat(init.filename()).isEqualTo("/proc/self/exe");
        assertThat(init.hasFlag(F_RUNTIME)).isTrue();
        EventView memfd = exec("/", 0, "runc", "init");
        normalizer.onEvent(memfd, c);
        assertThat(memfd.hasFlag(F_RUNTIME)).isTrue();
    }

    @Test
    void unknownApplet_andOrdinaryExecs_areLeftAlone() {
        EventView ev = exec("/proc/self/exe", F_RUNTIME, "no-such-applet");
        normalizer.onEvent(ev, c);
        assertThat(ev.filename()).isEqualTo("/proc/self/exe");
        EventView cat = exec("/bin/cat", 0, "cat", "/etc/hostname");
        normalizer.onEvent(cat, c);
        assertThat(cat.filename()).isEqualTo("/bin/cat");
        EventView hostile = exec("/proc/self/exe", F_RUNTIME, "../../etc/passwd");
        normalizer.onEvent(hostile, c);
        assertThat(hostile.filename()).isEqualTo("/proc/self/exe");
    }
}
