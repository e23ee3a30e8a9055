package io.driftwatch.pipeline;

import io.driftwatch.bridge.EventView;
import java.util.List;

/** Attributes events to containers. Called on the pipeline thread only. */
public interface ContainerResolver {

    /**
     * The container of the event's process, or null when the process is not in a container
     * (host processes, the agent itself). The "already known" path allocates nothing.
     */
    ContainerState resolve(EventView event);

    /** Periodic housekeeping on the pipeline thread: notice stopped containers, etc. */
    default void tick(long nowMillis) {}

    /** Immutable view of the containers currently known (safe to read from any thread). */
    List<ContainerSnapshot> snapshot();

    /** Adds a listener for container start/stop (called on the pipeline thread). */
    default void addListener(ContainerListener listener) {}

    interface ContainerListener {
        void started(ContainerState c);

        void stopped(ContainerState c);
    }
}
