package io.driftwatch.testsupport;

import java.util.function.LongSupplier;

/** A nanosecond clock driven by the test. */
public final class FakeClock implements LongSupplier {
    private long now = 1_000_000_000L;

    @Override
    public long getAsLong() {
        return now;
    }

    public void advanceMillis(long ms) {
        now += ms * 1_000_000L;
    }
}
