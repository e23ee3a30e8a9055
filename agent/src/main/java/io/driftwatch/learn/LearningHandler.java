package io.driftwatch.learn;

import io.driftwatch.bridge.EventLayout;
import io.driftwatch.bridge.EventView;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.Dispatcher;
import io.driftwatch.pipeline.EventHandler;

/**
 * The learner's {@link EventHandler}: registered on the {@link Dispatcher} for the ops that carry
 * learnable behaviour (exec, open, listen, bind, connect, accept) and handing each event of a
 * container to the {@link BaselineLearner}. Allocation-free for behaviour already learned.
 */
public final class LearningHandler implements EventHandler {
    static final int[] OPS = {EventLayout.OP_EXEC, EventLayout.OP_OPEN, EventLayout.OP_LISTEN, EventLayout.OP_BIND,
            EventLayout.OP_CONNECT, EventLayout.OP_ACCEPT};

    private final BaselineLearner learner;

    public LearningHandler(BaselineLearner learner) {
        this.learner = learner;
    }

    /** Registers this handler for every op it learns from. */
    public LearningHandler register(Dispatcher dispatcher) {
        for (int op : OPS) dispatcher.register(op, this);
        return this;
    }

    @Override
    public void onEvent(EventView event, ContainerState container) {
        learner.observe(event, container);
    }
}
