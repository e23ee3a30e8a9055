package io.driftwatch.profile;

/** A profile file that cannot be used: names the file, the 1-based line and column, and the problem. */
public final class ProfileFormatException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final int line;
    private final int column;
    private final String problem;

    public ProfileFormatException(String file, int line, int column, String problem) {
        super(file + ":" + (line > 0 ? line + ":" + column + ": " : " ") + problem);
        this.file = file;
        this.line = line;
        this.column = column;
        this.problem = problem;
    }

    public String file() { return file; }
    /** 1-based line, 0 when the problem is not tied to a line. */
    public int line() { return line; }
    public int column() { return column; }
    public String problem() { return problem; }
}
