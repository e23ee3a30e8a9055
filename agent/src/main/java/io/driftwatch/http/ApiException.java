package io.driftwatch.http;

/** Thrown by routes to answer with a status and a message (and the offending field). */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String field;

    public ApiException(int status, String message, String field) {
        super(message);
        this.status = status;
        this.field = field;
    }

    public ApiException(int status, String message) {
        this(status, message, null);
    }

    public int status() { return status; }
    public String field() { return field; }
}
