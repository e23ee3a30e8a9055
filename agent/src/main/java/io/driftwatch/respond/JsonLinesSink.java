package io.driftwatch.respond;

import io.driftwatch.detect.Deviation;
import io.driftwatch.json.Json;
import io.driftwatch.log.Log;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes each deviation as one JSON object per line to stdout and/or a file. The file is
 * rotated by size: {@code file} → {@code file.1} → ... → {@code file.N} (oldest dropped).
 * Write failures are logged and counted, never thrown into the pipeline.
 */
public final class JsonLinesSink implements DeviationSink {
    private final PrintStream stdout;
    private final Path file;
    private final long maxBytes;
    private final int keep;
    private OutputStream out;
    private long size;
    private long failures;

    /** @param stdout stream for records, or null; @param file file for records, or null */
    public JsonLinesSink(PrintStream stdout, Path file, long maxBytes, int keep) {
        this.stdout = stdout;
        this.file = file;
        this.maxBytes = maxBytes;
        this.keep = keep;
    }

    @Override
    public synchronized void emit(Deviation d) {
        String line = Json.write(d.toMap());
        if (stdout != null) stdout.println(line);
        if (file == null) return;
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (out == null) open();
            if (size > 0 && size + bytes.length > maxBytes) rotate();
            out.write(bytes);
            out.flush();
            size += bytes.length;
        } catch (IOException e) {
            failures++;
            Log.warn("cannot write deviation file", "file", file.toString(), "error", e.toString());
            closeQuietly();
        }
    }

    public synchronized long failures() {
        return failures;
    }

    private void open() throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        size = Files.size(file);
    }

    private void rotate() throws IOException {
        closeQuietly();
        if (keep == 0) {
            Files.deleteIfExists(file);
        } else {
            Files.deleteIfExists(sibling(keep));
            for (int i = keep - 1; i >= 1; i--) {
                if (Files.exists(sibling(i))) Files.move(sibling(i), sibling(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(file, sibling(1), StandardCopyOption.REPLACE_EXISTING);
        }
        open();
    }

    private Path sibling(int i) {
        return file.resolveSibling(file.getFileName() + "." + i);
    }

    private void closeQuietly() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // already failing
            }
            out = null;
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }
}
