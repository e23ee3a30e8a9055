package io.driftwatch.testsupport;

import io.driftwatch.bridge.EventView;
import io.driftwatch.sensor.EventSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Drains an event source into decoded records (EventView.describe()), checking every record. */
public final class Records {
    private Records() {}

    public static List<Map<String, Object>> drain(EventSource source, int batchBytes) throws Exception {
        ByteBuffer batch = ByteBuffer.allocateDirect(batchBytes).order(ByteOrder.nativeOrder());
        EventView view = new EventView();
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            int n = source.poll(batch, 0);
            if (n == 0) break;
            int off = 0;
            while (off < n) {
                view.wrap(batch, off);
                String bad = view.check(n);
                if (bad != null) throw new AssertionError("malformed record at " + off + ": " + bad);
                out.add(view.describe());
                off += view.size();
            }
            if (off != n) throw new AssertionError("partial record in batch");
        }
        return out;
    }

    public static List<Map<String, Object>> of(List<Map<String, Object>> records, String event) {
        return records.stream().filter(r -> event.equals(r.get("event"))).toList();
    }
}
