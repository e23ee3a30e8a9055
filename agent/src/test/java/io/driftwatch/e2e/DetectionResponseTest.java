package io.driftwatch.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.profile.Mode;
import io.driftwatch.testsupport.AgentHarness;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import io.driftwatch.testsupport.RuncContainer;
import io.driftwatch.testsupport.ServiceWorkload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Detection and response end to end: the real agent (eBPF + /proc sources) learns a real
 * service in a runc container until its profile converges into monitor mode; then each test
 * starts a fresh agent on a copy of that profile and a fresh container of the same workload.
 */
@Privileged(tools = {"runc"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class DetectionResponseTest {
    static final String KEY = "shop/web/web";
    private Path learned;
    private Path work;

    @BeforeAll
    void learn() throws Exception {
        work = Files.createTempDirectory("dw-detect-");
        learned = work.resolve("learned");
        try (AgentHarness a = AgentHarness.start(learned, work.resolve("learn.jsonl"));
                RuncContainer c = workload("dwd-learn", "web-5d9c7b8f6-lrn2x").start()) {
            a.awaitMode(KEY, "monitor", 120_000);
            Thread.sleep(1500); // one more flush
        }
        assertThat(Files.readString(learned.resolve(Files.list(learned).filter(p -> p.toString().endsWith(".yaml"))
                .findFirst().orElseThrow().getFileName()))).contains("mode: monitor");
    }

    @AfterAll
    void cleanup() throws Exception {
        if (work != null) RuncContainerCleanup.deleteTree(work);
    }

    static RuncContainer.Builder workload(String id, String pod) {
        return ServiceWorkload.builder(id, "shop", pod, "web", "registry.local/shop/web:1.0");
    }

    private Path copyOfLearned(String name) throws Exception {
        Path dir = work.resolve(name);
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(learned)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".yaml")).toList()) Files.copy(p, dir.resolve(p.getFileName()));
        }
        return dir;
    }

    /** Waits until the agent attributes the container to the profile and its loop has run a while. */
    private static void awaitAttributed(AgentHarness a, RuncContainer c) throws Exception {
        long end = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < end) {
            String body = a.get("/api/v1/containers").body();
            if (body.contains("\"id\":\"" + c.id() + "\"") && body.contains("\"profile\":\"" + KEY + "\"")) {
                Thread.sleep(2000); // ~10 iterations of the service loop
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("container " + c.id() + " not attributed to " + KEY);
    }

    private static Predicate<Map<String, Object>> dev(RuncContainer c, String kind, String value) {
        return d -> c.id().equals(d.get("container_id")) && kind.equals(d.get("kind")) && value.equals(d.get("value"));
    }

    @Test
    void monitor_eachTechniqueRaisesADeviation_learnedBehaviourNone() throws Exception {
        Path devFile = work.resolve("monitor.jsonl");
        try (AgentHarness a = AgentHarness.start(copyOfLearned("monitor"), devFile);
                RuncContainer c = workload("dwd-mon", "web-5d9c7b8f6-mnt4z").start()) {
            awaitAttributed(a, c);
            assertThat(a.awaitMode(KEY, "monitor", 1000)).isNotNull();
            Thread.sleep(2000);
            assertThat(a.deviations()).as("repeats of learned behaviour").noneMatch(d -> c.id().equals(d.get("container_id")));

            ServiceWorkload.trigger(c, String.join("\n",
                    "sh -c 'cat /etc/shadow > /dev/null'",
                    "echo pwned > /etc/evil.conf",
                    "echo pwned > /var/log/../.././etc//evil2.conf",
                    "nc -l -p 7777 > /dev/null &",
                    "usleep 300000",
                    "nc -w 1 127.0.0.1 7777 < /dev/null",
                    "kill $! 2>/dev/null"));

            Map<String, Object> shell = a.awaitDeviation(dev(c, "exec", "/bin/sh"), 10_000);
            Map<String, Object> shadow = a.awaitDeviation(dev(c, "file", "/etc/shadow"), 10_000);
            Map<String, Object> write = a.awaitDeviation(dev(c, "file", "/etc/evil.conf"), 10_000);
            // a write that starts in the log directory the workload writes is reported where it lands
            Map<String, Object> traversal = a.awaitDeviation(dev(c, "file", "/etc/evil2.conf"), 10_000);
            assertThat(traversal).containsEntry("dimension", "file_write");
            a.awaitDeviation(dev(c, "listen", "tcp:7777"), 10_000);
            a.awaitDeviation(dev(c, "connect", "tcp:127.0.0.1:7777"), 10_000);

            assertThat(shadow).containsEntry("dimension", "file_read").containsEntry("namespace", "shop")
                    .containsEntry("workload", "web").containsEntry("container", "web")
                    .containsEntry("pod", "web-5d9c7b8f6-mnt4z").containsEntry("image", "registry.local/shop/web:1.0")
                    .containsEntry("profile_state", "monitor").containsEntry("action", "alert")
                    .containsEntry("profile", KEY).containsKeys("time", "node", "pid", "comm", "exe", "parent_exe");
            assertThat(write).containsEntry("dimension", "file_write");
            assertThat(shell.get("parent_exe")).as("the shell's parent is the service").isNotNull();

            // the same records in the deviations file, and counted per namespace/workload/kind/action
            assertThat(Files.readString(devFile)).contains("\"value\":\"/etc/shadow\"");
            String metrics = a.get("/metrics").body();
            assertThat(metrics).containsPattern(
                    "driftwatch_deviations_total\\{action=\"alert\",kind=\"file\",namespace=\"shop\",workload=\"web\"} [1-9]");
            // each distinct deviation became a proposal for the operator
            List<Map<String, Object>> proposals = a.onPipeline(() -> a.agent().profiles().proposals(KEY));
            assertThat(proposals).anyMatch(p -> "deviation".equals(p.get("reason")) && "/etc/shadow".equals(p.get("value")));
        }
    }

    @Test
    void enforceKill_containerDeadWithinOneSecondOfUnexpectedExec() throws Exception {
        try (AgentHarness a = AgentHarness.start(copyOfLearned("kill"), work.resolve("kill.jsonl"),
                "response.default_action", "kill");
                RuncContainer c = workload("dwd-kill", "web-5d9c7b8f6-k7ll9").start()) {
            awaitAttributed(a, c);
            a.onPipeline(() -> a.agent().profiles().setMode(KEY, Mode.ENFORCE, "test"));
            Thread.sleep(1000);
            assertThat(c.processes()).isNotEmpty();

            ServiceWorkload.trigger(c, "sh -c 'id > /dev/null'");
            Map<String, Object> d = a.awaitDeviation(dev(c, "exec", "/bin/sh"), 10_000);
            long detected = System.nanoTime();
            assertThat(a.deviations()).filteredOn(x -> c.id().equals(x.get("container_id"))).last()
                    .as("the unexpected exec is the first deviation").isEqualTo(d);
            assertThat(d).containsEntry("action", "kill").containsEntry("profile_state", "enforce");
            assertThat(c.awaitEmpty(1000)).as("container dead within 1 s of the deviation").isTrue();
            long ms = (System.nanoTime() - detected) / 1_000_000;
            assertThat(ms).isLessThan(1000);
            assertThat(a.get("/metrics").body())
                    .containsPattern("driftwatch_actions_total\\{action=\"kill\",result=\"ok\"} [1-9]"); // a deviation racing the kill may ask again
        }
    }

    @Test
    void enforceDeny_unexpectedExecAndConnectRefused_learnedStillRun_hostUntouched() throws Exception {
        try (AgentHarness a = AgentHarness.start(copyOfLearned("deny"), work.resolve("deny.jsonl"));
                RuncContainer c = workload("dwd-deny", "web-5d9c7b8f6-dnw7z").start();
                java.net.ServerSocket hostListener = new java.net.ServerSocket(0, 5,
                        java.net.InetAddress.getLoopbackAddress())) {
            awaitAttributed(a, c);
            a.onPipeline(() -> a.agent().profiles().setMode(KEY, Mode.ENFORCE, "test"));
            awaitMetric(a, "driftwatch_enforced_containers\\{mechanism=\"exec\"} 1");
            awaitMetric(a, "driftwatch_enforced_containers\\{mechanism=\"network\"} 1");
            long ticks = Files.readString(c.rootfs().resolve("var/log/app.log")).lines().count();

            ServiceWorkload.trigger(c, String.join("\n",
                    "cp /bin/busybox /tmp/evil",
                    "/tmp/evil true; echo $? > /tmp/evil.rc",
                    "nc -w 1 127.0.0.1 9 < /dev/null 2> /tmp/nc.err; echo $? > /tmp/nc.rc"));
            Path rc = c.rootfs().resolve("tmp/nc.rc");
            for (int i = 0; i < 100 && !Files.exists(rc); i++) Thread.sleep(100);
            assertThat(Files.readString(c.rootfs().resolve("tmp/evil.rc")).trim()).as("dropped binary refused").isEqualTo("126");
            assertThat(Files.readString(c.rootfs().resolve("tmp/nc.err"))).contains("Operation not permitted");
            Map<String, Object> exec = a.awaitDeviation(dev(c, "exec", "/tmp/evil"), 10_000);
            assertThat(exec).containsEntry("reason", "denied").containsEntry("prevented", true).containsEntry("action", "deny");
            assertThat(a.awaitDeviation(dev(c, "connect", "tcp:127.0.0.1:9"), 10_000)).containsEntry("prevented", true)
                    .containsEntry("reason", "denied");

            Thread.sleep(1500);
            assertThat(Files.readString(c.rootfs().resolve("var/log/app.log")).lines().count())
                    .as("the learned loop (cat, wget to its own port, usleep) still runs").isGreaterThan(ticks + 3);
            assertThat(c.processes()).isNotEmpty();
            // the host is untouched: same kind of connect from a host process works
            try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), hostListener.getLocalPort())) {
                assertThat(s.isConnected()).isTrue();
            }
            assertThat(Procs.run("sh", "-c", "cp /bin/true /tmp/dw-host-evil && /tmp/dw-host-evil; rc=$?; rm -f /tmp/dw-host-evil; exit $rc")
                    .exitCode()).isZero();
        }
    }

    private static void awaitMetric(AgentHarness a, String regex) throws Exception {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        for (int i = 0; i < 100; i++) {
            if (p.matcher(a.get("/metrics").body()).find()) return;
            Thread.sleep(100);
        }
        throw new AssertionError("metric never matched " + regex);
    }

    @Test
    void dryRun_actsOnNothingButCounts_hostProcessesNeverActedOn() throws Exception {
        try (AgentHarness a = AgentHarness.start(copyOfLearned("dry"), work.resolve("dry.jsonl"),
                "response.default_action", "kill", "response.dry_run", "true");
                RuncContainer c = workload("dwd-dry", "web-5d9c7b8f6-drs5x").start()) {
            awaitAttributed(a, c);
            a.onPipeline(() -> a.agent().profiles().setMode(KEY, Mode.ENFORCE, "test"));
            Thread.sleep(1000);
            ServiceWorkload.trigger(c, "sh -c 'id > /dev/null'");
            assertThat(a.awaitDeviation(dev(c, "exec", "/bin/sh"), 10_000)).containsEntry("action", "kill");
            // the host does the same things: never a deviation, never an action
            Procs.run("sh", "-c", "cat /etc/shadow > /dev/null; id > /dev/null").orThrow();
            Thread.sleep(1500);
            assertThat(c.processes()).as("dry-run kills nothing").isNotEmpty();
            assertThat(c.exec("true").exitCode()).isZero();
            assertThat(a.get("/metrics").body())
                    .containsPattern("driftwatch_actions_total\\{action=\"kill\",result=\"dry_run\"} [1-9]")
                    .containsPattern("driftwatch_actions_total\\{action=\"kill\",result=\"ok\"} 0");
            assertThat(a.deviations()).allMatch(d -> c.id().equals(d.get("container_id")));
        }
    }

    /** Deletes the work directory. */
    static final class RuncContainerCleanup {
        static void deleteTree(Path root) throws Exception {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }
}
