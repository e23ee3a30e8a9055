package io.driftwatch.pipeline;

import io.driftwatch.bridge.EventView;

/** Consumes one event on the pipeline thread. Must not block and should not allocate. */
@FunctionalInterface
public interface EventHandler {
    /** @param container the event's container, or null for a host process */
    void onEvent(EventView event, ContainerState container);
}
