package io.driftwatch.profile;

/**
 * Wall-clock milliseconds, injected so tests drive time (never sleep). Profile timestamps
 * (first/last seen, convergence) are wall-clock because they are read by people and survive
 * restarts; event ordering inside the pipeline uses the kernel ktime instead.
 */
@FunctionalInterface
public interface Clock {
    long millis();

    Clock SYSTEM = System::currentTimeMillis;
}
