package io.driftwatch.testsupport;

import io.driftwatch.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real runc container with a busybox-static rootfs, for privileged tests. Its cgroup is
 * {@code /sys/fs/cgroup/unified/<id>} on this hybrid host, whose inode is the BPF cgroup id.
 * {@link #close()} kills it, deletes it and removes its cgroup directories.
 *
 * <pre>
 * try (RuncContainer c = RuncContainer.builder("dw-test-1").annotation("io.kubernetes.pod.namespace", "shop")
 *         .command("sh", "-c", "exec sleep 1000").start()) {
 *     c.exec("cat", "/etc/hostname");
 * }
 * </pre>
 */
public final class RuncContainer implements AutoCloseable {
    public static final String BUSYBOX = "/bin/busybox";
    private static final String[] APPLETS = {"sh", "ls", "cat", "sleep", "nc", "ps", "ip", "echo", "wget", "id",
            "hostname", "touch", "rm", "cp", "mkdir", "head", "tail", "grep", "true", "false", "env", "kill", "wc",
            "dd", "ln", "chmod", "date", "seq", "sed", "awk", "find", "mv", "stat", "readlink", "printf", "test", "xargs",
            "crond", "crontab", "netstat", "vi", "tee", "uname", "whoami", "yes", "timeout", "usleep", "httpd"};

    private final String id;
    private final Path bundle;
    private final List<String> cgroupDirs = new ArrayList<>();
    private int pid;
    private boolean closed;

    private RuncContainer(String id, Path bundle) {
        this.id = id;
        this.bundle = bundle;
    }

    public static Builder builder(String id) {
        return new Builder(id);
    }

    public String id() { return id; }
    public Path bundle() { return bundle; }
    public Path rootfs() { return bundle.resolve("rootfs"); }
    /** Host pid of the container's init process. */
    public int pid() { return pid; }
    /** The container's cgroup v2 directory. */
    public Path cgroupV2Dir() { return Path.of("/sys/fs/cgroup/unified", id); }

    /** The BPF cgroup id: inode of the container's unified cgroup directory. */
    public long cgroupId() {
        try {
            return ((Number) Files.getAttribute(cgroupV2Dir(), "unix:ino")).longValue();
        } catch (IOException e) {
            throw new IllegalStateException("no cgroup v2 directory for " + id, e);
        }
    }

    /** Pids in the container's cgroup (exited processes, zombies included, are not listed). */
    public List<Long> processes() {
        try {
            return Files.readAllLines(cgroupV2Dir().resolve("cgroup.procs")).stream().filter(l -> !l.isBlank())
                    .map(Long::parseLong).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Waits (bounded) until no process is left in the container; true when it is empty. */
    public boolean awaitEmpty(long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < end) {
            if (processes().isEmpty()) return true;
            Thread.sleep(5);
        }
        return processes().isEmpty();
    }

    /** Runs a command in the container ({@code runc exec}) and waits, bounded. */
    public Procs.Result exec(String... cmd) {
        return exec(20_000, cmd);
    }

    public Procs.Result exec(long timeoutMs, String... cmd) {
        List<String> c = new ArrayList<>(List.of("runc", "exec", id));
        c.addAll(List.of(cmd));
        return Procs.run(timeoutMs, c);
    }

    /** Writes a file into the rootfs from the host side (not seen as a container open). */
    public Path writeFile(String pathInContainer, String content) throws IOException {
        Path p = rootfs().resolve(pathInContainer.replaceFirst("^/+", ""));
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Path kill = cgroupV2Dir().resolve("cgroup.kill");
        try {
            if (Files.exists(kill)) Files.writeString(kill, "1");
        } catch (IOException ignored) {
            // fall through to runc kill
        }
        Procs.run(10_000, List.of("runc", "kill", id, "KILL"));
        for (int i = 0; i < 50 && Procs.run(5_000, List.of("runc", "delete", "-f", id)).exitCode() != 0; i++) {
            sleep(100);
        }
        for (String dir : cgroupDirs) {
            for (int i = 0; i < 20; i++) {
                try {
                    Files.deleteIfExists(Path.of(dir));
                    break;
                } catch (IOException e) {
                    sleep(50);
                }
            }
        }
        deleteTree(bundle);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Builds and starts a container. */
    public static final class Builder {
        private final String id;
        private List<String> args = List.of("sleep", "100000");
        private final Map<String, String> annotations = new LinkedHashMap<>();
        private final Map<String, String> files = new LinkedHashMap<>();
        private final List<String[]> binds = new ArrayList<>();
        private String hostname = "ctr";
        private boolean network = true;

        private Builder(String id) {
            if (!id.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) throw new IllegalArgumentException("bad runc id " + id);
            this.id = id;
        }

        public Builder command(String... args) { this.args = List.of(args); return this; }
        public Builder annotation(String k, String v) { annotations.put(k, v); return this; }
        /** Kubernetes-style annotations as containerd's CRI plugin writes them. */
        public Builder kubernetes(String namespace, String pod, String container, String image) {
            annotations.put("io.kubernetes.cri.container-type", "container");
            annotations.put("io.kubernetes.cri.sandbox-namespace", namespace);
            annotations.put("io.kubernetes.cri.sandbox-name", pod);
            annotations.put("io.kubernetes.cri.sandbox-uid", "0b6d5c6e-1c5e-4c1e-9d6f-" + String.format("%012d", Math.abs(pod.hashCode())));
            annotations.put("io.kubernetes.cri.container-name", container);
            annotations.put("io.kubernetes.cri.image-name", image);
            return this;
        }
        public Builder file(String path, String content) { files.put(path, content); return this; }
        /** Read-only bind mount of a host path at the same path inside. */
        public Builder bindReadOnly(String hostPath) { binds.add(new String[] {hostPath, hostPath}); return this; }
        public Builder hostname(String h) { hostname = h; return this; }
        /** false: share the host's network namespace (default: a private one with only lo). */
        public Builder privateNetwork(boolean p) { network = p; return this; }

        public RuncContainer start() throws IOException {
            Path bundle = Files.createTempDirectory("dw-bundle-" + id + "-");
            RuncContainer c = new RuncContainer(id, bundle);
            try {
                layout(bundle);
                Files.writeString(bundle.resolve("config.json"), Json.write(spec()), StandardCharsets.UTF_8);
                Procs.run(5_000, List.of("runc", "delete", "-f", id)); // stale container of a crashed run
                Path log = bundle.resolve("runc.log");
                Procs.Result r = Procs.run(30_000, List.of("runc", "--log", log.toString(), "run", "-d", "--bundle",
                        bundle.toString(), id));
                if (r.exitCode() != 0) {
                    throw new IOException("runc run " + id + " failed: " + r.stderr().strip() + " " + r.stdout().strip());
                }
                String state = Procs.run(10_000, List.of("runc", "state", id)).orThrow().stdout();
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"pid\":\\s*(\\d+)").matcher(state);
                if (!m.find()) throw new IOException("no pid in runc state: " + state);
                c.pid = Integer.parseInt(m.group(1));
                for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(c.pid), "cgroup"))) {
                    String[] parts = line.split(":", 3);
                    if (parts.length < 3) continue;
                    String ctrl = parts[1].isEmpty() ? "unified" : parts[1].split(",")[0].replace("name=", "");
                    Path dir = Path.of("/sys/fs/cgroup", ctrl.equals("unified") ? "unified" : parts[1].replace("name=", ""), parts[2]);
                    c.cgroupDirs.add(dir.toString());
                }
                return c;
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
        }

        private void layout(Path bundle) throws IOException {
            Path rootfs = bundle.resolve("rootfs");
            for (String d : new String[] {"bin", "proc", "sys", "dev", "tmp", "etc", "root", "var/log", "var/run", "run"}) {
                Files.createDirectories(rootfs.resolve(d));
            }
            Files.copy(Path.of(BUSYBOX), rootfs.resolve("bin/busybox"));
            rootfs.resolve("bin/busybox").toFile().setExecutable(true, false);
            for (String a : APPLETS) Files.createSymbolicLink(rootfs.resolve("bin").resolve(a), Path.of("busybox"));
            Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
            Files.writeString(rootfs.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
            Files.writeString(rootfs.resolve("etc/shadow"), "root:*:19000:0:99999:7:::\n");
            Files.writeString(rootfs.resolve("etc/hostname"), hostname + "\n");
            for (Map.Entry<String, String> f : files.entrySet()) {
                Path p = rootfs.resolve(f.getKey().replaceFirst("^/+", ""));
                Files.createDirectories(p.getParent());
                Files.writeString(p, f.getValue());
                if (f.getKey().startsWith("/bin/") || f.getValue().startsWith("#!")) p.toFile().setExecutable(true, false);
            }
            for (String[] b : binds) Files.createDirectories(rootfs.resolve(b[1].replaceFirst("^/+", "")));
        }

        private Map<String, Object> spec() {
            List<String> caps = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                    "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE");
            Map<String, Object> process = new LinkedHashMap<>();
            process.put("terminal", false);
            process.put("user", Map.of("uid", 0, "gid", 0));
            process.put("args", args);
            process.put("env", List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"));
            process.put("cwd", "/");
            process.put("capabilities", Map.of("bounding", caps, "effective", caps, "permitted", caps));
            process.put("rlimits", List.of(Map.of("type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024)));
            process.put("noNewPrivileges", true);

            List<Object> mounts = new ArrayList<>();
            mounts.add(mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
            mounts.add(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
            mounts.add(mount("/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")));
            mounts.add(mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "nodev", "mode=1777", "size=65536k")));
            mounts.add(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
            mounts.add(mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")));
            for (String[] b : binds) mounts.add(mount(b[1], "none", b[0], List.of("rbind", "ro", "nosuid", "nodev")));

            List<Object> ns = new ArrayList<>();
            for (String t : network ? List.of("pid", "network", "ipc", "uts", "mount") : List.of("pid", "ipc", "uts", "mount")) {
                ns.add(Map.of("type", t));
            }
            Map<String, Object> linux = new LinkedHashMap<>();
            linux.put("resources", Map.of("devices", List.of(Map.of("allow", false, "access", "rwm"))));
            linux.put("namespaces", ns);
            linux.put("maskedPaths", List.of("/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"));
            linux.put("readonlyPaths", List.of("/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                    "/proc/sysrq-trigger"));

            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("ociVersion", "1.0.2");
            spec.put("process", process);
            spec.put("root", Map.of("path", "rootfs", "readonly", false));
            spec.put("hostname", hostname);
            spec.put("mounts", mounts);
            spec.put("annotations", annotations);
            spec.put("linux", linux);
            return spec;
        }

        private static Map<String, Object> mount(String dest, String type, String source, List<String> options) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("destination", dest);
            m.put("type", type);
            m.put("source", source);
            m.put("options", options);
            return m;
        }
    }
}
