package io.driftwatch.proc;

import io.driftwatch.proc.CgroupParser.CgroupLine;
import io.driftwatch.proc.StatParser.Stat;
import io.driftwatch.proc.StatusParser.Status;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The I/O half of the /proc view: reads files under a configurable procfs root ({@code /proc},
 * or {@code /host/proc} inside a pod; a fixture tree in tests) and hands the text to the pure
 * parsers. Like procfs's ReadFileNoStat it never trusts a file's stat size (procfs reports 0)
 * and reads to EOF with a bound.
 *
 * <p>Processes vanish at any moment: a missing file (ENOENT) or ESRCH on read means the
 * process is gone; such reads return null and are counted in {@link #vanished}, never thrown.
 * Permission errors are counted in {@link #denied}, malformed content in {@link #malformed}.
 * Thread-safe (stateless but for the counters).
 */
public final class ProcFs {
    /** Bound of one per-process file (status, cgroup, cmdline...). */
    static final int MAX_SMALL = 256 * 1024;
    /** Bound of one network table (a busy host can have 100k sockets: ~15 MiB). */
    static final int MAX_TABLE = 64 * 1024 * 1024;
    private static final String DELETED = " (deleted)";

    private final Path root;
    public final LongAdder vanished = new LongAdder();
    public final LongAdder denied = new LongAdder();
    public final LongAdder malformed = new LongAdder();
    public final LongAdder truncated = new LongAdder();

    public ProcFs(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path pidDir(int pid) {
        return root.resolve(Integer.toString(pid));
    }

    /** The numeric entries of the root (thread group ids), unsorted. Empty when unreadable. */
    public int[] pids() {
        int[] out = new int[256];
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                int pid = parsePid(name);
                if (pid <= 0) continue;
                if (n == out.length) out = Arrays.copyOf(out, n * 2);
                out[n++] = pid;
            }
        } catch (IOException e) {
            denied.increment();
        }
        return Arrays.copyOf(out, n);
    }

    static int parsePid(String name) {
        if (name.isEmpty() || name.length() > 10) return -1;
        long v = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
        }
        return v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    // ---- raw reads -------------------------------------------------------------------------------

    /** Reads a whole file without trusting its size; null when it does not exist (counted). */
    byte[] readBytes(Path file, int max) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                truncated.increment();
                return Arrays.copyOf(b, max);
            }
            return b;
        } catch (IOException e) {
            classify(e);
            return null;
        }
    }

    String readString(Path file, int max) {
        byte[] b = readBytes(file, max);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** {@code <root>/<pid>/<name>} as text, or null when the process is gone. */
    public String read(int pid, String name) {
        return readString(pidDir(pid).resolve(name), MAX_SMALL);
    }

    /** {@code <root>/<name>} (e.g. "stat", "sys/net/ipv4/ip_local_port_range"), or null. */
    public String readRoot(String name) {
        return readString(root.resolve(name), MAX_SMALL);
    }

    /** A network table of the process's network namespace ({@code net/tcp6}...), or null. */
    public String readNetTable(int pid, String table) {
        return readString(pidDir(pid).resolve("net").resolve(table), MAX_TABLE);
    }

    /** Target of a symlink under the pid dir (exe, ns/net, fd/3), or null when absent/gone. */
    public String readLink(int pid, String name) {
        try {
            return Files.readSymbolicLink(pidDir(pid).resolve(name)).toString();
        } catch (IOException | UnsupportedOperationException e) {
            if (e instanceof IOException) classifyQuiet((IOException) e);
            return null;
        }
    }

    private void classify(IOException e) {
        if (isVanished(e)) vanished.increment();
        else if (e instanceof AccessDeniedException) denied.increment();
        else malformed.increment();
    }

    private void classifyQuiet(IOException e) {
        // a missing link is normal (kernel threads have no exe); only count permission problems
        if (e instanceof AccessDeniedException) denied.increment();
    }

    /** ENOENT or ESRCH: the process exited while we read it. */
    public static boolean isVanished(IOException e) {
        if (e instanceof NoSuchFileException || e instanceof NotDirectoryException) return true;
        String m = e.getMessage();
        return m != null && (m.contains("No such process") || m.contains("No such file"));
    }

    // ---- typed reads -----------------------------------------------------------------------------

    /** Parsed stat, or null when the process is gone or the file is malformed (counted). */
    public Stat stat(int pid) {
        String s = read(pid, "stat");
        if (s == null) return null;
        try {
            return StatParser.parse(s);
        } catch (IllegalArgumentException e) {
            malformed.increment();
            return null;
        }
    }

    public Status status(int pid) {
        String s = read(pid, "status");
        if (s == null) return null;
        try {
            return StatusParser.parse(s);
        } catch (IllegalArgumentException e) {
            malformed.increment();
            return null;
        }
    }

    /** cgroup lines, or null when the process is gone. */
    public List<CgroupLine> cgroup(int pid) {
        String s = read(pid, "cgroup");
        return s == null ? null : CgroupParser.parse(s);
    }

    /** argv, or null when the process is gone. */
    public List<String> cmdline(int pid) {
        byte[] b = readBytes(pidDir(pid).resolve("cmdline"), MAX_SMALL);
        return b == null ? null : CmdlineParser.parse(b);
    }

    /** The executable, or null (kernel threads, gone, or not permitted). */
    public Exe exe(int pid) {
        String link = readLink(pid, "exe");
        return link == null ? null : Exe.parse(link);
    }

    /** Inode of the process's network namespace ("net:[4026531840]"), or 0. */
    public long netns(int pid) {
        return bracketInode(readLink(pid, "ns/net"), "net:[");
    }

    /** Inodes of the sockets open in the process ("socket:[123]" fd links). */
    public long[] socketInodes(int pid) {
        long[] out = new long[16];
        int n = 0;
        Path fdDir = pidDir(pid).resolve("fd");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(fdDir)) {
            for (Path fd : ds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // fd closed meanwhile
                }
                long ino = bracketInode(target, "socket:[");
                if (ino == 0) continue;
                if (n == out.length) out = Arrays.copyOf(out, n * 2);
                out[n++] = ino;
            }
        } catch (IOException e) {
            classify(e);
        }
        return Arrays.copyOf(out, n);
    }

    static long bracketInode(String link, String prefix) {
        if (link == null || !link.startsWith(prefix) || !link.endsWith("]")) return 0;
        try {
            return Long.parseLong(link.substring(prefix.length(), link.length() - 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Boot time in epoch seconds from {@code <root>/stat} (btime), or -1. */
    public long bootTimeSeconds() {
        String s = readRoot("stat");
        if (s == null) return -1;
        for (String line : s.split("\n")) {
            if (line.startsWith("btime ")) {
                try {
                    return Long.parseLong(line.substring(6).trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** The pid of the reader in this procfs ({@code <root>/self}), or -1 (fixture trees). */
    public int selfPid() {
        try {
            return parsePid(Files.readSymbolicLink(root.resolve("self")).toString());
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    /** The ephemeral port range ({@code sys/net/ipv4/ip_local_port_range}), default 32768-60999. */
    public int[] localPortRange() {
        String s = readRoot("sys/net/ipv4/ip_local_port_range");
        if (s != null) {
            String[] f = s.trim().split("\\s+");
            if (f.length == 2) {
                try {
                    return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
                } catch (NumberFormatException ignored) {
                    // fall through to the default
                }
            }
        }
        return new int[] {32768, 60999};
    }

    /** An executable link target: the path and whether the file was deleted after exec. */
    public record Exe(String path, boolean deleted) {
        /** Pure: strips the kernel's " (deleted)" suffix. */
        public static Exe parse(String link) {
            if (link.endsWith(DELETED)) return new Exe(link.substring(0, link.length() - DELETED.length()), true);
            return new Exe(link, false);
        }
    }
}
