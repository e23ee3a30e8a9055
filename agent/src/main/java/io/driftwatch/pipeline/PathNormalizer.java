package io.driftwatch.pipeline;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.EventView;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Makes absolute file and exec paths lexical: {@code //} and {@code /.} segments go, {@code ..}
 * removes the segment before it (never above the root), a trailing {@code /} goes. The kernel
 * reports a path as the process wrote it, and {@code /var/lib/redis/../../../etc/shadow} must be
 * learned, matched and reported as {@code /etc/shadow}: a pattern of the directory it starts in
 * must not cover it. Symbolic links are not followed (a {@code ..} after a link is resolved
 * against the link's name, as the shell does, not its target).
 *
 * <p>Registered before every other handler for opens and execs. An open's path is rewritten in
 * the record (it only gets shorter); an exec's filename, which argv follows in the record, is
 * passed on through {@link EventView#overrideFilename}. Allocation-free; a path with nothing to
 * do costs one scan.
 */
public final class PathNormalizer implements EventHandler {
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(PATH_MAX).order(ByteOrder.nativeOrder());

    public PathNormalizer register(Dispatcher dispatcher) {
        dispatcher.register(OP_OPEN, this);
        dispatcher.register(OP_EXEC, this);
        return this;
    }

    @Override
    public void onEvent(EventView ev, ContainerState c) {
        if (ev.op() == OP_OPEN) {
            int len = ev.pathLen();
            int n = normalize(ev.buffer(), ev.pathOffset(), len);
            if (n != len) ev.setPathLen(n);
            return;
        }
        ByteBuffer fb = ev.filenameBuffer();
        int off = ev.filenameOffset(), len = ev.filenameLen();
        if (len > PATH_MAX || !needsWork(fb, off, len)) return;
        for (int i = 0; i < len; i++) scratch.put(i, fb.get(off + i));
        ev.overrideFilename(scratch, 0, normalize(scratch, 0, len));
    }

    /**
     * Normalises the absolute path in {@code b[off, off + len)} in place and returns its new
     * length ({@code len} when there is nothing to do or the path is not absolute).
     */
    public static int normalize(ByteBuffer b, int off, int len) {
        if (!needsWork(b, off, len)) return len;
        int end = off + len;
        int w = off + 1; // output so far: b[off, w), always starting with '/'
        int i = off + 1;
        while (i < end) {
            while (i < end && b.get(i) == '/') i++;
            if (i >= end) break;
            int s = i;
            while (i < end && b.get(i) != '/') i++;
            int n = i - s;
            if (n == 1 && b.get(s) == '.') continue;
            if (n == 2 && b.get(s) == '.' && b.get(s + 1) == '.') {
                int p = w - 1;
                while (p > off && b.get(p) != '/') p--;
                w = p == off ? off + 1 : p;
                continue;
            }
            // the output never overtakes the input: each byte written was read at or after w
            if (w > off + 1) b.put(w++, (byte) '/');
            for (int k = s; k < i; k++) b.put(w++, b.get(k));
        }
        return w - off;
    }

    /** True for an absolute path with an empty, "." or ".." segment, or a trailing '/'. */
    static boolean needsWork(ByteBuffer b, int off, int len) {
        if (len < 2 || b.get(off) != '/') return false;
        int end = off + len;
        if (b.get(end - 1) == '/') return true;
        for (int i = off; i < end - 1; i++) {
            if (b.get(i) != '/') continue;
            byte n = b.get(i + 1);
            if (n == '/') return true;
            if (n != '.') continue;
            if (i + 2 == end || b.get(i + 2) == '/') return true;
            if (b.get(i + 2) == '.' && (i + 3 == end || b.get(i + 3) == '/')) return true;
        }
        return false;
    }
}
