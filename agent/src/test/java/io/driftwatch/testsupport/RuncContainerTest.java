package io.driftwatch.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The fixture itself: a container starts, runs commands in its own cgroup, and is cleaned up. */
@Privileged(tools = {"runc"})
final class RuncContainerTest {

    @Test
    void start_runsInOwnCgroup_andCloseRemovesIt() throws Exception {
        RuncContainer c = RuncContainer.builder("dw-fixture-test").kubernetes("shop", "web-7d4b9c-x2x", "nginx",
                "registry.local/shop/web:1.2").start();
        try {
            assertThat(c.pid()).isPositive();
            assertThat(c.cgroupId()).isGreaterThan(1);
            assertThat(Files.readString(java.nio.file.Path.of("/proc", String.valueOf(c.pid()), "cgroup")))
                    .contains("0::/dw-fixture-test");
            assertThat(c.exec("cat", "/etc/hostname").orThrow().stdout()).isEqualTo("ctr\n");
        } finally {
            c.close();
        }
        assertThat(c.cgroupV2Dir()).doesNotExist();
        assertThat(c.bundle()).doesNotExist();
    }
}
