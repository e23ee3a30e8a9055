package io.driftwatch.learn;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.ProcessLineage;
import io.driftwatch.profile.Profile;
import io.driftwatch.profile.ProfileStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Produces profiles/examples/*.yaml by replaying realistic event sequences of nginx, Redis and
 * PostgreSQL containers (real paths those servers touch) through the learner with a fake clock,
 * and checks the committed files are exactly what the learner produces. Regenerate with
 * {@code mvn -q -B test -pl agent -Dtest=ExampleProfilesTest -Ddriftwatch.updateExamples=true}.
 */
final class ExampleProfilesTest {
    static final long T0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    static final long SEC = 1000, MIN = 60 * SEC;

    @TempDir Path dir;
    final long[] now = {T0};
    final TestEvents ev = new TestEvents();
    String parent = "/usr/bin/tini";
    ProfileStore store;
    BaselineLearner learner;

    void setUp() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        store = new ProfileStore(dir, "workload", registry, () -> now[0]);
        store.load();
        ProcessLineage lineage = new ProcessLineage() {
            @Override public boolean isInitDescendant(ContainerState c, int tgid, int ppid) { return true; }
            @Override public String exe(int tgid) { return null; }
            @Override public String parentExe(int tgid) { return parent; }
        };
        learner = new BaselineLearner(store, GeneralisationRules.defaults(),
                new LearningSettings(10 * MIN, 5 * MIN, 24 * 60 * MIN, 20, 30 * SEC, true, false, 16), lineage, () -> now[0], registry);
    }

    void at(long ms) {
        now[0] = T0 + ms;
    }

    void converge() {
        for (int m = 1; m <= 60; m++) {
            now[0] += MIN;
            learner.tick();
        }
    }

    void read(ContainerState c, String... paths) {
        for (String p : paths) learner.observe(ev.open(p, false), c);
    }

    void write(ContainerState c, String... paths) {
        for (String p : paths) learner.observe(ev.open(p, true), c);
    }

    void exec(ContainerState c, String parentExe, String file) {
        parent = parentExe;
        learner.observe(ev.exec(file), c);
    }

    Profile nginx() {
        ContainerState c = TestEvents.container(1, TestEvents.k8s("n1", "shop", "web", "web-7d4b9c-x2x", "nginx",
                "docker.io/library/nginx:1.25.3", "sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac"), T0);
        at(2 * SEC);
        exec(c, "/usr/bin/containerd-shim-runc-v2", "/docker-entrypoint.sh");
        exec(c, "/docker-entrypoint.sh", "/usr/bin/find");
        exec(c, "/docker-entrypoint.sh", "/docker-entrypoint.d/10-listen-on-ipv6-by-default.sh");
        exec(c, "/docker-entrypoint.sh", "/docker-entrypoint.d/20-envsubst-on-templates.sh");
        read(c, "/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libc.so.6", "/etc/nginx/conf.d/default.conf");
        at(4 * SEC);
        exec(c, "/docker-entrypoint.sh", "/usr/sbin/nginx");
        read(c, "/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libcrypt.so.1", "/lib/x86_64-linux-gnu/libpcre2-8.so.0",
                "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/lib/x86_64-linux-gnu/libz.so.1",
                "/etc/nginx/nginx.conf", "/etc/nginx/mime.types", "/etc/nginx/conf.d/default.conf", "/etc/passwd", "/etc/group",
                "/proc/sys/kernel/ngroups_max", "/sys/devices/system/cpu/online", "/etc/localtime");
        write(c, "/var/log/nginx/error.log", "/var/log/nginx/access.log", "/run/nginx.pid");
        learner.observe(ev.listen(80), c);
        learner.observe(ev.net(OP_LISTEN, PROTO_TCP, "0.0.0.0", 80, "0.0.0.0", 0, 0), c);
        for (int i = 1; i <= 600; i++) {
            at(40 * SEC + i * SEC);
            learner.observe(ev.accept(80, 30000 + i), c);
            read(c, i % 3 == 0 ? "/usr/share/nginx/html/50x.html" : "/usr/share/nginx/html/index.html");
            write(c, "/var/log/nginx/access.log");
            if (i % 10 == 0) write(c, String.format("/var/lib/nginx/body/%010d", i / 10));
            if (i % 7 == 0) write(c, String.format("/var/cache/nginx/proxy_temp/%d/%02d/%010d", i % 10, (i / 10) % 100, i));
            learner.observe(ev.connect("10.244.1." + (10 + i % 20), 8080), c); // upstream pods
        }
        converge();
        return store.profile("shop/web/nginx");
    }

    Profile redis() {
        ContainerState c = TestEvents.container(2, TestEvents.k8s("r1", "cache", "redis", "redis-0", "redis",
                "docker.io/library/redis:7.2.4", "sha256:e422889e156ebea83856b6ff973bfe0c86bce867d80def228044eeecf925592b"), T0);
        at(1 * SEC);
        exec(c, "/usr/bin/containerd-shim-runc-v2", "/usr/local/bin/docker-entrypoint.sh");
        exec(c, "/usr/local/bin/docker-entrypoint.sh", "/usr/bin/find");
        exec(c, "/usr/local/bin/docker-entrypoint.sh", "/usr/local/bin/gosu");
        exec(c, "/usr/local/bin/gosu", "/usr/local/bin/redis-server");
        read(c, "/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libssl.so.3",
                "/usr/local/etc/redis/redis.conf", "/sys/kernel/mm/transparent_hugepage/enabled", "/proc/sys/net/core/somaxconn",
                "/data/appendonlydir/appendonly.aof.manifest", "/data/appendonlydir/appendonly.aof.1.base.rdb",
                "/data/appendonlydir/appendonly.aof.1.incr.aof", "/data/dump.rdb");
        learner.observe(ev.listen(6379), c);
        learner.observe(ev.net(OP_BIND, PROTO_TCP, "0.0.0.0", 6379, "0.0.0.0", 0, 0), c);
        for (int i = 1; i <= 300; i++) {
            at(40 * SEC + i * 2 * SEC);
            learner.observe(ev.accept(6379, 40000 + i), c);
            read(c, "/proc/1/stat", "/proc/self/stat");
            write(c, "/data/appendonlydir/appendonly.aof." + (1 + i / 100) + ".incr.aof");
            if (i % 60 == 0) {
                int child = 20 + i / 60;
                write(c, "/data/temp-" + child + ".rdb");
                write(c, "/data/dump.rdb", "/data/appendonlydir/temp-appendonly.aof.manifest",
                        "/data/appendonlydir/appendonly.aof.manifest");
                read(c, "/proc/" + child + "/smaps");
            }
        }
        converge();
        return store.profile("cache/redis/redis");
    }

    Profile postgres() {
        ContainerState c = TestEvents.container(3, TestEvents.k8s("p1", "db", "orders-db", "orders-db-0", "postgres",
                "docker.io/library/postgres:15.6", "sha256:5b8a5d5d7ab4e1c0c0a8e6e7e0f2b87db6d7aeb73d8c06f2c1df9e6a8fdd3c11"), T0);
        String d = "/var/lib/postgresql/data";
        at(1 * SEC);
        exec(c, "/usr/bin/containerd-shim-runc-v2", "/usr/local/bin/docker-entrypoint.sh");
        exec(c, "/usr/local/bin/docker-entrypoint.sh", "/usr/bin/id");
        exec(c, "/usr/local/bin/docker-entrypoint.sh", "/usr/local/bin/gosu");
        exec(c, "/usr/local/bin/gosu", "/usr/lib/postgresql/15/bin/postgres");
        read(c, "/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libc.so.6", d + "/postgresql.conf", d + "/postgresql.auto.conf",
                d + "/pg_hba.conf", d + "/pg_ident.conf", d + "/global/pg_control", d + "/global/1262", d + "/global/pg_filenode.map",
                "/usr/share/zoneinfo/Etc/UTC", "/proc/self/oom_score_adj");
        write(c, d + "/postmaster.pid", "/var/run/postgresql/.s.PGSQL.5432.lock", "/var/run/postgresql/.s.PGSQL.5432",
                d + "/pg_wal/000000010000000000000001", d + "/pg_xact/0000", d + "/pg_stat/pgstat.stat",
                "/dev/shm/PostgreSQL.1804289383");
        learner.observe(ev.listen(5432), c);
        int[] rels = {2619, 2840, 1259, 1249, 2608, 16397, 16402, 16405};
        for (int i = 1; i <= 400; i++) {
            at(40 * SEC + i * 2 * SEC);
            learner.observe(ev.accept(5432, 50000 + i), c);
            read(c, d + "/base/16384/" + rels[i % rels.length], d + "/base/16384/pg_filenode.map");
            write(c, d + "/base/16384/" + rels[(i * 3) % rels.length], String.format(d + "/pg_wal/%024X", 1L << 32 | (1 + i / 50)));
            if (i % 40 == 0) write(c, d + "/base/16384/16397_fsm", d + "/base/16384/16397_vm", d + "/pg_stat_tmp/global.tmp",
                    d + "/base/pgsql_tmp/pgsql_tmp" + (60 + i / 40) + ".0");
            if (i % 100 == 0) learner.observe(ev.connect("10.96.0.10", 53), c);
        }
        converge();
        return store.profile("db/orders-db/postgres");
    }

    @Test
    void examples_matchWhatTheLearnerProduces() throws Exception {
        setUp();
        Path repo = Path.of(System.getProperty("driftwatch.repo", "..")).resolve("profiles/examples");
        boolean update = Boolean.getBoolean("driftwatch.updateExamples");
        for (Profile p : new Profile[] {nginx(), redis(), postgres()}) {
            assertThat(p.mode().text()).as(p.key().key()).isEqualTo("monitor");
            String name = p.key().container() + ".yaml";
            String header = "Example: produced by ExampleProfilesTest (agent/src/test/java/io/driftwatch/learn/), which replays\n"
                    + "a realistic event sequence of a " + p.key().container() + " container (paths the real server touches)\n"
                    + "through the learner with a fake clock starting 2026-01-01T00:00:00Z, then lets it converge.\n"
                    + "Regenerate: mvn -q -B test -pl agent -Dtest=ExampleProfilesTest -Ddriftwatch.updateExamples=true\n"
                    + "Approximate agent heap for this profile: " + p.approxBytes() + " bytes.";
            byte[] bytes = ProfileStore.render(p, header);
            System.out.println("example " + name + ": entries=" + store.snapshots().stream()
                    .filter(s -> s.key().equals(p.key().key())).findFirst().map(s -> s.entries()).orElse(-1)
                    + " approx_bytes=" + p.approxBytes() + " yaml_bytes=" + bytes.length);
            if (update) {
                Files.createDirectories(repo);
                Files.write(repo.resolve(name), bytes);
            } else {
                assertThat(new String(Files.readAllBytes(repo.resolve(name)), StandardCharsets.UTF_8)).as(name
                        + " differs from what the learner produces; regenerate with -Ddriftwatch.updateExamples=true")
                        .isEqualTo(new String(bytes, StandardCharsets.UTF_8));
            }
        }
    }
}
