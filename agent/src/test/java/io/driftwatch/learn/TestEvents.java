package io.driftwatch.learn;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.Access;
import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.container.ContainerInfo;
import io.driftwatch.pipeline.ContainerState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Builds single wire-format records with {@link EventWriter} and views them, for learner tests. */
final class TestEvents {
    final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
    final EventWriter w = new EventWriter(buf);
    final EventView view = new EventView();
    int pid = 100;
    int ppid = 1;

    static ContainerInfo k8s(String id, String ns, String workload, String pod, String container, String image, String digest) {
        return new ContainerInfo(id, "containerd", "/kubepods/" + id, ns, pod, "uid-" + pod, container, image, digest,
                workload, "Deployment", "/run/containerd/" + id);
    }

    static ContainerState container(long cgroup, ContainerInfo info, long startedMillis) {
        ContainerState c = new ContainerState(cgroup, info, cgroup, 0);
        c.startedMillis = startedMillis;
        c.initPid = 1;
        return c;
    }

    private EventView header() {
        w.reset();
        w.header(SRC_BPF, 1_000_000L, 42, 0, pid, ppid, 0, "proc");
        return view;
    }

    EventView exec(String filename) {
        return exec(filename, 0);
    }

    EventView exec(String filename, int ret) {
        header();
        w.exec(filename, List.of(filename), ret);
        return view.wrap(buf, 0);
    }

    EventView open(String path, boolean write) {
        return open(path, write ? 01 | 0100 : 0, 3);
    }

    EventView open(String path, int flags, int ret) {
        header();
        w.open(path, flags, Access.fromOpenFlags(flags), ret, 0, 0);
        return view.wrap(buf, 0);
    }

    EventView openFlags(String path, int eventFlags) {
        header();
        w.flags(eventFlags);
        w.open(path, 0, ACC_READ, 3, 0, 0);
        return view.wrap(buf, 0);
    }

    EventView net(int op, int proto, String laddr, int lport, String raddr, int rport, int ret) {
        header();
        byte[] l = v4(laddr), r = v4(raddr);
        w.net(op, 2, proto, ret, l, lport, r, rport);
        return view.wrap(buf, 0);
    }

    EventView net6(int op, int proto, byte[] raddr, int rport) {
        header();
        w.net(op, 10, proto, 0, new byte[16], 40000, raddr, rport);
        return view.wrap(buf, 0);
    }

    EventView listen(int port) {
        return net(OP_LISTEN, PROTO_TCP, "0.0.0.0", port, "0.0.0.0", 0, 0);
    }

    EventView connect(String addr, int port) {
        return net(OP_CONNECT, PROTO_TCP, "10.1.0.7", 41234, addr, port, 0);
    }

    EventView accept(int localPort, int clientPort) {
        return net(OP_ACCEPT, PROTO_TCP, "10.1.0.7", localPort, "10.1.0.9", clientPort, 0);
    }

    static byte[] v4(String a) {
        String[] p = a.split("\\.");
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) b[i] = (byte) Integer.parseInt(p[i]);
        return b;
    }
}
