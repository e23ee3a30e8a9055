package io.driftwatch.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.config.ConfigException;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.PathPattern;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The built-in rules over real paths that nginx, Redis and PostgreSQL touch (fixtures/paths/*.tsv). */
final class GeneralisationRulesTest {
    private static final GeneralisationRules RULES = GeneralisationRules.defaults();

    static Stream<Arguments> realPaths() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String server : new String[] {"nginx", "redis", "postgresql"}) {
            try (InputStream in = GeneralisationRulesTest.class.getResourceAsStream("/fixtures/paths/" + server + ".tsv")) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (line.isBlank()) continue;
                    String[] f = line.split("\t");
                    out.add(Arguments.of(server, f[0], f[1]));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("realPaths")
    void generalise_realServerPaths(String server, String path, String expected) {
        GeneralisationRules.Result r = RULES.generalise(Dimension.FILE_WRITE, path);
        assertThat(r.value()).isEqualTo(expected);
        assertThat(PathPattern.compile(r.value()).matches(path)).as("pattern matches its own evidence").isTrue();
        assertThat(r.rules().length > 0).isEqualTo(!expected.equals(path));
    }

    @Test
    void generalise_patternCoversTheNextCounterValue() {
        String p = RULES.generalise(Dimension.FILE_WRITE, "/var/lib/postgresql/15/main/pg_wal/000000010000000000000003").value();
        assertThat(PathPattern.compile(p).matches("/var/lib/postgresql/15/main/pg_wal/00000001000000000000001F")).isTrue();
        p = RULES.generalise(Dimension.FILE_WRITE, "/data/temp-27.rdb").value();
        assertThat(PathPattern.compile(p).matches("/data/temp-31042.rdb")).isTrue();
        assertThat(PathPattern.compile(p).matches("/data/temp-x.rdb")).isFalse();
    }

    @Test
    void generalise_execDimensionOnlyNormalisesProc() {
        assertThat(RULES.generalise(Dimension.EXEC, "/var/lib/app/0000000012").value()).isEqualTo("/var/lib/app/0000000012");
        assertThat(RULES.generalise(Dimension.EXEC, "/proc/self/exe").value()).isEqualTo("/proc/[pid]/exe");
    }

    @Test
    void generalise_recordsRuleNames() {
        GeneralisationRules.Result r = RULES.generalise(Dimension.FILE_READ, "/proc/1234/fd/7");
        assertThat(r.rules()).containsExactly("proc-fd", "proc-pid");
    }

    @Test
    void generalise_escapesLiteralPatternCharacters() {
        assertThat(RULES.generalise(Dimension.FILE_READ, "/srv/a*b[c]").value()).isEqualTo("/srv/a\\*b\\[c]");
    }

    @Test
    void parse_rejectsRuleWhoseExampleFails() {
        String yaml = "schema_version: 1\nrules:\n  - name: digits\n    match: '[0-9]+'\n    replace: '[num]'\n"
                + "    examples:\n      - { path: /a/12, expect: /a/12 }\n";
        assertThatThrownBy(() -> GeneralisationRules.parse(yaml, "rules.yaml")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("rules.yaml").hasMessageContaining("rule 'digits'").hasMessageContaining("/a/[num]");
    }

    @Test
    void parse_rejectsBadRegexAndDimension() {
        assertThatThrownBy(() -> GeneralisationRules.parse("schema_version: 1\nrules:\n  - {name: x, match: '(', replace: y}\n", "f"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bad regular expression");
        assertThatThrownBy(() -> GeneralisationRules.parse(
                "schema_version: 1\nrules:\n  - {name: x, match: a, replace: b, dimensions: [connect]}\n", "f"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("not a path dimension");
    }

    @Test
    void generalise_ruleThatBreaksMatchingFallsBackToExact() {
        GeneralisationRules bad = GeneralisationRules.parse(
                "schema_version: 1\nrules:\n  - {name: wrong, match: 'etc', replace: 'usr'}\n", "f");
        GeneralisationRules.Result r = bad.generalise(Dimension.FILE_READ, "/etc/passwd");
        assertThat(r.value()).isEqualTo("/etc/passwd");
        assertThat(r.rules()).isEmpty();
    }
}
