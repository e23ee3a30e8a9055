package io.driftwatch.respond;

import io.driftwatch.bridge.Bridge;
import io.driftwatch.bridge.BridgeLayout;
import io.driftwatch.log.Log;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.profile.CompiledProfile;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.Entry;
import io.driftwatch.profile.Mode;
import io.driftwatch.profile.NetPattern;
import io.driftwatch.profile.PathPattern;
import io.driftwatch.profile.Profile;
import io.driftwatch.profile.ProfileStore;
import io.driftwatch.sensor.KernelEnforcer;
import io.driftwatch.sensor.NetGuard;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.collection.LongObjectHashMap;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Prevention for containers whose profile is in enforce mode, where the kernel allows it:
 * <ul>
 *   <li>exec: a fanotify allow-list of the learned executables' inodes (plus script
 *       interpreters and the dynamic loader) on the container's mounts — anything else is
 *       refused with EPERM before it runs;</li>
 *   <li>network: cgroup connect/bind programs with the learned peers and ports as allow-lists —
 *       anything else gets EPERM;</li>
 *   <li>with {@code kill} as the action, also an in-kernel SIGKILL for an exec of a file outside
 *       the allow-list (the backstop where fanotify cannot see the file).</li>
 * </ul>
 * A dimension whose entries cannot be expressed exactly (an exec path pattern, a listening-port
 * range) is not enforced in the kernel and is logged as such; the detector still reports it.
 * Nothing is enforced in dry-run. Rebuilt when the profile changes; released when the mode
 * leaves enforce or the container stops. Pipeline thread.
 */
public final class Enforcer implements AutoCloseable {
    private static final String[] LOADERS = {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-x86-64.so.2",
        "/usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/lib/ld-musl-x86_64.so.1", "/lib/ld-linux-aarch64.so.1"};

    /** What is enforced for one container. */
    private static final class State {
        final ContainerState container;
        final CompiledProfile compiled;
        int watch = -1;
        NetGuard guard;
        boolean execKill;

        State(ContainerState container, CompiledProfile compiled) {
            this.container = container;
            this.compiled = compiled;
        }
    }

    private final KernelEnforcer kernel;
    private final ProfileStore store;
    private final Path procRoot;
    private final CgroupControl cgroups;
    private final String action;
    private final boolean dryRun;
    private final LongObjectHashMap<State> states = new LongObjectHashMap<>();
    private final AtomicInteger execGuarded = new AtomicInteger();
    private final AtomicInteger netGuarded = new AtomicInteger();

    /** @param kernel the kernel's enforcement primitives, or null when unavailable */
    public Enforcer(KernelEnforcer kernel, ProfileStore store, Path procRoot, CgroupControl cgroups, String action,
            boolean dryRun, MeterRegistry registry) {
        this.kernel = kernel;
        this.store = store;
        this.procRoot = procRoot;
        this.cgroups = cgroups;
        this.action = action;
        this.dryRun = dryRun;
        Gauge.builder("driftwatch.enforced.containers", execGuarded, AtomicInteger::get)
                .description("Containers with in-kernel prevention, by mechanism").tag("mechanism", "exec").register(registry);
        Gauge.builder("driftwatch.enforced.containers", netGuarded, AtomicInteger::get)
                .description("Containers with in-kernel prevention, by mechanism").tag("mechanism", "network").register(registry);
    }

    /** Brings prevention in line with the profiles of the running containers. */
    public void tick(List<ContainerState> running) {
        Set<Long> live = new java.util.HashSet<>();
        for (ContainerState c : running) {
            if (!c.alive || c.initPid <= 0) continue;
            live.add(c.key);
            CompiledProfile p = store.compiledFor(c);
            State s = states.get(c.key);
            if (p.mode() == Mode.ENFORCE) {
                if (s == null || s.compiled != p) {
                    if (s != null) release(s);
                    states.put(c.key, apply(c, p));
                }
            } else if (s != null) {
                release(s);
                states.remove(c.key);
            }
        }
        List<Long> gone = new ArrayList<>();
        for (long k : states.keySet()) if (!live.contains(k)) gone.add(k);
        for (long k : gone) release(states.remove(k));
    }

    private State apply(ContainerState c, CompiledProfile p) {
        State s = new State(c, p);
        if (dryRun || kernel == null) {
            Log.info("enforce mode: in-kernel prevention not installed", "container_id", c.info.id(), "profile", p.key(),
                    "reason", dryRun ? "response.dry_run is on" : "kernel enforcement unavailable");
            return s;
        }
        Profile prof = store.profile(p.key());
        if (prof == null) return s;
        List<String> notes = new ArrayList<>();
        installExec(s, prof, p, notes);
        installNet(s, prof, p, notes);
        Log.info("enforce mode: in-kernel prevention installed", "container_id", c.info.id(), "profile", p.key(),
                "exec_allow_list", s.watch >= 0, "network_guard", s.guard != null, "exec_kill", s.execKill,
                "not_enforced", notes);
        return s;
    }

    private void installExec(State s, Profile prof, CompiledProfile p, List<String> notes) {
        ContainerState c = s.container;
        if (!p.enforces(Dimension.EXEC)) return;
        Set<String> files = new LinkedHashSet<>();
        for (Entry e : prof.dim(Dimension.EXEC).entries()) {
            PathPattern pp = (PathPattern) e.compiled();
            if (!pp.isLiteral()) {
                notes.add("exec: pattern " + e.value() + " cannot be an inode allow-list");
                return;
            }
            files.add(pp.literalPath());
        }
        Path root = procRoot.resolve(Integer.toString(c.initPid)).resolve("root");
        Set<long[]> inodes = new LinkedHashSet<>();
        Set<String> seen = new java.util.HashSet<>();
        List<String> todo = new ArrayList<>(files);
        for (String l : LOADERS) todo.add(l);
        for (int i = 0; i < todo.size() && i < 4096; i++) {
            String f = todo.get(i);
            Path host = root.resolve(f.replaceFirst("^/+", ""));
            try {
                long dev = ((Number) Files.getAttribute(host, "unix:dev")).longValue();
                long ino = ((Number) Files.getAttribute(host, "unix:ino")).longValue();
                if (seen.add(dev + ":" + ino)) inodes.add(new long[] {Bridge.kernelDev(dev), ino});
                String interp = interpreter(host);
                if (interp != null && !todo.contains(interp)) todo.add(interp);
            } catch (IOException | RuntimeException e) {
                // a learned executable not on disk any more (or a loader path this image lacks)
            }
        }
        if (kernel.execAllowListUnavailable() == null) {
            try {
                s.watch = kernel.execAllowList(c.initPid, c.cgroupId, c.cgroupV1Id);
                execGuarded.incrementAndGet();
                for (long[] di : inodes) kernel.allowExec(s.watch, di[0], di[1]);
            } catch (IOException | RuntimeException e) {
                notes.add("exec allow-list: " + e.getMessage());
                releaseWatch(s);
            }
        } else {
            notes.add("exec allow-list: " + kernel.execAllowListUnavailable());
        }
        if ("kill".equals(action) && kernel.bpfEnforcementUnavailable() == null && c.cgroupId > 1) {
            try {
                for (long[] di : inodes) kernel.allowExecInode(c.cgroupId, di[0], di[1]);
                kernel.execKill(c.cgroupId, true);
                s.execKill = true;
            } catch (IOException | RuntimeException e) {
                notes.add("exec kill: " + e.getMessage());
            }
        }
    }

    private void installNet(State s, Profile prof, CompiledProfile p, List<String> notes) {
        if (kernel.bpfEnforcementUnavailable() != null) {
            notes.add("network: " + kernel.bpfEnforcementUnavailable());
            return;
        }
        int flags = 0;
        List<NetPattern> peers = new ArrayList<>();
        List<NetPattern> ports = new ArrayList<>();
        if (p.enforces(Dimension.CONNECT)) {
            flags |= BridgeLayout.NET_CONNECT | BridgeLayout.NET_SENDMSG;
            for (Entry e : prof.dim(Dimension.CONNECT).entries()) peers.add((NetPattern) e.compiled());
        }
        if (p.enforces(Dimension.LISTEN)) {
            boolean exact = true;
            for (Entry e : prof.dim(Dimension.LISTEN).entries()) {
                NetPattern n = (NetPattern) e.compiled();
                if (n.port() < 0) exact = false;
                ports.add(n);
            }
            if (exact) flags |= BridgeLayout.NET_BIND;
            else notes.add("bind: a listening-port pattern cannot be a port allow-list");
        }
        if (flags == 0) return;
        String cgroupPath = s.container.info.cgroupPath();
        try {
            NetGuard g = kernel.guardNetwork(cgroups.v2Dir(cgroupPath), 0);
            s.guard = g;
            netGuarded.incrementAndGet();
            for (NetPattern n : peers) {
                int port = Math.max(0, n.port());
                byte[] a = n.addr();
                if (a == null) {
                    g.allowConnect(InetAddress.getByAddress(new byte[4]), 0, port, n.proto());
                    g.allowConnect(InetAddress.getByAddress(new byte[16]), 0, port, n.proto());
                } else {
                    g.allowConnect(InetAddress.getByAddress(a), n.prefix(), port, n.proto());
                }
            }
            for (NetPattern n : ports) if (n.port() >= 0) g.allowBind(n.port(), n.proto());
            g.setMode(flags);
        } catch (IOException | RuntimeException e) {
            notes.add("network guard: " + e.getMessage());
            closeGuard(s);
        }
    }

    /** The interpreter of a script ("#!/bin/sh -e" → /bin/sh), or null. Reads at most 256 bytes. */
    static String interpreter(Path file) {
        byte[] head = new byte[256];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            return null;
        }
        if (n < 3 || head[0] != '#' || head[1] != '!') return null;
        String line = new String(head, 2, n - 2, StandardCharsets.UTF_8).lines().findFirst().orElse("").trim();
        int sp = line.indexOf(' ');
        String interp = sp < 0 ? line : line.substring(0, sp);
        return interp.startsWith("/") ? interp : null;
    }

    private void release(State s) {
        if (s == null) return;
        releaseWatch(s);
        closeGuard(s);
        if (s.execKill) {
            try {
                kernel.execKill(s.container.cgroupId, false);
                kernel.clearExecKill(s.container.cgroupId);
            } catch (IOException | RuntimeException e) {
                Log.warn("releasing exec kill failed", "container_id", s.container.info.id(), "error", e.toString());
            }
            s.execKill = false;
        }
    }

    private void releaseWatch(State s) {
        if (s.watch < 0) return;
        try {
            kernel.releaseExecAllowList(s.watch);
        } catch (IOException | RuntimeException e) {
            Log.warn("releasing exec allow-list failed", "container_id", s.container.info.id(), "error", e.toString());
        }
        s.watch = -1;
        execGuarded.decrementAndGet();
    }

    private void closeGuard(State s) {
        if (s.guard == null) return;
        try {
            s.guard.close();
        } catch (IOException | RuntimeException e) {
            Log.warn("releasing network guard failed", "container_id", s.container.info.id(), "error", e.toString());
        }
        s.guard = null;
        netGuarded.decrementAndGet();
    }

    @Override
    public void close() {
        for (State s : new ArrayList<>(states.values())) release(s);
        states.clear();
    }
}
