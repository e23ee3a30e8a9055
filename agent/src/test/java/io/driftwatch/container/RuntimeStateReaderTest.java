package io.driftwatch.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.container.RuntimeStateReader.RuntimeState;
import io.driftwatch.testsupport.FixtureTree;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class RuntimeStateReaderTest {
    static final String CONTAINERD = "8f3b" + "a1".repeat(30);
    static final String CONTAINERD_RUNC = "77".repeat(32);
    static final String CRIO = "c7".repeat(32);
    static final String PODMAN = "9a".repeat(32);

    @TempDir
    static Path tmp;
    static RuntimeStateReader reader;

    @BeforeAll
    static void setUp() throws Exception {
        Path rt = FixtureTree.copy("runtime", tmp.resolve("runtime"), tmp.resolve("runtime"));
        reader = new RuntimeStateReader(List.of(rt.resolve("missing"), rt.resolve("broken"), rt.resolve("runc"),
                rt.resolve("containerd-runc"), rt.resolve("containerd-task"), rt.resolve("storage")));
    }

    /** id, runtime, init pid, namespace, pod, container, image, digest, workload, kind. */
    static Stream<Arguments> states() {
        return Stream.of(
                Arguments.of("dwp-fixture", "runc", 100, "shop", "web-7d4b9c6f8-x2x9q", "nginx",
                        "registry.local/shop/web:1.2", ContainerInfo.UNKNOWN, "web", "Deployment"),
                Arguments.of(CONTAINERD, "containerd", 4242, "payments", "db-0", "postgres", "docker.io/library/postgres:16",
                        ContainerInfo.UNKNOWN, "db", "StatefulSet"),
                Arguments.of(CONTAINERD_RUNC, "containerd", 4343, "batch", "report-28391040-x7k2p", "report",
                        "registry.local/report@sha256:" + "ab".repeat(32), "sha256:" + "ab".repeat(32), "report", "CronJob"),
                Arguments.of(CRIO, "cri-o", 5151, "logging", "fluentd-x7k2p", "fluentd", "quay.io/fluentd/fluentd:v1.16",
                        "sha256:" + "cd".repeat(32), "fluentd", ContainerInfo.UNKNOWN),
                Arguments.of(PODMAN, "podman", 0, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN,
                        ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN));
    }

    @ParameterizedTest
    @MethodSource("states")
    void lookup_fixtureStates(String id, String runtime, int initPid, String ns, String pod, String container, String image,
            String digest, String workload, String kind) {
        RuntimeState st = reader.lookup(id);
        assertThat(st).as(id).isNotNull();
        assertThat(st.initPid()).isEqualTo(initPid);
        ContainerInfo info = ContainerMetadata.info(new CgroupPaths.Match(id, ContainerInfo.UNKNOWN, null, false, "/x"), st);
        assertThat(info.runtime()).isEqualTo(runtime);
        assertThat(info.namespace()).isEqualTo(ns);
        assertThat(info.pod()).isEqualTo(pod);
        assertThat(info.container()).isEqualTo(container);
        assertThat(info.image()).isEqualTo(image);
        assertThat(info.imageDigest()).isEqualTo(digest);
        assertThat(info.workload()).isEqualTo(workload);
        assertThat(info.workloadKind()).isEqualTo(kind);
    }

    @Test
    void lookup_runcBundleAnnotationsWinOverLabels() {
        RuntimeState st = reader.lookup("dwp-fixture");
        assertThat(st.bundle()).isEqualTo(tmp.resolve("runtime/bundles/dwp-fixture"));
        assertThat(st.annotations()).containsEntry("io.kubernetes.cri.container-name", "nginx");
        assertThat(st.createdMillis()).isEqualTo(java.time.Instant.parse("2026-01-02T03:04:05.123Z").toEpochMilli());
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"nope", "bad-json", "../runc/dwp-fixture", "..", "a/b", ""})
    void lookup_unknownOrHostile_null(String id) {
        assertThat(reader.lookup(id)).isNull();
    }

    @Test
    void info_noState_allUnknownButRuncName() {
        ContainerInfo info = ContainerMetadata.info(new CgroupPaths.Match("c1", "runc", null, false, "/c1"), null);
        assertThat(info.container()).isEqualTo("c1");
        assertThat(info.namespace()).isEqualTo(ContainerInfo.UNKNOWN);
        assertThat(info.image()).isEqualTo(ContainerInfo.UNKNOWN);
        assertThat(info.workload()).isEqualTo(ContainerInfo.UNKNOWN);
        assertThat(info.isKubernetes()).isFalse();
    }

    @Test
    void fromConfig_splitsAndTrims() {
        assertThat(RuntimeStateReader.fromConfig(" /run/runc, /run/containerd/runc ,,").dirs())
                .containsExactly(Path.of("/run/runc"), Path.of("/run/containerd/runc"));
    }
}
