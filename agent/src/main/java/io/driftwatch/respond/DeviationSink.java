package io.driftwatch.respond;

import io.driftwatch.detect.Deviation;

/** Where deviation records go: JSON lines, the API's recent list, metrics. */
public interface DeviationSink extends AutoCloseable {
    void emit(Deviation deviation);

    @Override
    default void close() {}
}
