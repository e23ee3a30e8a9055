package io.driftwatch.respond;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Freezes, thaws and kills the processes of one container through its cgroup: cgroup v2
 * ({@code cgroup.freeze}, {@code cgroup.kill}) where the container has a v2 cgroup, else the v1
 * freezer and SIGKILL to every pid in {@code cgroup.procs}. Refuses the cgroup root, any
 * cgroup containing the agent itself, and paths that escape the cgroup root.
 */
public final class CgroupControl {
    private final Path cgroupRoot;
    private final long selfPid = ProcessHandle.current().pid();

    public CgroupControl(Path cgroupRoot) {
        this.cgroupRoot = cgroupRoot;
    }

    /** The v2 directory of a cgroup path: {@code root/unified/path} on hybrid hosts, else {@code root/path}. */
    public Path v2Dir(String cgroupPath) {
        Path hybrid = safe(cgroupRoot.resolve("unified"), cgroupPath);
        if (Files.isDirectory(cgroupRoot.resolve("unified")) && Files.exists(hybrid.resolve("cgroup.procs"))) return hybrid;
        return safe(cgroupRoot, cgroupPath);
    }

    /** Throws when acting on this cgroup would touch the host or the agent. */
    public Path checkTarget(String cgroupPath) throws IOException {
        if (cgroupPath == null || cgroupPath.isBlank() || cgroupPath.equals("/")) {
            throw new IOException("refused: not a container cgroup (" + cgroupPath + ")");
        }
        Path dir = v2Dir(cgroupPath);
        if (!Files.exists(dir.resolve("cgroup.procs"))) throw new IOException("cgroup " + dir + " does not exist");
        for (long pid : pids(dir)) {
            if (pid == selfPid) throw new IOException("refused: cgroup " + dir + " contains the agent itself");
        }
        return dir;
    }

    public void freeze(String cgroupPath) throws IOException {
        Path dir = checkTarget(cgroupPath);
        Path f = dir.resolve("cgroup.freeze");
        if (Files.exists(f)) {
            Files.writeString(f, "1");
            return;
        }
        Path v1 = safe(cgroupRoot.resolve("freezer"), cgroupPath).resolve("freezer.state");
        if (!Files.exists(v1)) throw new IOException("no freezer for " + cgroupPath);
        Files.writeString(v1, "FROZEN");
    }

    public void thaw(String cgroupPath) throws IOException {
        Path dir = v2Dir(cgroupPath);
        Path f = dir.resolve("cgroup.freeze");
        if (Files.exists(f)) Files.writeString(f, "0");
        Path v1 = safe(cgroupRoot.resolve("freezer"), cgroupPath).resolve("freezer.state");
        if (Files.exists(v1)) Files.writeString(v1, "THAWED");
    }

    public boolean isFrozen(String cgroupPath) throws IOException {
        Path events = v2Dir(cgroupPath).resolve("cgroup.events");
        if (Files.exists(events)) {
            for (String line : Files.readAllLines(events)) if (line.equals("frozen 1")) return true;
            return false;
        }
        Path v1 = safe(cgroupRoot.resolve("freezer"), cgroupPath).resolve("freezer.state");
        return Files.exists(v1) && Files.readString(v1).trim().equals("FROZEN");
    }

    /** Kills every process of the container; returns how many pids were signalled (-1 = cgroup.kill). */
    public int kill(String cgroupPath) throws IOException {
        Path dir = checkTarget(cgroupPath);
        Path k = dir.resolve("cgroup.kill");
        if (Files.exists(k)) {
            Files.writeString(k, "1");
            thawQuietly(cgroupPath); // a frozen cgroup must thaw for the kill to be delivered
            return -1;
        }
        int n = 0;
        for (long pid : pids(dir)) {
            if (pid != selfPid && ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)) n++;
        }
        thawQuietly(cgroupPath);
        return n;
    }

    private void thawQuietly(String cgroupPath) {
        try {
            thaw(cgroupPath);
        } catch (IOException ignored) {
            // best effort
        }
    }

    static List<Long> pids(Path dir) throws IOException {
        List<Long> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("cgroup.procs"), StandardCharsets.US_ASCII)) {
            line = line.trim();
            if (!line.isEmpty()) out.add(Long.parseLong(line));
        }
        return out;
    }

    private static Path safe(Path root, String cgroupPath) {
        Path p = root.resolve(cgroupPath.replaceFirst("^/+", "")).normalize();
        if (!p.startsWith(root.normalize())) throw new IllegalArgumentException("cgroup path escapes root: " + cgroupPath);
        return p;
    }
}
