package io.driftwatch.pipeline;

import io.driftwatch.bridge.EventView;
import java.util.Arrays;

/** Routes events to handlers through an array indexed by op code (no map lookup per event). */
public final class Dispatcher {
    private final EventHandler[][] handlers = new EventHandler[256][];
    private final EventHandler[] all = new EventHandler[0];

    public Dispatcher() {
        Arrays.fill(handlers, all);
    }

    /** Registers a handler for one op; handlers of an op run in registration order. */
    public synchronized void register(int op, EventHandler handler) {
        EventHandler[] cur = handlers[op & 0xff];
        EventHandler[] next = Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = handler;
        handlers[op & 0xff] = next;
    }

    /** Registers a handler for every op. */
    public synchronized void registerAll(EventHandler handler) {
        for (int op = 1; op <= io.driftwatch.bridge.EventLayout.OP_MAX; op++) register(op, handler);
    }

    public void dispatch(EventView event, ContainerState container) {
        EventHandler[] hs = handlers[event.op()];
        for (EventHandler h : hs) h.onEvent(event, container);
    }
}
