package io.driftwatch.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.testsupport.FixtureTree;
import java.nio.file.Files;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class StatusParserTest {

    static Stream<Arguments> fixtures() {
        return Stream.of(Arguments.of("1", 1, 0, 0, 1), Arguments.of("100", 100, 90, 0, 1),
                Arguments.of("200", 200, 150, 0, 7), Arguments.of("300", 300, 1, 1000, 300));
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void parse_fixtureFiles(String pid, int tgid, int ppid, int uid, int innermost) throws Exception {
        StatusParser.Status s = StatusParser.parse(Files.readString(FixtureTree.source("proc").resolve(pid).resolve("status")));
        assertThat(s.tgid()).isEqualTo(tgid);
        assertThat(s.ppid()).isEqualTo(ppid);
        assertThat(s.uid()).isEqualTo(uid);
        assertThat(s.innermostPid()).isEqualTo(innermost);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Name:\tx\n", "Tgid:\t1\nPPid:\t0\n", "Tgid:\tx\nPPid:\t0\nUid:\t0\t0\t0\t0\n"})
    void parse_incomplete_throws(String text) {
        assertThatThrownBy(() -> StatusParser.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
