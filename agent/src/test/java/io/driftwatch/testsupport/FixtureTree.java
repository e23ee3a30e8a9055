package io.driftwatch.testsupport;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Copies a committed fixture tree (src/test/resources/fixtures/NAME) into a temp directory.
 * Files named {@code X.link} become symlinks {@code X} whose target is the file's content (git
 * and resource copying cannot carry /proc's dangling links like {@code exe -> /usr/bin/foo
 * (deleted)}); {@code @ROOT@} in file contents is replaced by the destination root.
 */
public final class FixtureTree {
    private FixtureTree() {}

    public static Path source(String name) {
        try {
            java.net.URL url = FixtureTree.class.getResource("/fixtures/" + name);
            if (url == null) throw new IllegalArgumentException("no fixture " + name);
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies fixtures/NAME to DEST (created), returns DEST. */
    public static Path copy(String name, Path dest, Path root) throws IOException {
        Path src = source(name);
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path rel = src.relativize(p);
                Path out = dest.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(out);
                } else if (p.getFileName().toString().endsWith(".link")) {
                    String target = Files.readString(p, StandardCharsets.UTF_8).strip();
                    Path link = out.resolveSibling(p.getFileName().toString().replaceFirst("\\.link$", ""));
                    Files.createDirectories(link.getParent());
                    Files.createSymbolicLink(link, Path.of(target));
                } else {
                    Files.createDirectories(out.getParent());
                    byte[] b = Files.readAllBytes(p);
                    String text = new String(b, StandardCharsets.ISO_8859_1);
                    if (text.contains("@ROOT@")) {
                        b = text.replace("@ROOT@", root.toString()).getBytes(StandardCharsets.ISO_8859_1);
                    }
                    Files.write(out, b);
                }
            }
        }
        return dest;
    }

    /** The standard test world: proc/, cgroup/ (hybrid) and runtime/ under ROOT. */
    public static Map<String, Path> world(Path root) throws IOException {
        Path proc = copy("proc", root.resolve("proc"), root.resolve("runtime"));
        Path cgroup = copy("cgroup/hybrid", root.resolve("cgroup"), root.resolve("runtime"));
        Path runtime = copy("runtime", root.resolve("runtime"), root.resolve("runtime"));
        return Map.of("proc", proc, "cgroup", cgroup, "runtime", runtime);
    }
}
