package io.driftwatch.sensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.NativeBuild;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without privileges the kernel sources report themselves unavailable, with the reason, and
 * start-up goes on (the agent then runs on /proc). The probe runs in a child JVM as uid 65534
 * ({@code setpriv}), from a world-readable copy of the test classpath.
 */
@Privileged(tools = {"setpriv"})
final class KernelSourcesUnprivilegedTest {

    @Test
    void unprivileged_agent_reports_bpf_and_fanotify_unavailable_with_reason(@TempDir Path tmp) throws Exception {
        NativeBuild.ensureBridge();
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cp = tmp.resolve("cp");
        Files.createDirectories(cp);
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String e : classpath.split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (!Files.exists(p)) continue;
            Path dst = cp.resolve(i++ + "-" + p.getFileName());
            copy(p, dst);
            entries.add(dst.toString());
        }
        Path jtmp = tmp.resolve("jtmp");
        Files.createDirectories(jtmp);
        Files.setPosixFilePermissions(jtmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (Stream<Path> s = Files.walk(tmp)) {
            s.forEach(p -> p.toFile().setReadable(true, false));
        }
        try (Stream<Path> s = Files.walk(tmp)) {
            s.filter(Files::isDirectory).forEach(p -> p.toFile().setExecutable(true, false));
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", java,
                "-Djava.io.tmpdir=" + jtmp, "-Ddriftwatch.repo=" + NativeBuild.repo(), "-cp", String.join(File.pathSeparator, entries),
                ProbeMain.class.getName());
        Procs.Result r = Procs.run(60_000, cmd);
        assertThat(r.exitCode()).as("probe JVM: %s %s", r.stdout(), r.stderr()).isZero();
        String out = r.stdout();
        assertThat(out).containsPattern("bpf\\|UNAVAILABLE\\|bpf\\(\\) not permitted \\(EPERM, uid 65534\\).*/proc");
        assertThat(out).containsPattern("fanotify\\|UNAVAILABLE\\|fanotify_init not permitted \\(EPERM, uid 65534\\): needs CAP_SYS_ADMIN");
        assertThat(out).contains("running|0");
    }

    private static void copy(Path src, Path dst) throws java.io.IOException {
        if (Files.isDirectory(src)) {
            try (Stream<Path> s = Files.walk(src)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Path t = dst.resolve(src.relativize(p).toString());
                    if (Files.isDirectory(p)) Files.createDirectories(t);
                    else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } else {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
