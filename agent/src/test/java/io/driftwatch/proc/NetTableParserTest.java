package io.driftwatch.proc;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.proc.NetTableParser.Socket;
import io.driftwatch.testsupport.FixtureTree;
import java.net.InetAddress;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class NetTableParserTest {

    /** file, proto, family, index, local, lport, remote, rport, state, inode, listening */
    static Stream<Arguments> sockets() {
        return Stream.of(
                Arguments.of("tcp", 6, 2, 0, "0.0.0.0", 22, "0.0.0.0", 0, 10, 1001L, true),
                Arguments.of("tcp", 6, 2, 1, "10.0.0.5", 22, "10.0.0.9", 51000, 1, 1002L, false),
                Arguments.of("tcp", 6, 2, 2, "10.0.0.5", 40000, "93.184.216.34", 443, 1, 1003L, false),
                Arguments.of("tcp", 6, 2, 3, "10.0.0.5", 40001, "93.184.216.34", 443, 6, 0L, false),
                Arguments.of("tcp6", 6, 10, 0, "::", 8080, "::", 0, 10, 1004L, true),
                Arguments.of("tcp6", 6, 10, 1, "::ffff:127.0.0.1", 8080, "::ffff:127.0.0.1", 54321, 1, 1007L, false),
                Arguments.of("udp", 17, 2, 0, "0.0.0.0", 53, "0.0.0.0", 0, 7, 1005L, true),
                Arguments.of("udp", 17, 2, 1, "0.0.0.0", 45000, "0.0.0.0", 0, 7, 1006L, true));
    }

    @ParameterizedTest
    @MethodSource("sockets")
    void parse_fixtureTables(String file, int proto, int family, int index, String local, int lport, String remote,
            int rport, int state, long inode, boolean listening) throws Exception {
        String text = Files.readString(FixtureTree.source("proc").resolve("1/net").resolve(file));
        NetTableParser.Table t = NetTableParser.parse(text, proto, family);
        Socket s = t.sockets().get(index);
        assertThat(InetAddress.getByAddress(s.laddr())).isEqualTo(InetAddress.getByName(local));
        assertThat(s.lport()).isEqualTo(lport);
        assertThat(InetAddress.getByAddress(s.raddr())).isEqualTo(InetAddress.getByName(remote));
        assertThat(s.rport()).isEqualTo(rport);
        assertThat(s.state()).isEqualTo(state);
        assertThat(s.inode()).isEqualTo(inode);
        assertThat(s.listening()).isEqualTo(listening);
        assertThat(s.laddr()).hasSize(family == 10 ? 16 : 4);
    }

    static Stream<Arguments> malformed() {
        return Stream.of(Arguments.of("header\n  garbage line\n", 1), Arguments.of("header\n 0: 0100007F 00000000:0000 0A\n", 1),
                Arguments.of("header\n 0: 0100007F:ZZZZ 00000000:0000 0A 0:0 0:0 0 0 0 1\n", 1),
                Arguments.of("header\n 0: 0100007F:0050 00000000:0000 0A 0:0 0:0 0 0 0 1\n\n", 0),
                Arguments.of("header\n 0: 7F:0050 00000000:0000 0A 0:0 0:0 0 0 0 1\n", 1), Arguments.of("", 0));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void parse_malformedLines_counted(String text, int bad) {
        NetTableParser.Table t = NetTableParser.parse(text, 6, 2);
        assertThat(t.malformed()).isEqualTo(bad);
    }

    @org.junit.jupiter.api.Test
    void parse_udpFixture_skipsGarbage() throws Exception {
        String text = Files.readString(FixtureTree.source("proc").resolve("1/net/udp"));
        NetTableParser.Table t = NetTableParser.parse(text, 17, 2);
        assertThat(t.sockets()).extracting(Socket::inode).isEqualTo(List.of(1005L, 1006L));
        assertThat(t.malformed()).isEqualTo(1);
    }
}
