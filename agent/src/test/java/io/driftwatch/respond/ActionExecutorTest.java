package io.driftwatch.respond;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.respond.ActionExecutor.Action;
import io.driftwatch.respond.ActionExecutor.Request;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.RuncContainer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Freeze, kill, safety limits and dry-run against real runc containers. */
@Privileged(tools = {"runc"})
final class ActionExecutorTest {
    private final SimpleMeterRegistry reg = new SimpleMeterRegistry();
    private final CgroupControl cgroups = new CgroupControl(Path.of("/sys/fs/cgroup"));

    private double count(String action, String result) {
        return reg.get("driftwatch.actions").tag("action", action).tag("result", result).counter().count();
    }

    @Test
    void freeze_thenUnfreeze_thenKill() throws Exception {
        try (RuncContainer c = RuncContainer.builder("dwr-freeze").start();
                ActionExecutor ex = new ActionExecutor(cgroups, false, 10, reg, System::currentTimeMillis)) {
            String cg = "/" + c.id();
            assertThat(ex.submit(new Request(Action.FREEZE, c.id(), cg, "w", "test", System.nanoTime(), "test"))).isTrue();
            assertThat(ex.drain(5000)).isTrue();
            boolean frozen = false;
            for (int i = 0; i < 100 && !frozen; i++) {
                frozen = cgroups.isFrozen(cg);
                if (!frozen) Thread.sleep(10);
            }
            assertThat(frozen).as("cgroup.events says frozen within 1 s").isTrue();
            assertThat(ex.execute(new Request(Action.UNFREEZE, c.id(), cg, "w", "test", 0, "test")).result()).isEqualTo("ok");
            assertThat(cgroups.isFrozen(cg)).isFalse();
            assertThat(c.exec("true").exitCode()).isZero();
            ex.submit(new Request(Action.KILL, c.id(), cg, "w", "test", System.nanoTime(), "test"));
            assertThat(ex.drain(5000)).isTrue();
            assertThat(c.awaitEmpty(1000)).as("every process of the container dead within 1 s of the kill").isTrue();
            assertThat(count("freeze", "ok")).isEqualTo(1);
            assertThat(count("kill", "ok")).isEqualTo(1);
        }
    }

    @Test
    void refuses_hostRootAndOwnCgroup() throws Exception {
        try (ActionExecutor ex = new ActionExecutor(cgroups, false, 10, reg, System::currentTimeMillis)) {
            assertThat(ex.execute(new Request(Action.KILL, "host", "/", "w", "t", 0, "t")).result()).isEqualTo("refused");
            // put the agent (this JVM) into a cgroup of its own, then ask to kill that cgroup
            Path dir = Path.of("/sys/fs/cgroup/unified/dwr-self");
            String before = Files.readAllLines(Path.of("/proc/self/cgroup")).stream().filter(l -> l.startsWith("0::"))
                    .findFirst().map(l -> l.substring(3)).orElse("/");
            Files.createDirectories(dir);
            try {
                Files.writeString(dir.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
                ActionExecutor.Result r = ex.execute(new Request(Action.KILL, "self", "/dwr-self", "w", "t", 0, "t"));
                assertThat(r.result()).isEqualTo("refused");
                assertThat(r.detail()).contains("contains the agent itself");
            } finally {
                Files.writeString(Path.of("/sys/fs/cgroup/unified" + before, "cgroup.procs"),
                        Long.toString(ProcessHandle.current().pid()));
                Files.deleteIfExists(dir);
            }
            assertThat(ex.execute(new Request(Action.FREEZE, "x", "/../../etc", "w", "t", 0, "t")).result())
                    .isIn("refused", "failed");
        }
        assertThat(ProcessHandle.current().isAlive()).isTrue();
    }

    @Test
    void dryRun_actsOnNothingButCounts() throws Exception {
        try (RuncContainer c = RuncContainer.builder("dwr-dry").start();
                ActionExecutor ex = new ActionExecutor(cgroups, true, 10, reg, System::currentTimeMillis)) {
            ex.submit(new Request(Action.KILL, c.id(), "/" + c.id(), "w", "t", 0, "t"));
            assertThat(ex.drain(5000)).isTrue();
            assertThat(c.processes()).contains((long) c.pid());
            assertThat(cgroups.isFrozen("/" + c.id())).isFalse();
            assertThat(count("kill", "dry_run")).isEqualTo(1);
        }
    }

    @Test
    void rateLimit_perWorkload() throws Exception {
        try (RuncContainer c = RuncContainer.builder("dwr-rate").start();
                ActionExecutor ex = new ActionExecutor(cgroups, false, 2, reg, () -> 1_000L)) {
            String cg = "/" + c.id();
            for (int i = 0; i < 4; i++) {
                ex.execute(new Request(Action.FREEZE, c.id(), cg, "shop/web/nginx", "t", 0, "t"));
            }
            assertThat(count("freeze", "ok")).isEqualTo(2);
            assertThat(count("freeze", "rate_limited")).isEqualTo(2);
            ex.execute(new Request(Action.UNFREEZE, c.id(), cg, "shop/web/nginx", "t", 0, "t"));
        }
    }
}
