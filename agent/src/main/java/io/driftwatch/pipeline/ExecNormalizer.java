package io.driftwatch.pipeline;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.Hashing;
import io.netty.util.collection.LongObjectHashMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Names re-execs of {@code /proc/self/exe} by what was run. Multi-call binaries (busybox with
 * "prefer applets") start an applet by executing {@code /proc/self/exe} with the applet name as
 * argv[0]; the kernel reports the magic link. This handler, registered before every other exec
 * handler, renames such an exec to the applet's path in the container — the first of the
 * standard PATH directories holding an entry of that name ({@code /bin/sh} for {@code sh}) — so
 * an applet keeps its own name in profiles and deviations, the same name every time. The
 * container runtime's own start-up re-exec ({@code /proc/self/exe init}, runc) keeps its runtime
 * flag; runc's memfd re-exec (reported as {@code /}) gets it. Allocation-free once a container's
 * applet name has been looked up (a few stat calls, then cached).
 */
public final class ExecNormalizer implements EventHandler {
    private static final byte[] SELF_EXE = "/proc/self/exe".getBytes(StandardCharsets.US_ASCII);
    private static final String[] PATH_DIRS = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
        "/bin"};
    private static final int MAX_CACHED = 1 << 14;
    private static final String NONE = "";

    private final Path procRoot;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(PATH_MAX).order(ByteOrder.nativeOrder());
    /** (container key, applet name) → path in the container, or NONE. */
    private final LongObjectHashMap<String> resolved = new LongObjectHashMap<>();

    public ExecNormalizer(Path procRoot) {
        this.procRoot = procRoot;
    }

    public ExecNormalizer register(Dispatcher dispatcher) {
        dispatcher.register(OP_EXEC, this);
        return this;
    }

    @Override
    public void onEvent(EventView ev, ContainerState c) {
        ByteBuffer b = ev.buffer();
        int fn = ev.filenameOffset();
        int fnLen = ev.rawFilenameLen();
        if (fnLen == 1 && b.get(fn) == '/') { // runc's re-exec of its memfd copy
            ev.setFlag(F_RUNTIME);
            return;
        }
        if (fnLen != SELF_EXE.length || !equals(b, fn, SELF_EXE)) return;
        int a0 = ev.argvOffset();
        int end = a0 + ev.argvLen();
        int a0len = 0;
        while (a0 + a0len < end && b.get(a0 + a0len) != 0) a0len++;
        if (a0len == 0 || isRuntime(b, a0, a0len)) return;
        int nameStart = a0;
        for (int i = a0; i < a0 + a0len; i++) if (b.get(i) == '/') nameStart = i + 1;
        int nameLen = a0 + a0len - nameStart;
        if (nameLen == 0 || nameLen > 255) return;
        long key = Hashing.combine(Hashing.hash(b, nameStart, nameLen), c == null ? ev.tgid() : c.key);
        String path = resolved.get(key);
        if (path == null) {
            path = lookup(c, ev.tgid(), b, nameStart, nameLen);
            if (resolved.size() >= MAX_CACHED) resolved.clear();
            resolved.put(key, path);
        }
        if (path == NONE || path.length() > PATH_MAX - 1) return;
        for (int i = 0; i < path.length(); i++) scratch.put(i, (byte) path.charAt(i));
        ev.overrideFilename(scratch, 0, path.length());
        ev.clearFlag(F_RUNTIME);
    }

    /** The first PATH directory of the container's root holding {@code name}, as a container path. */
    private String lookup(ContainerState c, int tgid, ByteBuffer b, int off, int len) {
        byte[] nb = new byte[len];
        b.get(off, nb, 0, len);
        String name = new String(nb, StandardCharsets.UTF_8);
        if (name.equals(".") || name.equals("..") || !name.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) return NONE;
        int pid = c != null && c.initPid > 0 ? c.initPid : tgid;
        Path root = procRoot.resolve(Integer.toString(pid)).resolve("root");
        for (String dir : PATH_DIRS) {
            try {
                if (Files.exists(root.resolve(dir.substring(1)).resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                    return dir + "/" + name;
                }
            } catch (RuntimeException e) {
                return NONE;
            }
        }
        return NONE;
    }

    /** runc re-executes itself as {@code /proc/self/exe init}; its argv[0] is the link or "runc". */
    private static boolean isRuntime(ByteBuffer b, int a0, int len) {
        if (len == SELF_EXE.length && equals(b, a0, SELF_EXE)) return true;
        return len >= 4 && b.get(a0 + len - 4) == 'r' && b.get(a0 + len - 3) == 'u' && b.get(a0 + len - 2) == 'n'
                && b.get(a0 + len - 1) == 'c' && (len == 4 || b.get(a0 + len - 5) == '/');
    }

    private static boolean equals(ByteBuffer b, int off, byte[] s) {
        for (int i = 0; i < s.length; i++) if (b.get(off + i) != s[i]) return false;
        return true;
    }
}
