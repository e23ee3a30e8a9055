package io.driftwatch.sensor;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A producer of event records in the wire format (dw_event.h): the kernel bridge (eBPF and
 * fanotify) or the /proc poller. Polled by the pipeline thread only.
 */
public interface EventSource extends AutoCloseable {

    /** Short name used in metrics and logs: {@code bpf}, {@code fanotify}, {@code proc}. */
    String name();

    /**
     * Copies whole records into {@code batch} from position 0 and returns the number of bytes
     * written (0 when nothing was ready within {@code timeoutMs}). Never loses a record that
     * did not fit: it is returned by the next call. Never blocks longer than {@code timeoutMs}.
     */
    int poll(ByteBuffer batch, int timeoutMs) throws IOException;

    /** State for the start-up report and {@code driftwatch_source_info}. */
    SourceStatus status();

    @Override
    void close();
}
