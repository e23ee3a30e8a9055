package io.driftwatch.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.proc.StatParser.Stat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class StatParserTest {

    static Stream<Arguments> lines() {
        return Stream.of(
                Arguments.of("1 (systemd) S 0 1 1 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 5 100 10",
                        new Stat(1, "systemd", 'S', 0, 5)),
                Arguments.of("42 (sd-pam) x)) S 1 42 42 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 777 100 10",
                        new Stat(42, "sd-pam) x)", 'S', 1, 777)),
                Arguments.of("300 ((sd-pam) x)) S 1 300 300 0 -1 0 1 0 0 0 3 1 0 0 20 0 1 0 3000 1 1",
                        new Stat(300, "(sd-pam) x)", 'S', 1, 3000)),
                Arguments.of("7 (a b  c) R 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 123456789012 0 0",
                        new Stat(7, "a b  c", 'R', 2, 123456789012L)),
                Arguments.of("8 () Z 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n", new Stat(8, "", 'Z', 1, 9)));
    }

    @ParameterizedTest
    @MethodSource("lines")
    void parse_line(String line, Stat expected) {
        assertThat(StatParser.parse(line)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "garbage", "12 (x S 1", "12 (x) S 1 2 3", "x (y) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5",
            "1 (y) S z 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", "1 (y) SS 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"})
    void parse_malformed_throws(String line) {
        assertThatThrownBy(() -> StatParser.parse(line)).isInstanceOf(IllegalArgumentException.class);
    }

    static Stream<Arguments> fixtures() {
        return Stream.of(Arguments.of("1", "systemd", 0, 5L), Arguments.of("100", "sleep", 90, 1000L),
                Arguments.of("300", "(sd-pam) x)", 1, 3000L), Arguments.of("2", "kthreadd", 0, 5L));
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void parse_fixtureFiles(String pid, String comm, int ppid, long start) throws Exception {
        Path f = io.driftwatch.testsupport.FixtureTree.source("proc").resolve(pid).resolve("stat");
        Stat s = StatParser.parse(Files.readString(f));
        assertThat(s.comm()).isEqualTo(comm);
        assertThat(s.ppid()).isEqualTo(ppid);
        assertThat(s.startTicks()).isEqualTo(start);
    }
}
