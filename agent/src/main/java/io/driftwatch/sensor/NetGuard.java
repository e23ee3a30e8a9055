package io.driftwatch.sensor;

import io.driftwatch.bridge.BridgeLayout;
import io.driftwatch.bridge.EventLayout;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;

/**
 * One container's network guard: cgroup/connect4|6, bind4|6 and sendmsg4|6 eBPF programs attached
 * to the container's cgroup v2 directory, default deny. A connect (TCP or UDP) or a UDP send with
 * a destination passes iff its peer is allowed ({@link #allowConnect}); a bind passes iff its
 * (port, protocol) is allowed ({@link #allowBind}). A refused call fails with EPERM in the
 * container, is counted ({@link #denied}) and reported as a connect/bind record with
 * {@code F_DENIED}. The host and other containers are not affected.
 *
 * <p>Obtained from {@link KernelEnforcer#guardNetwork}; {@link #close} detaches the programs (so
 * does the agent's exit: the attachments are bpf links owned by the agent's process).
 * Thread-safe.
 */
public final class NetGuard implements AutoCloseable {
    /** Any protocol, for {@link #allowConnect} and {@link #allowBind}. */
    public static final int PROTO_ANY = 0;

    private final KernelEnforcer owner;
    private final Path cgroupDir;
    private final int handle;
    private boolean closed;

    NetGuard(KernelEnforcer owner, Path cgroupDir, int handle) {
        this.owner = owner;
        this.cgroupDir = cgroupDir;
        this.handle = handle;
    }

    /** The guarded cgroup v2 directory. */
    public Path cgroupDir() {
        return cgroupDir;
    }

    /**
     * Allows connecting to (and UDP sending to) {@code peer}/{@code prefixLen}, port {@code port}
     * (0 = any), protocol {@code proto} ({@link EventLayout#PROTO_TCP}, {@link EventLayout#PROTO_UDP}
     * or {@link #PROTO_ANY}). An IPv4-mapped IPv6 address is the IPv4 address.
     */
    public void allowConnect(InetAddress peer, int prefixLen, int port, int proto) throws IOException {
        checkConnect(peer, prefixLen, port, proto);
        int family = peer instanceof Inet4Address ? 2 : 10;
        synchronized (owner.lock()) {
            ensureOpen();
            owner.bridge().netAllowConnect(handle, family, peer.getAddress(), prefixLen, port, proto);
        }
    }

    /** Allows binding {@code port} (0: an ephemeral port) with {@code proto} (or {@link #PROTO_ANY}). */
    public void allowBind(int port, int proto) throws IOException {
        checkPort(port);
        checkProto(proto);
        synchronized (owner.lock()) {
            ensureOpen();
            owner.bridge().netAllowBind(handle, port, proto);
        }
    }

    /**
     * What is enforced: BridgeLayout.NET_CONNECT | NET_BIND | NET_SENDMSG, and NET_ALLOW_LOOPBACK
     * (a connect to 127.0.0.0/8 or ::1 passes when its (port, protocol) may be bound). 0 keeps the
     * programs attached but lets everything pass.
     */
    public void setMode(int flags) throws IOException {
        checkFlags(flags);
        synchronized (owner.lock()) {
            ensureOpen();
            owner.bridge().netMode(handle, flags);
        }
    }

    /** Calls refused so far. */
    public Denials denied() throws IOException {
        synchronized (owner.lock()) {
            ensureOpen();
            long[] d = owner.bridge().netDenied(handle);
            return new Denials(d[0], d[1], d[2]);
        }
    }

    /** Refused connects, binds and UDP sends of one guard. */
    public record Denials(long connect, long bind, long sendmsg) {
        public long total() {
            return connect + bind + sendmsg;
        }
    }

    public boolean isOpen() {
        synchronized (owner.lock()) {
            return !closed;
        }
    }

    /** Detaches the programs and forgets the allow-lists. Idempotent. */
    @Override
    public void close() throws IOException {
        synchronized (owner.lock()) {
            if (closed) return;
            closed = true;
            owner.forget(this);
            if (owner.bridgeOpen()) owner.bridge().netRelease(handle);
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) throw new IOException("network guard of " + cgroupDir + " is released");
    }

    // ---- argument checks (package-private for the unit tests) -----------------------------------

    static void checkConnect(InetAddress peer, int prefixLen, int port, int proto) {
        if (peer == null) throw new IllegalArgumentException("peer address is null");
        int bits = peer instanceof Inet4Address ? 32 : peer instanceof Inet6Address ? 128 : -1;
        if (bits < 0) throw new IllegalArgumentException("not an IPv4 or IPv6 address: " + peer);
        if (prefixLen < 0 || prefixLen > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLen + " out of 0.." + bits + " for " + peer.getHostAddress());
        }
        checkPort(port);
        checkProto(proto);
    }

    static void checkPort(int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " out of 0..65535");
    }

    static void checkProto(int proto) {
        if (proto != PROTO_ANY && proto != EventLayout.PROTO_TCP && proto != EventLayout.PROTO_UDP) {
            throw new IllegalArgumentException("protocol " + proto + " is not TCP (6), UDP (17) or any (0)");
        }
    }

    static void checkFlags(int flags) {
        int known = BridgeLayout.NET_ALL | BridgeLayout.NET_ALLOW_LOOPBACK;
        if ((flags & ~known) != 0) throw new IllegalArgumentException("unknown network guard flags 0x" + Integer.toHexString(flags));
    }

    @Override
    public String toString() {
        return "NetGuard{" + cgroupDir + ", handle " + handle + (closed ? ", released" : "") + "}";
    }
}
