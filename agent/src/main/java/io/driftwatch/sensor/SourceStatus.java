package io.driftwatch.sensor;

/**
 * Whether a source runs, and why not when it does not.
 *
 * @param name   source name (bpf, fanotify, proc)
 * @param state  running, degraded, unavailable or disabled
 * @param detail human-readable reason or capability summary
 */
public record SourceStatus(String name, State state, String detail) {
    public enum State { RUNNING, DEGRADED, UNAVAILABLE, DISABLED }

    public static SourceStatus running(String name, String detail) {
        return new SourceStatus(name, State.RUNNING, detail);
    }

    public static SourceStatus unavailable(String name, String why) {
        return new SourceStatus(name, State.UNAVAILABLE, why);
    }

    public static SourceStatus disabled(String name, String why) {
        return new SourceStatus(name, State.DISABLED, why);
    }
}
