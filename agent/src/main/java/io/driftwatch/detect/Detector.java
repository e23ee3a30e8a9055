package io.driftwatch.detect;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.EventView;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.Dispatcher;
import io.driftwatch.pipeline.EventHandler;
import io.driftwatch.profile.CompiledProfile;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.ProfileStore;

/**
 * Checks every event of a container whose profile is in monitor or enforce mode against the
 * profile (patterns included) and reports the verdict to a {@link DetectionListener}. Pure: it
 * decides, it does not act. Allocation-free for known behaviour.
 *
 * <p>What is checked:
 * <ul>
 *   <li>exec: the path as executed (an applet by its own name). The parents learned with each
 *       executable are evidence for reviewers, not checked: the parent's name differs between
 *       the kernel source (name as executed) and /proc (resolved binary), which would make the
 *       check a source of false positives after every agent restart;</li>
 *   <li>open: successful opens, as file_read or file_write by access mode;</li>
 *   <li>listen/bind: successful ones, by proto:port;</li>
 *   <li>connect: every attempt, whatever its result (a port scan is mostly refused connects);</li>
 *   <li>accept: by local port;</li>
 *   <li>accesses the kernel bridge already denied (fanotify in enforce mode) are always reported.</li>
 * </ul>
 * Not checked: host processes, the container runtime's own set-up (DW_F_RUNTIME), failed execs
 * and opens (probing for files that do not exist is normal), and unreadable or truncated paths
 * (counted by the sources).
 */
public final class Detector implements EventHandler {
    public static final int UNKNOWN_VALUE = 1;
    public static final int DENIED = 3;

    static final int[] OPS = {OP_EXEC, OP_OPEN, OP_LISTEN, OP_BIND, OP_CONNECT, OP_ACCEPT};

    private final ProfileStore store;
    private final DetectionListener listener;
    private final boolean ignoreProcExecs;
    private java.util.function.Predicate<ContainerState> startupLearning = c -> false;

    /**
     * @param ignoreProcExecs true when a kernel source reports execs: the /proc poller's
     *                        start-up snapshot names resolved binaries, which would not match
     */
    public Detector(ProfileStore store, DetectionListener listener, boolean ignoreProcExecs) {
        this.store = store;
        this.listener = listener;
        this.ignoreProcExecs = ignoreProcExecs;
    }

    /**
     * Containers whose start-up is being learned (no container of the workload was seen starting
     * before): what they do in their start-up window is learned, not reported. Checked on misses only.
     */
    public Detector startupLearning(java.util.function.Predicate<ContainerState> p) {
        this.startupLearning = p;
        return this;
    }

    public Detector register(Dispatcher dispatcher) {
        for (int op : OPS) dispatcher.register(op, this);
        return this;
    }

    @Override
    public void onEvent(EventView ev, ContainerState c) {
        if (c == null || ev.isRuntime()) return;
        int op = ev.op();
        Dimension d;
        boolean denied = ev.hasFlag(F_DENIED);
        switch (op) {
            case OP_EXEC:
                if (ev.execRet() < 0 && !denied) return;
                if (ignoreProcExecs && ev.source() == SRC_PROC) return;
                if (badPath(ev, ev.filenameLen())) return;
                d = Dimension.EXEC;
                break;
            case OP_OPEN:
                if (ev.fileRet() < 0 && !denied) return;
                if (badPath(ev, ev.pathLen())) return;
                if ((ev.access() & ACC_EXEC) != 0) {
                    if (!denied) return; // fanotify exec-open: the exec record carries the name as executed
                    d = Dimension.EXEC;
                    break;
                }
                d = Dimension.ofEvent(op, ev.access(), 0);
                break;
            case OP_LISTEN: case OP_BIND:
                if (ev.netRet() < 0 && !denied) return;
                if (ev.lport() == 0) return;
                d = Dimension.ofEvent(op, 0, ev.proto());
                break;
            case OP_CONNECT:
                if (ev.rport() == 0) return; // AF_UNSPEC disconnects, unbound UDP
                d = Dimension.CONNECT;
                break;
            case OP_ACCEPT:
                if (ev.netRet() < 0 || ev.lport() == 0) return;
                d = Dimension.ACCEPT;
                break;
            default:
                return;
        }
        if (d == null) return;
        CompiledProfile p = store.compiledFor(c);
        if (!p.alerts(d)) return;
        if (denied) {
            listener.deviation(ev, c, d, p, DENIED);
            return;
        }
        if (!p.matches(d, ev)) {
            if (startupLearning.test(c)) return; // learned as the workload's start-up behaviour instead
            listener.deviation(ev, c, d, p, UNKNOWN_VALUE);
            return;
        }
        listener.known(ev, c, d, p);
    }

    private static boolean badPath(EventView ev, int len) {
        return len == 0 || ev.hasFlag(F_PATH_UNREADABLE | F_PATH_TRUNCATED | F_PATH_RELATIVE);
    }

    public static String reasonText(int reason) {
        switch (reason) {
            case DENIED: return "denied";
            default: return "unknown_value";
        }
    }
}
