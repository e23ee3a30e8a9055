package io.driftwatch.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ProfileStoreTest {
    static final long T0 = 1_767_225_600_000L;
    static final String KEY = "shop/web/nginx";

    @TempDir Path dir;
    final long[] now = {T0};
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ProfileStore store;
    Profile p;

    @BeforeEach
    void setUp() throws IOException {
        store = newStore();
        p = sample();
    }

    ProfileStore newStore() throws IOException {
        ProfileStore s = new ProfileStore(dir, "workload", registry, () -> now[0]);
        s.load();
        return s;
    }

    /** A realistic profile touching every field and awkward values, added through the store. */
    Profile sample() {
        io.driftwatch.pipeline.ContainerState c = new io.driftwatch.pipeline.ContainerState(7,
                new io.driftwatch.container.ContainerInfo("c1", "containerd", "/x", "shop", "web-1", "u", "nginx",
                        "nginx:1.25", "sha256:abc", "web", "Deployment", "/b"), 7, 0);
        Profile p = store.bind(c).profile();
        DimensionData exec = p.dim(Dimension.EXEC);
        Entry e = exec.learn("/usr/sbin/nginx", "/usr/sbin/nginx", new String[0], T0 + 1000, "sha256:abc", true, null, 3);
        e.addParent("/usr/bin/tini", 8);
        DimensionData r = p.dim(Dimension.FILE_READ);
        r.learn("/etc/nginx/nginx.conf", "/etc/nginx/nginx.conf", new String[0], T0 + 2000, "sha256:abc", false, null, 3);
        r.learn("/proc/[pid]/stat", "/proc/1/stat", new String[] {"proc-pid"}, T0 + 2000, "sha256:abc", false, null, 3);
        r.learn("/srv/odd name: #1 \"quoted\"", "/srv/odd name: #1 \"quoted\"", new String[0], T0 + 3000, null, false, null, 3);
        r.learn("/srv/ünïcode/ж", "/srv/ünïcode/ж", new String[0], T0 + 3000, null, false, null, 3);
        r.learn("/srv/true", "/srv/true", new String[0], T0 + 3000, null, false, null, 3);
        DimensionData w = p.dim(Dimension.FILE_WRITE);
        w.learn("/var/lib/nginx/body/[num]", "/var/lib/nginx/body/0000000012", new String[] {"counter"}, T0 + 4000, "sha256:abc",
                false, "exec /bin/sh not in profile", 3);
        p.dim(Dimension.LISTEN).learn("tcp:80", "tcp:80", new String[0], T0, "sha256:abc", true, null, 3);
        p.dim(Dimension.CONNECT).learn("tcp:10.96.0.10:53", "tcp:10.96.0.10:53", new String[0], T0, "sha256:abc", false, null, 3);
        p.dim(Dimension.CONNECT).learn("udp:[fd00::a]:53", "udp:[fd00::a]:53", new String[0], T0, "sha256:abc", false, null, 3);
        p.dim(Dimension.ACCEPT).learn("tcp:80", "tcp:80", new String[0], T0, "sha256:abc", false, null, 3);
        p.changed();
        store.tombstone(KEY, Dimension.FILE_WRITE, "/etc/**", "alice", "never write /etc");
        return p;
    }

    Path file() {
        return store.file(KEY);
    }

    String text() throws IOException {
        return Files.readString(file(), StandardCharsets.UTF_8);
    }

    void edit(String text) throws IOException {
        Files.writeString(file(), text, StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file(), FileTime.fromMillis(System.currentTimeMillis() + 5000));
    }

    @Test
    void flush_writesYamlThatReadsBackAndResavesByteIdentical() throws Exception {
        store.flush();
        byte[] first = Files.readAllBytes(file());
        String text = new String(first, StandardCharsets.UTF_8);
        assertThat(text).startsWith("schema_version: 1\n");
        assertThat(file().getFileName().toString()).isEqualTo(new ProfileKey(KEY, "", "", "").fileName());
        Profile back = ProfileValidator.parse(text, "t");
        assertThat(ProfileWriter.write(back)).isEqualTo(first);
        assertThat(back.dim(Dimension.FILE_READ).entry("/srv/odd name: #1 \"quoted\"")).isNotNull();
        assertThat(back.dim(Dimension.FILE_READ).entry("/srv/ünïcode/ж")).isNotNull();
        assertThat(back.dim(Dimension.FILE_WRITE).entry("/var/lib/nginx/body/[num]").suspect()).isEqualTo("exec /bin/sh not in profile");
        // unchanged profile: not rewritten
        double writes = registry.get("driftwatch.profile.writes").tag("result", "ok").counter().count();
        store.flush();
        p.touched();
        store.flush();
        assertThat(registry.get("driftwatch.profile.writes").tag("result", "ok").counter().count()).isEqualTo(writes);
        // a fresh store loads it and writes the same bytes
        ProfileStore again = new ProfileStore(dir, "workload", new SimpleMeterRegistry(), () -> now[0]);
        again.load();
        assertThat(ProfileWriter.write(again.profile(KEY))).isEqualTo(first);
    }

    @Test
    void flush_listsAreSorted() throws Exception {
        store.flush();
        String t = text();
        assertThat(t.indexOf("- value: /etc/nginx/nginx.conf")).isLessThan(t.indexOf("- value: /proc/[pid]/stat"));
        assertThat(t.indexOf("- value: tcp:10.96.0.10:53")).isLessThan(t.indexOf("- value: udp:[fd00::a]:53"));
    }

    @Test
    void flush_failingWrite_keepsTheOldFileValid() throws Exception {
        store.flush();
        byte[] old = Files.readAllBytes(file());
        store.addEntry(KEY, Dimension.EXEC, "/bin/sh", "alice");
        store.writeHook = tmp -> {
            assertThat(tmp).exists(); // written and fsynced, not yet renamed: "killed" here
            throw new IOException("killed between write and rename");
        };
        store.flush();
        assertThat(Files.readAllBytes(file())).isEqualTo(old);
        assertThat(ProfileValidator.parse(new String(old, StandardCharsets.UTF_8), "t").dim(Dimension.EXEC).entry("/bin/sh")).isNull();
        assertThat(store.errors()).singleElement().satisfies(e -> assertThat(e.problem()).contains("killed"));
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.filter(AtomicFile::isTemp)).isEmpty();
        }
        store.writeHook = AtomicFile.NONE;
        store.flush();
        assertThat(text()).contains("/bin/sh");
        assertThat(store.errors()).isEmpty();
    }

    @Test
    void load_staleTemporaryFromACrash_isRemovedAndIgnored() throws Exception {
        store.flush();
        Path tmp = dir.resolve("." + file().getFileName() + ".1a2b" + AtomicFile.TMP_SUFFIX);
        Files.writeString(tmp, "schema_version: 1\nkey: [half written");
        ProfileStore s = newStore();
        assertThat(tmp).doesNotExist();
        assertThat(s.errors()).isEmpty();
        assertThat(s.profile(KEY)).isNotNull();
    }

    @Test
    void load_malformedYaml_isRejectedWithItsLine() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "schema_version: 1\nkey: a/b/c\nmode: learning\nexecutables:\n  - value: /bin/a\n  - value: [oops\n");
        ProfileStore s = newStore();
        assertThat(s.errors()).singleElement().satisfies(e -> {
            assertThat(e.file()).endsWith("bad.yaml");
            assertThat(e.line()).isBetween(6, 7);
            assertThat(e.problem()).contains("malformed YAML");
        });
        assertThat(s.profile("a/b/c")).isNull();
    }

    @Test
    void load_invalidContent_isRejectedWithTheLineOfTheBadNode() throws Exception {
        String[][] cases = {
            {"schema_version: 1\nkey: a\nmode: learning\nfile_reads:\n  - value: /ok\n  - value: relative\n", "6", "must start with '/'"},
            {"schema_version: 1\nkey: a\nmode: learning\ntombstone:\n  - x\n", "4", "unknown key 'tombstone'"},
            {"key: a\nschema_version: 1\nmode: learning\n", "1", "schema_version must be the first key"},
            {"schema_version: 2\nkey: a\nmode: learning\n", "1", "unsupported schema_version"},
            {"schema_version: 1\nkey: a\nmode: enforcing\n", "3", "mode must be"},
            {"schema_version: 1\nkey: a\nmode: learning\noutbound_peers:\n  - value: tcp:10.0.0.5/8:5432\n", "5", "bits set beyond"},
            {"schema_version: 1\nkey: a\nmode: learning\nexecutables:\n  - value: /bin/a\n    count: many\n", "6", "whole number"},
            {"schema_version: 1\nkey: a\nmode: learning\nexecutables:\n  - value: /bin/a\n  - value: /bin/a\n", "6", "duplicate"},
            {"schema_version: 1\nkey: a\nmode: learning\nexecutables:\n  - value: /bin/a\n    first_seen: yesterday\n", "6", "UTC time"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> ProfileValidator.parse(c[0], "f.yaml")).as(c[2])
                    .isInstanceOfSatisfying(ProfileFormatException.class, e -> {
                        assertThat(e.line()).as(c[2]).isEqualTo(Integer.parseInt(c[1]));
                        assertThat(e.getMessage()).startsWith("f.yaml:" + c[1] + ":").contains(c[2]);
                    });
        }
    }

    @Test
    void pollReload_goodEdit_appliesDeletionsAsTombstonesAndKeepsWhatWasLearnedSince() throws Exception {
        store.flush();
        // learned after the last write (not in the file yet)
        p.dim(Dimension.EXEC).learn("/usr/bin/envsubst", "/usr/bin/envsubst", new String[0], T0 + 9000, null, false, null, 3);
        p.changed();
        String t = text().replace("mode: learning", "mode: monitor")
                .replace("  - value: /etc/nginx/nginx.conf\n", "  - value: /etc/nginx/mime.types\n    added_by: alice\n"
                        + "  - value: /etc/nginx/nginx.conf\n")
                .replaceAll("(?s)  - value: /srv/true\n(    [^\n]*\n)*", "");
        edit(t);
        store.pollReload();
        assertThat(store.errors()).isEmpty();
        Profile q = store.profile(KEY);
        assertThat(q).isSameAs(p);
        assertThat(q.mode()).isEqualTo(Mode.MONITOR);
        assertThat(q.dim(Dimension.FILE_READ).entry("/etc/nginx/mime.types")).isNotNull();
        assertThat(q.dim(Dimension.FILE_READ).entry("/srv/true")).isNull();
        assertThat(q.dim(Dimension.FILE_READ).tombstone("/srv/true")).isNotNull();
        assertThat(q.dim(Dimension.EXEC).entry("/usr/bin/envsubst")).isNotNull();
        assertThat(q.compiled().matches(Dimension.FILE_READ, "/etc/nginx/mime.types")).isTrue();
        store.flush();
        assertThat(text()).contains("dimension: file_reads\n    value: /srv/true").contains("/usr/bin/envsubst");
    }

    @Test
    void pollReload_badEdit_isRejectedAndThePreviousVersionStays() throws Exception {
        store.flush();
        String good = text();
        edit(good.replace("mode: learning", "mode: learning\nexecutables: [broken\n"));
        store.pollReload();
        assertThat(store.errors()).singleElement().satisfies(e -> {
            assertThat(e.file()).isEqualTo(file().toString());
            assertThat(e.line()).isPositive();
        });
        assertThat(registry.get("driftwatch.profile.errors").gauge().value()).isEqualTo(1.0);
        assertThat(store.profile(KEY).dim(Dimension.FILE_READ).entry("/etc/nginx/nginx.conf")).isNotNull();
        assertThat(store.profile(KEY).compiled().matches(Dimension.EXEC, "/usr/sbin/nginx")).isTrue();
        // the operator's text is kept aside, the version in force is back in the file
        assertThat(Files.readString(file().resolveSibling(file().getFileName() + ".rejected"))).contains("[broken");
        assertThat(text()).isEqualTo(good);
        assertThat(store.errors().get(0).problem()).contains(".rejected");
        edit(good.replace("mode: learning", "mode: monitor"));
        store.pollReload();
        assertThat(store.errors()).isEmpty();
        assertThat(store.profile(KEY).mode()).isEqualTo(Mode.MONITOR);
    }

    @Test
    void pollReload_deletedFile_removesProfileAndItsMeters() throws Exception {
        store.flush();
        assertThat(registry.find("driftwatch.profile.confidence").tag("workload", "web").gauges()).hasSize(6);
        Files.delete(file());
        store.pollReload();
        assertThat(store.profile(KEY)).isNull();
        assertThat(p.deleted()).isTrue();
        assertThat(registry.find("driftwatch.profile.confidence").tag("workload", "web").gauges()).isEmpty();
    }

    @Test
    void setMode_transitions() {
        assertThatThrownBy(() -> store.setMode(KEY, Mode.ENFORCE, "alice")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.setMode(KEY, Mode.MONITOR, " ")).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.setMode(KEY, Mode.MONITOR, "alice").state()).isEqualTo("monitor");
        ProfileSnapshot s = store.setMode(KEY, Mode.ENFORCE, "alice");
        assertThat(s.mode()).isEqualTo("enforce");
        assertThat(s.document()).containsEntry("mode_changed_by", "alice");
        assertThat(p.compiled().enforces(Dimension.EXEC)).isTrue();
        store.setMode(KEY, Mode.LEARNING, "bob");
        assertThat(p.compiled().alerts(Dimension.EXEC)).isFalse();
    }

    @Test
    void api_addRemoveTombstoneApprove() {
        store.addEntry(KEY, Dimension.FILE_WRITE, "/var/log/nginx/*.log", "alice");
        assertThat(p.compiled().matches(Dimension.FILE_WRITE, "/var/log/nginx/access.log")).isTrue();
        assertThatThrownBy(() -> store.addEntry(KEY, Dimension.CONNECT, "tcp:nowhere:1", "alice"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad IPv4");
        store.removeEntry(KEY, Dimension.FILE_WRITE, "/var/log/nginx/*.log", "alice");
        assertThat(p.compiled().matches(Dimension.FILE_WRITE, "/var/log/nginx/access.log")).isFalse();
        assertThat(store.proposals(KEY)).extracting(m -> m.get("value")).contains("/var/lib/nginx/body/[num]", "/proc/[pid]/stat");
        store.approve(KEY, Dimension.FILE_WRITE, "/var/lib/nginx/body/[num]", "alice");
        assertThat(store.proposals(KEY)).extracting(m -> m.get("value")).doesNotContain("/var/lib/nginx/body/[num]");
        store.addEntry(KEY, Dimension.FILE_WRITE, "/etc/**", "alice"); // lifts the tombstone of exactly that value
        assertThat(p.dim(Dimension.FILE_WRITE).tombstone("/etc/**")).isNull();
    }

    @Test
    void publish_snapshotsForOtherThreads() {
        store.publish();
        ProfileSnapshot s = store.snapshot(KEY);
        assertThat(s.entries()).isEqualTo(11);
        assertThat(s.summary()).containsEntry("state", "learning");
        assertThat(s.approxBytes()).isPositive();
        assertThat(store.snapshots()).hasSize(1);
        assertThat(List.copyOf(store.snapshots()).get(0).toMap()).containsKey("profile");
    }
}
