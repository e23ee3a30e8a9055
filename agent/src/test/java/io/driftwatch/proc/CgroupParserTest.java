package io.driftwatch.proc;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.proc.CgroupParser.CgroupLine;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class CgroupParserTest {

    static Stream<Arguments> files() {
        return Stream.of(
                // cgroup v2 only
                Arguments.of("0::/system.slice/docker-abc.scope\n", "/system.slice/docker-abc.scope", null, null),
                // hybrid (this machine's runc container)
                Arguments.of("9:name=systemd:/c1\n4:memory:/process_api/x/c1\n1:cpu:/c1\n0::/c1\n", "/c1",
                        "/process_api/x/c1", "/c1"),
                // v1 only, docker
                Arguments.of("12:cpu,cpuacct:/docker/ab\n8:memory:/docker/ab\n1:name=systemd:/docker/ab\n", null,
                        "/docker/ab", "/docker/ab"),
                // path with ':' and malformed lines mixed in
                Arguments.of("garbage\nx:y:/z\n0::/a:b\n5:memory\n", "/a:b", null, null),
                Arguments.of("", null, null, null));
    }

    @ParameterizedTest
    @MethodSource("files")
    void parse_paths(String text, String unified, String memory, String systemd) {
        List<CgroupLine> lines = CgroupParser.parse(text);
        assertThat(CgroupParser.unifiedPath(lines)).isEqualTo(unified);
        assertThat(CgroupParser.v1Path(lines, "memory")).isEqualTo(memory);
        assertThat(CgroupParser.v1Path(lines, "name=systemd")).isEqualTo(systemd);
    }

    @org.junit.jupiter.api.Test
    void attributionPaths_preferUnifiedThenMemoryThenSystemd() {
        List<CgroupLine> lines = CgroupParser.parse("9:name=systemd:/s\n4:memory:/m\n1:cpu:/c\n0::/u\n");
        assertThat(CgroupParser.attributionPaths(lines)).containsExactly("/u", "/m", "/s", "/c");
    }
}
