package io.driftwatch.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md documents every key with its real default. */
final class ConfigurationDocTest {

    @Test
    void everyKeyIsDocumentedWithItsDefault() throws Exception {
        String doc = Files.readString(Path.of(System.getProperty("driftwatch.repo", ".."), "docs/configuration.md"));
        for (ConfigKey<?> k : AgentConfig.KEYS) {
            String def = k.defaultText() == null ? "(none)" : k.defaultText();
            assertThat(doc).as("docs/configuration.md row for %s", k.name())
                    .contains("| `" + k.name() + "` | `" + def + "` |");
        }
    }
}
