package io.driftwatch.respond;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.detect.Deviation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class DeviationAggregatorTest {
    private final List<Deviation> out = new ArrayList<>();
    private final Counter counter = new SimpleMeterRegistry().counter("d");

    @Test
    void firstOccurrenceAlwaysEmitted_repeatsSummarised() {
        DeviationAggregator a = new DeviationAggregator(100, 60_000, out::add);
        assertThat(a.repeat(1, 0)).isFalse();
        a.first(1, JsonLinesSinkTest.deviation("/bin/sh"), counter, 0);
        for (int i = 0; i < 999; i++) assertThat(a.repeat(1, 10 + i)).isTrue();
        assertThat(a.repeat(2, 5)).isFalse();
        a.first(2, JsonLinesSinkTest.deviation("/bin/nc"), counter, 5);
        assertThat(out).extracting(Deviation::value).containsExactly("/bin/sh", "/bin/nc");
        a.flush(2000);
        assertThat(out).hasSize(3);
        assertThat(out.get(2).value()).isEqualTo("/bin/sh");
        assertThat(out.get(2).count()).isEqualTo(1000);
        assertThat(counter.count()).isEqualTo(1001);
        a.flush(3000); // nothing new: no second summary
        assertThat(out).hasSize(3);
    }

    @Test
    void full_stillEmitsNewValues() {
        DeviationAggregator a = new DeviationAggregator(2, 60_000, out::add);
        for (long k = 0; k < 5; k++) {
            if (!a.repeat(k, 0)) a.first(k, JsonLinesSinkTest.deviation("/bin/x" + k), null, 0);
        }
        assertThat(out).hasSize(5);
        assertThat(a.size()).isLessThanOrEqualTo(2);
    }

    @Test
    void idleAggregatesAreForgotten() {
        DeviationAggregator a = new DeviationAggregator(10, 1000, out::add);
        a.first(7, JsonLinesSinkTest.deviation("/bin/sh"), null, 0);
        a.flush(5000);
        assertThat(a.size()).isZero();
        assertThat(a.repeat(7, 5001)).isFalse();
    }
}
