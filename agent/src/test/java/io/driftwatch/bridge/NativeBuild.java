package io.driftwatch.bridge;

import io.driftwatch.testsupport.Procs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Test-scoped build of native/: runs {@code make -C native} (incremental: about a second when up
 * to date) once per test JVM, before anything touches {@link Bridge}, which then loads
 * {@code native/.output/dist/libdriftwatch.so} through the {@code driftwatch.repo} property that
 * surefire sets. {@code ./driftwatch test} builds native/ first anyway; this covers a plain
 * {@code mvn test} on a fresh checkout.
 */
public final class NativeBuild {
    private static volatile boolean built;

    private NativeBuild() {}

    public static Path repo() {
        String r = System.getProperty("driftwatch.repo");
        return r != null ? Path.of(r).toAbsolutePath().normalize() : Path.of("..").toAbsolutePath().normalize();
    }

    public static Path output() {
        return repo().resolve("native/.output");
    }

    /** Builds native/ (libdriftwatch.so and the test tools) or throws with make's output. */
    public static synchronized void ensureBuilt() {
        if (built) return;
        Procs.Result r = Procs.run(300_000, List.of("make", "-s", "-C", repo().resolve("native").toString()));
        if (r.exitCode() != 0 || !Files.isRegularFile(output().resolve("dist/libdriftwatch.so"))) {
            throw new IllegalStateException("make -C native failed (" + r.exitCode() + "): " + r.stderr() + r.stdout());
        }
        built = true;
    }

    /** Builds native/ and returns the bridge's availability problem, or fails the test. */
    public static void ensureBridge() {
        ensureBuilt();
        if (!Bridge.isAvailable()) {
            throw new AssertionError("libdriftwatch.so did not load", Bridge.unavailabilityCause());
        }
    }
}
