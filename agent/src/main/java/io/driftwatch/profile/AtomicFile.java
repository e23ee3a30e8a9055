package io.driftwatch.profile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename
 * it over the target (atomic on POSIX file systems), fsync the directory. A crash at any point
 * leaves either the old or the new complete file; stray temporaries start with '.' and end with
 * {@value #TMP_SUFFIX}, and are ignored by loading and removed at start-up.
 */
final class AtomicFile {
    static final String TMP_SUFFIX = ".tmp";

    /** Test seam: runs between the fsync of the temporary file and the rename. */
    interface Hook {
        void beforeRename(Path tmp) throws IOException;
    }

    static final Hook NONE = tmp -> {};

    private AtomicFile() {}

    static void write(Path target, byte[] data, Hook hook) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(System.nanoTime()) + TMP_SUFFIX);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            hook.beforeRename(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        fsyncDir(dir);
    }

    static void fsyncDir(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some file systems refuse fsync on directories; the rename itself already happened
        }
    }

    static boolean isTemp(Path p) {
        String n = p.getFileName().toString();
        return n.startsWith(".") && n.endsWith(TMP_SUFFIX);
    }
}
