package io.driftwatch.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class AgentConfigTest {

    @Test
    void defaults_matchTheDocumentedContract() {
        AgentConfig c = AgentConfig.defaults();
        assertThat(c.get(AgentConfig.HTTP_LISTEN).getHostString()).isEqualTo("127.0.0.1");
        assertThat(c.get(AgentConfig.HTTP_LISTEN).getPort()).isEqualTo(9477);
        assertThat(c.get(AgentConfig.PROFILES_DIR)).isEqualTo(Path.of("./var/profiles"));
        assertThat(c.get(AgentConfig.PROCFS_ROOT)).isEqualTo(Path.of("/proc"));
        assertThat(c.get(AgentConfig.RESPONSE_DEFAULT_ACTION)).isEqualTo("alert");
        assertThat(c.get(AgentConfig.LOG_FORMAT)).isEqualTo("json");
        assertThat(c.get(AgentConfig.LEARNING_QUIET_WINDOW)).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.get(AgentConfig.HTTP_TOKEN_FILE)).isNull();
    }

    @Test
    void yaml_nestedAndDottedKeysBothWork() {
        AgentConfig c = AgentConfig.builder().yaml("http:\n  listen: 127.0.0.1:1234\nlearning.quiet_window: 90s\n"
                + "response:\n  dry_run: true\n", "t").build();
        assertThat(c.get(AgentConfig.HTTP_LISTEN).getPort()).isEqualTo(1234);
        assertThat(c.get(AgentConfig.LEARNING_QUIET_WINDOW)).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.get(AgentConfig.RESPONSE_DRY_RUN)).isTrue();
    }

    @Test
    void yaml_emptyDocumentMeansDefaults() {
        assertThat(AgentConfig.builder().yaml("", "t").build().effective()).isEqualTo(AgentConfig.defaults().effective());
    }

    @Test
    void unknownKey_isNamedWithASuggestion() {
        assertThatThrownBy(() -> AgentConfig.builder().yaml("learning:\n  quiet_windw: 5m\n", "cfg.yaml").build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'learning.quiet_windw'")
                .hasMessageContaining("did you mean learning.quiet_window");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "http.listen: nonsense|'http.listen': invalid value 'nonsense'|host:port",
        "http.listen: 127.0.0.1:70000|port out of range|host:port",
        "learning.quiet_window: 5 minutes|'learning.quiet_window'|a duration such as",
        "response.default_action: explode|'response.default_action': invalid value 'explode'|alert",
        "response.dry_run: maybe|'response.dry_run'|true or false",
        "deviations.keep: -1|'deviations.keep'|an integer from 0 to 100",
        "learning:\\n  auto_promote: [1, 2]|'learning.auto_promote'|got a list",
    })
    void badValue_namesKeyValueAndWhatIsAllowed(String yaml, String names, String allowed) {
        assertThatThrownBy(() -> AgentConfig.builder().yaml(yaml.replace("\\n", "\n"), "t").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining(names).hasMessageContaining(allowed);
    }

    @Test
    void malformedYaml_reportsLine() {
        assertThatThrownBy(() -> AgentConfig.builder().yaml("http:\n  listen: [oops\nlog.format: json\n", "bad.yaml").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("bad.yaml").hasMessageContaining("line");
    }

    @Test
    void topLevelNotAMap_isRejected() {
        assertThatThrownBy(() -> AgentConfig.builder().yaml("- a\n- b\n", "list.yaml").build())
                .hasMessageContaining("top level must be a map");
    }

    @Test
    void maxShorterThanMin_isRejected() {
        assertThatThrownBy(() -> AgentConfig.builder().set("learning.min_duration", "1h").set("learning.max_duration", "10m").build())
                .hasMessageContaining("learning.max_duration").hasMessageContaining("shorter than learning.min_duration");
    }

    @Test
    void flags_overrideFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, "http:\n  listen: 127.0.0.1:1111\nlog:\n  events: true\n");
        AgentConfig c = AgentConfig.builder().file(f).args(List.of("--http.listen", "127.0.0.1:2222", "--log.level=debug")).build();
        assertThat(c.get(AgentConfig.HTTP_LISTEN).getPort()).isEqualTo(2222);
        assertThat(c.get(AgentConfig.LOG_EVENTS)).isTrue();
        assertThat(c.get(AgentConfig.LOG_LEVEL)).isEqualTo("debug");
        assertThat(c.source()).isEqualTo(f);
    }

    @Test
    void flags_withoutValueOrUnknown_areErrors() {
        assertThatThrownBy(() -> AgentConfig.builder().args(List.of("--http.listen")).build()).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> AgentConfig.builder().args(List.of("--bogus", "1")).build()).hasMessageContaining("'bogus'");
        assertThatThrownBy(() -> AgentConfig.builder().args(List.of("stray")).build()).hasMessageContaining("unexpected argument");
    }

    @Test
    void missingFile_isNamed(@TempDir Path dir) {
        assertThatThrownBy(() -> AgentConfig.builder().file(dir.resolve("nope.yaml"))).hasMessageContaining("nope.yaml")
                .hasMessageContaining("does not exist");
    }

    @Test
    void durations_roundTrip() {
        assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
        for (String s : List.of("250ms", "30s", "10m", "24h")) {
            assertThat(Durations.format(Durations.parse(s))).isEqualTo(s);
        }
    }
}
