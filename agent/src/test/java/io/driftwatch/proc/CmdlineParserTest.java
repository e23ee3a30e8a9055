package io.driftwatch.proc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class CmdlineParserTest {

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of("", List.of()), Arguments.of("sleep\0" + "100\0", List.of("sleep", "100")),
                Arguments.of("sh\0-c\0echo hi\nworld\0", List.of("sh", "-c", "echo hi\nworld")),
                Arguments.of("nginx: worker process", List.of("nginx: worker process")),
                Arguments.of("a\0\0b\0", List.of("a", "", "b")), Arguments.of("no-trailing-nul\0x", List.of("no-trailing-nul", "x")));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void parse_splitsAtNul(String raw, List<String> expected) {
        assertThat(CmdlineParser.parse(raw)).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void parse_manyArgs_bounded() {
        assertThat(CmdlineParser.parse("x\0".repeat(10_000))).hasSize(CmdlineParser.MAX_ARGS);
    }
}
