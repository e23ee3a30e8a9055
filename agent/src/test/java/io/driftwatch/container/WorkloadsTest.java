package io.driftwatch.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class WorkloadsTest {

    static Stream<Arguments> names() {
        return Stream.of(
                Arguments.of("web-7d4b9c6f8-x2x9q", "web", "Deployment"),
                Arguments.of("shop-api-5b7f9d8c4d-2vq7n", "shop-api", "Deployment"),
                Arguments.of("coredns-5d78c9869d-tqzfw", "coredns", "Deployment"),
                Arguments.of("db-0", "db", "StatefulSet"),
                Arguments.of("kafka-broker-12", "kafka-broker", "StatefulSet"),
                Arguments.of("job-28391-abcde", "job", "CronJob"),
                Arguments.of("backup-28391040-x7k2p", "backup", "CronJob"),
                Arguments.of("fluentd-x7k2p", "fluentd", ContainerInfo.UNKNOWN),
                Arguments.of("etcd-node1", "etcd-node1", "Pod"),
                Arguments.of("standalone", "standalone", "Pod"),
                Arguments.of(ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN),
                Arguments.of("", ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN));
    }

    @ParameterizedTest
    @MethodSource("names")
    void derive_fromPodName(String pod, String name, String kind) {
        assertThat(Workloads.derive(pod, Map.of())).isEqualTo(new Workloads.Workload(name, kind));
    }

    static Stream<Arguments> labelled() {
        return Stream.of(
                Arguments.of("web-abc12-zz9", Map.of("pod-template-hash", "abc12"), "web", "Deployment"),
                Arguments.of("fluentd-x7k2p", Map.of("controller-revision-hash", "6d9f", "pod-template-generation", "3"),
                        "fluentd", "DaemonSet"),
                Arguments.of("migrate-x7k2p", Map.of("job-name", "migrate"), "migrate", "Job"),
                Arguments.of("report-28391040-x7k2p", Map.of("batch.kubernetes.io/job-name", "report-28391040"), "report",
                        "CronJob"),
                Arguments.of("db-0", Map.of("statefulset.kubernetes.io/pod-name", "db-0", "controller-revision-hash", "db-7c"),
                        "db", "StatefulSet"));
    }

    @ParameterizedTest
    @MethodSource("labelled")
    void derive_labelsWin(String pod, Map<String, String> labels, String name, String kind) {
        assertThat(Workloads.derive(pod, labels)).isEqualTo(new Workloads.Workload(name, kind));
    }
}
