package io.driftwatch.learn;

import io.driftwatch.config.AgentConfig;

/**
 * The learner's knobs ({@code learning.*} config keys).
 *
 * @param minDurationMs     a profile learns at least this long
 * @param quietWindowMs     a dimension is stable when nothing new appeared in it for this long
 * @param maxDurationMs     learning stops here; a profile that did not converge is {@code unconverged}
 * @param minObservations   observations a profile (or relearned dimension) needs before converging
 * @param startupWindowMs   behaviour this soon after a container started is start-up behaviour
 * @param autoPromote       learning → monitor on convergence
 * @param learnExecSessions also learn from processes not descending from the container's init
 * @param dirFanout         a directory with more distinct children becomes dir/*
 */
public record LearningSettings(long minDurationMs, long quietWindowMs, long maxDurationMs, long minObservations,
        long startupWindowMs, boolean autoPromote, boolean learnExecSessions, int dirFanout) {

    public static LearningSettings from(AgentConfig c) {
        return new LearningSettings(c.get(AgentConfig.LEARNING_MIN_DURATION).toMillis(),
                c.get(AgentConfig.LEARNING_QUIET_WINDOW).toMillis(), c.get(AgentConfig.LEARNING_MAX_DURATION).toMillis(),
                c.get(AgentConfig.LEARNING_MIN_OBSERVATIONS), c.get(AgentConfig.LEARNING_STARTUP_WINDOW).toMillis(),
                c.get(AgentConfig.LEARNING_AUTO_PROMOTE), c.get(AgentConfig.LEARNING_EXEC_SESSIONS),
                c.get(AgentConfig.LEARNING_DIR_FANOUT));
    }

    /**
     * Confidence 0..1 that a dimension has seen all its normal behaviour: the product of how far
     * it is through min_duration, min_observations and the quiet window. It reaches 1 exactly
     * when the dimension is converged.
     */
    public double confidence(long elapsedMs, long observations, long quietMs) {
        return ratio(elapsedMs, minDurationMs) * ratio(observations, minObservations) * ratio(quietMs, quietWindowMs);
    }

    private static double ratio(long v, long min) {
        if (min <= 0) return 1.0;
        if (v <= 0) return 0.0;
        return v >= min ? 1.0 : (double) v / min;
    }
}
