package io.driftwatch.bridge;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** EventWriter and EventView agree on the wire format, including hostile sizes. */
final class EventCodecTest {
    private final ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
    private final EventWriter w = new EventWriter(buf);
    private final EventView v = new EventView();

    @Test
    void exec_roundTrip() {
        w.header(SRC_PROC, 123L, 44L, 13136L, 100, 1, 0, "nginx: worker process").exec("/usr/sbin/nginx",
                List.of("nginx", "-g", "daemon off;"), 0);
        v.wrap(buf, 0);
        assertThat(v.check(w.position())).isNull();
        assertThat(v.op()).isEqualTo(OP_EXEC);
        assertThat(v.size() % 8).isZero();
        assertThat(v.comm()).isEqualTo("nginx: worker p"); // COMM_LEN - 1 bytes, like the kernel
        assertThat(v.filename()).isEqualTo("/usr/sbin/nginx");
        assertThat(v.argv()).containsExactly("nginx", "-g", "daemon off;");
        assertThat(v.cgroupId()).isEqualTo(44L);
        assertThat(v.cgroupV1Id()).isEqualTo(13136L);
        assertThat(v.tgid()).isEqualTo(100);
        assertThat(v.filenameHash()).isEqualTo(Hashing.hash("/usr/sbin/nginx"));
    }

    @Test
    void open_4KiBPath_isTruncatedAndFlagged() {
        String longPath = "/" + "a".repeat(5000);
        assertThat(w.header(SRC_PROC, 1, 1, 0, 1, 0, 0, "x").open(longPath, 0, ACC_READ, 3, 0, 0)).isTrue();
        v.wrap(buf, 0);
        assertThat(v.check(w.position())).isNull();
        assertThat(v.pathLen()).isEqualTo(PATH_MAX - 1);
        assertThat(v.hasFlag(F_PATH_TRUNCATED)).isTrue();
    }

    @Test
    void net_ipv6AndIpv4() {
        byte[] v6 = new byte[16];
        v6[15] = 1;
        w.header(SRC_PROC, 1, 1, 0, 1, 0, 0, "x").net(OP_CONNECT, 10, PROTO_TCP, 0, null, 0, v6, 443);
        w.net(OP_LISTEN, 2, PROTO_TCP, 0, new byte[] {127, 0, 0, 1}, 8080, null, 0);
        v.wrap(buf, 0);
        assertThat(v.raddr()).isEqualTo("::1");
        assertThat(v.rport()).isEqualTo(443);
        v.wrap(buf, v.size());
        assertThat(v.laddr()).isEqualTo("127.0.0.1");
        assertThat(v.lport()).isEqualTo(8080);
    }

    @Test
    void check_rejectsCorruptRecords() {
        w.header(SRC_PROC, 1, 1, 0, 1, 0, 0, "x").open("/etc/passwd", 0, ACC_READ, 3, 0, 0);
        v.wrap(buf, 0);
        assertThat(v.check(w.position() - 8)).isEqualTo("record overruns batch");
        buf.putInt(FILE_PATH_LEN, 1 << 20);
        assertThat(v.check(w.position())).isEqualTo("path overruns record");
        buf.putInt(HDR_RECORD_SIZE, 13);
        assertThat(v.check(w.position())).startsWith("bad record size");
        buf.put(HDR_OP, (byte) 99);
        buf.putInt(HDR_RECORD_SIZE, 104);
        assertThat(v.check(w.position())).isEqualTo("unknown op 99");
    }

    @Test
    void writer_refusesWhenFull() {
        ByteBuffer small = ByteBuffer.allocate(100).order(ByteOrder.nativeOrder());
        EventWriter sw = new EventWriter(small);
        assertThat(sw.header(SRC_PROC, 1, 1, 0, 1, 0, 0, "x").exit(0)).isTrue();
        assertThat(sw.exit(0)).isFalse();
        assertThat(sw.position()).isEqualTo(EXIT_SIZE);
    }

    @Test
    void access_fromOpenFlags() {
        assertThat(Access.describe(Access.fromOpenFlags(0))).isEqualTo("r");
        assertThat(Access.describe(Access.fromOpenFlags(01 | 0100 | 01000))).isEqualTo("wct");
        assertThat(Access.isWrite(Access.fromOpenFlags(02))).isTrue();
        assertThat(Access.isWrite(Access.fromOpenFlags(0))).isFalse();
    }
}
