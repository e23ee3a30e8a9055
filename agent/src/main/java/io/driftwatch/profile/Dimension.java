package io.driftwatch.profile;

import io.driftwatch.bridge.Access;
import io.driftwatch.bridge.EventLayout;

/**
 * The kinds of behaviour a profile learns. Each dimension is a separate learned set with its own
 * convergence; the detector asks {@link CompiledProfile#matches(Dimension, io.driftwatch.bridge.EventView)}
 * per dimension.
 *
 * <ul>
 *   <li>{@link #EXEC}: executable paths (OP_EXEC filename), with the parent executables seen.</li>
 *   <li>{@link #FILE_READ}, {@link #FILE_WRITE}: opened paths, split by {@link Access#isWrite}.</li>
 *   <li>{@link #LISTEN}: {@code proto:port} the workload listens on (OP_LISTEN, and OP_BIND of UDP).</li>
 *   <li>{@link #CONNECT}: {@code proto:address:port} peers it connects to (OP_CONNECT), address may be a CIDR.</li>
 *   <li>{@link #ACCEPT}: {@code proto:local_port} it accepts connections on (OP_ACCEPT).</li>
 * </ul>
 */
public enum Dimension {
    EXEC("exec", "executables", "exec"),
    FILE_READ("file_read", "file_reads", "file"),
    FILE_WRITE("file_write", "file_writes", "file"),
    LISTEN("listen", "listening_ports", "listen"),
    CONNECT("connect", "outbound_peers", "connect"),
    ACCEPT("accept", "inbound_accepts", "accept");

    private static final Dimension[] VALUES = values();

    private final String tag;
    private final String section;
    private final String kind;

    Dimension(String tag, String section, String kind) {
        this.tag = tag;
        this.section = section;
        this.kind = kind;
    }

    /** Short name: metric tag {@code dimension}, API paths ({@code exec}, {@code file_read} ...). */
    public String tag() { return tag; }

    /** Name of the dimension's list in profile YAML ({@code executables}, {@code file_reads} ...). */
    public String section() { return section; }

    /** The deviation record {@code kind} ({@code exec|file|listen|connect|accept}). */
    public String kind() { return kind; }

    /** True for dimensions whose values are path patterns. */
    public boolean isPath() { return this == EXEC || this == FILE_READ || this == FILE_WRITE; }

    public static int count() { return VALUES.length; }

    public static Dimension of(int ordinal) { return VALUES[ordinal]; }

    /** Parses a tag ({@code file_read}) or section name ({@code file_reads}); null when neither. */
    public static Dimension parse(String s) {
        if (s == null) return null;
        for (Dimension d : VALUES) {
            if (d.tag.equals(s) || d.section.equals(s) || d.name().equalsIgnoreCase(s)) return d;
        }
        return null;
    }

    /**
     * The dimension an event is learned in and checked against, or null when the event carries
     * no learnable behaviour (exit, fork, TCP bind, unknown op). Allocation-free.
     */
    public static Dimension ofEvent(int op, int access, int proto) {
        switch (op) {
            case EventLayout.OP_EXEC: return EXEC;
            case EventLayout.OP_OPEN: return Access.isWrite(access) ? FILE_WRITE : FILE_READ;
            case EventLayout.OP_LISTEN: return LISTEN;
            case EventLayout.OP_BIND: return proto == EventLayout.PROTO_UDP ? LISTEN : null;
            case EventLayout.OP_CONNECT: return CONNECT;
            case EventLayout.OP_ACCEPT: return ACCEPT;
            default: return null;
        }
    }
}
