package io.driftwatch.sensor;

import io.driftwatch.config.AgentConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Run in a child JVM by {@link KernelSourcesUnprivilegedTest}: starts the kernel sources the
 * way the agent does and prints one line per status, {@code name|state|detail}, then the
 * number of running sources.
 */
public final class ProbeMain {
    private ProbeMain() {}

    public static void main(String[] args) {
        KernelSources k = KernelSources.open(AgentConfig.defaults(), new SimpleMeterRegistry());
        for (SourceStatus s : k.statuses()) System.out.println(s.name() + "|" + s.state() + "|" + s.detail());
        System.out.println("running|" + k.sources().size());
        k.close();
    }
}
