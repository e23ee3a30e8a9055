package io.driftwatch.proc;

import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.proc.CgroupParser.CgroupLine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cgroup file systems under a configurable root ({@code /sys/fs/cgroup}). Knows the layout
 * (pure v1, hybrid with v2 at {@code <root>/unified}, or pure v2 at the root) and turns cgroup
 * paths into the ids events carry: {@code cgroup_id} = inode of the v2 directory (what
 * {@code bpf_get_current_cgroup_id()} returns), {@code cgroup_v1_id} = inode of the v1 memory
 * directory. Thread-safe; inode look-ups are cached (bounded) by path.
 */
public final class CgroupFs {
    public enum Mode { V1, HYBRID, V2 }

    private static final int CACHE_MAX = 8192;
    private static final int SCAN_MAX_DIRS = 50_000;
    private static final int SCAN_MAX_DEPTH = 12;

    private final Path root;
    private final Mode mode;
    private final Path v2Root;
    private final Path memoryRoot;
    private final long v2RootId;
    private final ConcurrentHashMap<Path, Long> inodes = new ConcurrentHashMap<>();

    public CgroupFs(Path root) {
        this.root = root;
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            mode = Mode.V2;
            v2Root = root;
            memoryRoot = null;
        } else if (Files.isDirectory(root.resolve("unified"))) {
            mode = Mode.HYBRID;
            v2Root = root.resolve("unified");
            memoryRoot = root.resolve("memory");
        } else {
            mode = Mode.V1;
            v2Root = null;
            memoryRoot = root.resolve("memory");
        }
        v2RootId = v2Root == null ? 0 : inodeUncached(v2Root);
    }

    public Path root() { return root; }
    public Mode mode() { return mode; }
    /** Inode of the v2 root directory (1 on a real cgroup2 mount), or 0 without v2. */
    public long v2RootId() { return v2RootId; }

    /** The v2 directory of a cgroup path, or null without v2. */
    public Path v2Dir(String path) {
        return v2Root == null || path == null ? null : resolve(v2Root, path);
    }

    /** The v1 memory directory of a cgroup path, or null without v1. */
    public Path memoryDir(String path) {
        return memoryRoot == null || path == null ? null : resolve(memoryRoot, path);
    }

    private static Path resolve(Path base, String path) {
        String rel = path.startsWith("/") ? path.substring(1) : path;
        if (rel.isEmpty()) return base;
        Path p = base.resolve(rel).normalize();
        return p.startsWith(base) ? p : base; // "/../.." cannot escape the hierarchy
    }

    /** {@code {cgroup_id, cgroup_v1_id}} of a process's cgroup lines (0 where unknown). */
    public long[] ids(List<CgroupLine> lines) {
        long v2 = 0, v1 = 0;
        String u = CgroupParser.unifiedPath(lines);
        if (u != null && v2Root != null) v2 = inode(v2Dir(u));
        String m = CgroupParser.v1Path(lines, "memory");
        if (m != null && memoryRoot != null) v1 = inode(memoryDir(m));
        return new long[] {v2, v1};
    }

    /** The container key ({@link ContainerState#key}) of cgroup ids on this host. */
    public long key(long cgroupId, long cgroupV1Id) {
        return ContainerState.key(cgroupId, cgroupV1Id, v2RootId);
    }

    /** Inode of a directory (cached), or 0 when it does not exist. */
    public long inode(Path dir) {
        if (dir == null) return 0;
        Long v = inodes.get(dir);
        if (v != null) return v;
        long ino = inodeUncached(dir);
        if (ino != 0) {
            if (inodes.size() >= CACHE_MAX) inodes.clear();
            inodes.put(dir, ino);
        }
        return ino;
    }

    /** Drops a cached inode (the directory was removed). */
    public void forget(Path dir) {
        if (dir != null) inodes.remove(dir);
    }

    static long inodeUncached(Path dir) {
        try {
            return ((Number) Files.getAttribute(dir, "unix:ino")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0;
        }
    }

    /**
     * Number of processes in a cgroup directory ({@code cgroup.procs} lines), or -1 when the
     * directory is gone.
     */
    public static int processCount(Path dir) {
        if (dir == null) return -1;
        try (InputStream in = Files.newInputStream(dir.resolve("cgroup.procs"))) {
            byte[] b = in.readNBytes(4 << 20);
            int n = 0;
            boolean any = false;
            for (byte c : b) {
                if (c == '\n') {
                    if (any) n++;
                    any = false;
                } else {
                    any = true;
                }
            }
            return any ? n + 1 : n;
        } catch (IOException e) {
            return -1;
        }
    }

    /** First pid listed in a cgroup directory, or -1. */
    public static int[] pids(Path dir) {
        if (dir == null) return new int[0];
        try (InputStream in = Files.newInputStream(dir.resolve("cgroup.procs"))) {
            String s = new String(in.readNBytes(4 << 20), java.nio.charset.StandardCharsets.US_ASCII);
            return s.lines().mapToInt(ProcFs::parsePid).filter(p -> p > 0).toArray();
        } catch (IOException e) {
            return new int[0];
        }
    }

    /**
     * Finds the cgroup path (e.g. "/kubepods/x") whose directory has inode {@code ino}, by a
     * bounded breadth-first walk of the v2 hierarchy (v1 = false) or the v1 memory hierarchy.
     * For processes that exited before their cgroup was looked up. Null when not found.
     */
    public String findPath(long ino, boolean v1) {
        Path base = v1 ? memoryRoot : v2Root;
        if (base == null || ino == 0) return null;
        ArrayDeque<Path> queue = new ArrayDeque<>();
        ArrayDeque<Integer> depth = new ArrayDeque<>();
        queue.add(base);
        depth.add(0);
        int seen = 0;
        while (!queue.isEmpty() && seen < SCAN_MAX_DIRS) {
            Path dir = queue.poll();
            int d = depth.poll();
            seen++;
            if (inodeUncached(dir) == ino) {
                String rel = base.relativize(dir).toString();
                return "/" + rel;
            }
            if (d >= SCAN_MAX_DEPTH) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
                for (Path c : ds) {
                    if (Files.isSymbolicLink(c)) continue;
                    queue.add(c);
                    depth.add(d + 1);
                }
            } catch (IOException e) {
                // removed meanwhile
            }
        }
        return null;
    }
}
