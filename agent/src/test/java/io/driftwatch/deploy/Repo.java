package io.driftwatch.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Files of the repository under test: the root comes from the {@code driftwatch.repo} property (surefire). */
final class Repo {
    private Repo() {}

    static Path root() {
        String p = System.getProperty("driftwatch.repo");
        Path start = p != null ? Path.of(p) : Path.of("").toAbsolutePath();
        for (Path d = start.toAbsolutePath().normalize(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("driftwatch")) && Files.isDirectory(d.resolve("agent"))) return d;
        }
        throw new IllegalStateException("repository root not found from " + start + " (set -Ddriftwatch.repo)");
    }

    static Path path(String relative) {
        return root().resolve(relative);
    }

    static String read(String relative) {
        return read(path(relative));
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every YAML document of a file, parsed with the safe constructor (as the agent parses outside YAML). */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> yamlDocuments(Path file) {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object o : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(read(file))) {
            if (o == null) continue;
            if (!(o instanceof Map)) throw new AssertionError(file + ": a YAML document is not a map: " + o);
            docs.add((Map<String, Object>) o);
        }
        return docs;
    }

    static Map<String, Object> yaml(String relative) {
        List<Map<String, Object>> docs = yamlDocuments(path(relative));
        if (docs.size() != 1) throw new AssertionError(relative + ": expected one YAML document, found " + docs.size());
        return docs.get(0);
    }

    static List<Path> list(String relativeDir, String suffix) {
        try (Stream<Path> s = Files.list(path(relativeDir))) {
            return s.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- navigating parsed YAML/JSON --------------------------------------------------------

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object node, String... keys) {
        Object o = at(node, keys);
        if (!(o instanceof Map)) throw new AssertionError("expected a map at " + String.join(".", keys) + ", got " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object node, String... keys) {
        Object o = at(node, keys);
        if (o == null) return List.of();
        if (!(o instanceof List)) throw new AssertionError("expected a list at " + String.join(".", keys) + ", got " + o);
        return (List<Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> maps(Object node, String... keys) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : list(node, keys)) {
            if (!(o instanceof Map)) throw new AssertionError("expected maps in " + String.join(".", keys) + ", got " + o);
            out.add((Map<String, Object>) o);
        }
        return out;
    }

    static String str(Object node, String... keys) {
        Object o = at(node, keys);
        return o == null ? null : String.valueOf(o);
    }

    /** The value at a key path, or null when any step is missing. */
    static Object at(Object node, String... keys) {
        Object o = node;
        for (String k : keys) {
            if (!(o instanceof Map)) return null;
            o = ((Map<?, ?>) o).get(k);
        }
        return o;
    }
}
