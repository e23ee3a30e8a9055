package io.driftwatch.profile;

import io.driftwatch.pipeline.ContainerState;

/**
 * What a container's {@link ContainerState#profileSlot} holds: its profile, the record of its
 * image digest, and its deviation window (opened and closed by the detector). Created by
 * {@link ProfileStore#bind}; pipeline thread only.
 */
public final class ProfileBinding {
    final Profile profile;
    final ContainerState container;
    final Profile.ImageRecord image;
    /** Reason of the open deviation window, or null. */
    String deviation;

    ProfileBinding(Profile profile, ContainerState container, Profile.ImageRecord image) {
        this.profile = profile;
        this.container = container;
        this.image = image;
    }

    public Profile profile() { return profile; }
    /** The container's image digest (interned in the profile), or null when not known. */
    public String imageDigest() { return image == null ? null : image.digest; }
    public Profile.ImageRecord image() { return image; }
    /** Reason of the container's open deviation window, or null when none is open. */
    public String deviation() { return deviation; }
}
