package io.driftwatch.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.Agent;
import io.driftwatch.config.AgentConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every driftwatch_* family a running agent exports is documented in docs/metrics.md. */
final class MetricsDocTest {

    @Test
    void everyExportedFamilyIsDocumented(@TempDir Path dir) throws Exception {
        String exposition;
        try (Agent agent = new Agent(AgentConfig.builder().set("http.listen", "127.0.0.1:0")
                .set("profiles_dir", dir.toString()).set("deviations.stdout", "false").build())) {
            agent.start();
            exposition = agent.metrics().scrape();
        }
        TreeSet<String> families = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (!line.startsWith("# TYPE driftwatch_")) continue;
            String name = line.split(" ")[2];
            if (name.endsWith("_max")) continue; // Micrometer's companion gauge of a summary
            families.add(name);
        }
        assertThat(families).isNotEmpty();
        String doc = Files.readString(Path.of(System.getProperty("driftwatch.repo", ".."), "docs/metrics.md"));
        for (String f : families) assertThat(doc).as("docs/metrics.md documents " + f).contains("`" + f + "`");
    }
}
