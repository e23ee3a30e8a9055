package io.driftwatch.detect;

import io.driftwatch.bridge.EventView;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.profile.CompiledProfile;
import io.driftwatch.profile.Dimension;

/** Receives the detector's verdicts on the pipeline thread. The detector itself acts on nothing. */
public interface DetectionListener {

    /** The event's behaviour is in the profile of an alerting dimension (hot path: must not allocate). */
    void known(EventView event, ContainerState container, Dimension dimension, CompiledProfile profile);

    /**
     * The event's behaviour is outside the profile.
     *
     * @param reason {@link Detector#UNKNOWN_VALUE} or {@link Detector#DENIED}
     */
    void deviation(EventView event, ContainerState container, Dimension dimension, CompiledProfile profile, int reason);
}
