package io.driftwatch.pipeline;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.EventView;
import java.nio.ByteBuffer;
import io.netty.util.collection.IntObjectHashMap;
import java.nio.ByteOrder;

/**
 * Names re-execs of {@code /proc/self/exe} by what was run. Multi-call binaries (busybox with
 * "prefer applets") start an applet by executing {@code /proc/self/exe} with the applet name as
 * argv[0]; the kernel reports the magic link. This handler, registered before every other exec
 * handler, renames such an exec to {@code <directory of the caller's binary>/<argv[0]>} — for
 * {@code sh} run by {@code /bin/busybox}, {@code /bin/sh} — so an applet keeps its own name in
 * profiles and deviations. The container runtime's own start-up re-exec ({@code /proc/self/exe
 * init}, runc) keeps its runtime flag; a busybox re-exec loses the flag the kernel side set on
 * every {@code /proc/self/exe}. Allocation-free: the new name is built in a reused buffer.
 */
public final class ExecNormalizer implements EventHandler {
    private static final byte[] SELF_EXE = "/proc/self/exe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static final int MAX_TRACKED = 1 << 16;

    private final ProcessLineage lineage;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(PATH_MAX).order(ByteOrder.nativeOrder());
    /** Directory of the binary each process runs (the interpreter's for a script), by tgid. */
    private final IntObjectHashMap<String> binaryDir = new IntObjectHashMap<>();

    public ExecNormalizer(ProcessLineage lineage) {
        this.lineage = lineage;
    }

    public ExecNormalizer register(Dispatcher dispatcher) {
        dispatcher.register(OP_EXEC, this);
        dispatcher.register(OP_EXIT, (ev, c) -> binaryDir.remove(ev.tgid()));
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
        if (fnLen != SELF_EXE.length || !equals(b, fn, SELF_EXE)) {
            if (ev.execRet() == 0) remember(ev);
            return;
        }
        int a0 = ev.argvOffset();
        int end = a0 + ev.argvLen();
        int a0len = 0;
        while (a0 + a0len < end && b.get(a0 + a0len) != 0) a0len++;
        if (a0len == 0 || isRuntime(b, a0, a0len)) return;
        // the applet name: argv[0] without a leading path
        int nameStart = a0;
        for (int i = a0; i < a0 + a0len; i++) if (b.get(i) == '/') nameStart = i + 1;
        int nameLen = a0 + a0len - nameStart;
        if (nameLen == 0) return;
        String dir = binaryDir.get(ev.tgid());
        if (dir == null) dir = binaryDir.get(ev.ppid());
        if (dir == null) dir = dirOf(lineage.exe(ev.tgid())); // from /proc: the binary itself
        if (dir == null) dir = dirOf(lineage.exe(ev.ppid()));
        if (dir == null || dir.length() + 1 + nameLen > PATH_MAX - 1) return;
        int n = 0;
        for (int i = 0; i < dir.length(); i++) {
            char ch = dir.charAt(i);
            if (ch >= 0x80) return; // non-ASCII directory: keep the raw name rather than mis-encode
            scratch.put(n++, (byte) ch);
        }
        if (n != 1) scratch.put(n++, (byte) '/'); // "/" + name, not "//" + name
        for (int i = 0; i < nameLen; i++) scratch.put(n++, b.get(nameStart + i));
        ev.overrideFilename(scratch, 0, n);
        ev.clearFlag(F_RUNTIME);
    }

    /**
     * Remembers the directory of the binary a process now runs: the file itself, or for a script
     * (argv = [interpreter, script, ...]) the interpreter's. Allocates one small string per exec
     * of a new directory only (interned).
     */
    private void remember(EventView ev) {
        if (binaryDir.size() >= MAX_TRACKED) binaryDir.clear();
        ByteBuffer b = ev.buffer();
        int a0 = ev.argvOffset();
        int end = a0 + ev.argvLen();
        int a0len = 0;
        while (a0 + a0len < end && b.get(a0 + a0len) != 0) a0len++;
        int a1 = a0 + a0len + 1;
        int a1len = 0;
        while (a1 + a1len < end && b.get(a1 + a1len) != 0) a1len++;
        int fn = ev.filenameOffset();
        int fnLen = ev.rawFilenameLen();
        boolean script = a0len > 1 && b.get(a0) == '/' && a1len == fnLen && fnLen > 0 && same(b, a1, fn, fnLen);
        int off = script ? a0 : fn;
        int len = script ? a0len : fnLen;
        int slash = -1;
        for (int i = 0; i < len; i++) if (b.get(off + i) == '/') slash = i;
        if (slash < 0 || b.get(off) != '/') return;
        String d = dirs.intern(b, off, slash == 0 ? 1 : slash);
        binaryDir.put(ev.tgid(), d);
    }

    private final Interner dirs = new Interner();

    /** Interns directory strings (few distinct values) without allocating for known ones. */
    private static final class Interner {
        private final io.netty.util.collection.LongObjectHashMap<String> byHash =
                new io.netty.util.collection.LongObjectHashMap<>();

        String intern(ByteBuffer b, int off, int len) {
            long h = io.driftwatch.bridge.Hashing.hash(b, off, len);
            String s = byHash.get(h);
            if (s != null && s.length() == len) return s;
            byte[] bytes = new byte[len];
            b.get(off, bytes, 0, len);
            s = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            if (byHash.size() < 4096) byHash.put(h, s);
            return s;
        }
    }

    private static String dirOf(String path) {
        if (path == null || path.isEmpty() || path.charAt(0) != '/') return null;
        int i = path.lastIndexOf('/');
        return i == 0 ? "/" : path.substring(0, i);
    }

    private static boolean same(ByteBuffer b, int x, int y, int len) {
        for (int i = 0; i < len; i++) if (b.get(x + i) != b.get(y + i)) return false;
        return true;
    }

    /** runc re-executes itself as {@code /proc/self/exe init}; its argv[0] is the link or "runc". */
    private static boolean isRuntime(ByteBuffer b, int a0, int len) {
        if (len == SELF_EXE.length && equals(b, a0, SELF_EXE)) return true;
        if (len >= 4 && b.get(a0 + len - 4) == 'r' && b.get(a0 + len - 3) == 'u' && b.get(a0 + len - 2) == 'n'
                && b.get(a0 + len - 1) == 'c' && (len == 4 || b.get(a0 + len - 5) == '/')) {
            return true;
        }
        return false;
    }

    private static boolean equals(ByteBuffer b, int off, byte[] s) {
        for (int i = 0; i < s.length; i++) if (b.get(off + i) != s[i]) return false;
        return true;
    }
}
