package io.driftwatch.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Keeps the benchmark states honest without timing anything: each builds its fixture world,
 * learns, and one batch goes through with every container event known (the states' own setup
 * checks throw otherwise).
 */
final class PipelineBenchmarkTest {

    @Test
    void monitorKnown_everyContainerEventKnown() throws Exception {
        PipelineBenchmark.Pipe p = new PipelineBenchmark.Pipe();
        p.setup();
        try {
            p.known = 0;
            assertThat(p.process()).isEqualTo(PipelineBenchmark.RECORDS);
            assertThat(p.known).isEqualTo(PipelineBenchmark.CONTAINER_RECORDS);
        } finally {
            p.tearDown();
        }
    }

    @Test
    void otherStates_setUpAndProcess() throws Exception {
        for (PipelineBenchmark.Pipe p : new PipelineBenchmark.Pipe[] {new PipelineBenchmark.AgentPipe(),
            new PipelineBenchmark.LearningPipe()}) {
            p.setup();
            try {
                assertThat(p.process()).isEqualTo(PipelineBenchmark.RECORDS);
            } finally {
                p.tearDown();
            }
        }
        PipelineBenchmark.Match m = new PipelineBenchmark.Match();
        m.setup();
        try {
            assertThat(new PipelineBenchmark().compiledMatch(m)).isEqualTo(PipelineBenchmark.CONTAINER_RECORDS);
        } finally {
            m.tearDown();
        }
    }
}
