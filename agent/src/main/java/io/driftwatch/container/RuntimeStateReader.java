package io.driftwatch.container;

import io.driftwatch.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds a container's OCI state under the configured {@code runtime_state_dirs} and reads its
 * annotations, bundle and init pid. Layouts searched in each directory D:
 *
 * <pre>
 * D/ID/state.json                            runc, crun (/run/runc); config.labels has bundle=DIR,
 *                                            whose DIR/config.json holds the annotations
 * D/NS/ID/state.json                         runc under containerd (/run/containerd/runc/k8s.io)
 * D/NS/ID/config.json (+ init.pid)           containerd task bundles (.../io.containerd.runtime.v2.task)
 * D/overlay-containers/ID/userdata/config.json (+ pidfile)   CRI-O and podman (/run/containers/storage)
 * </pre>
 *
 * I/O only on a resolver miss; files are bounded (1 MiB) and malformed JSON yields null.
 */
public final class RuntimeStateReader {
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}");
    private static final int MAX_JSON = 1 << 20;
    private static final int MAX_NAMESPACES = 64;

    /**
     * @param runtime      runc, containerd, docker, cri-o, podman (from the layout and annotations)
     * @param stateFile    the file found
     * @param bundle       OCI bundle directory, or null
     * @param annotations  OCI annotations (config.json), merged with runc's config.labels
     * @param initPid      host pid of the container's init, or 0
     * @param createdMillis creation time (epoch millis), or 0
     */
    public record RuntimeState(String runtime, Path stateFile, Path bundle, Map<String, String> annotations, int initPid,
            long createdMillis) {}

    private final List<Path> dirs;

    public RuntimeStateReader(List<Path> dirs) {
        this.dirs = List.copyOf(dirs);
    }

    /** From the comma-separated {@code runtime_state_dirs} value. */
    public static RuntimeStateReader fromConfig(String commaSeparated) {
        List<Path> out = new ArrayList<>();
        if (commaSeparated != null) {
            for (String s : commaSeparated.split(",")) if (!s.isBlank()) out.add(Path.of(s.trim()));
        }
        return new RuntimeStateReader(out);
    }

    public List<Path> dirs() {
        return dirs;
    }

    /** The state of container {@code id}, or null when no configured directory has it. */
    public RuntimeState lookup(String id) {
        if (id == null || !SAFE_ID.matcher(id).matches()) return null; // ids come from cgroup names: untrusted
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) continue;
            RuntimeState s = runcState(d.resolve(id).resolve("state.json"), runtimeOfDir(d, null));
            if (s != null) return s;
            s = storageState(d.resolve("overlay-containers").resolve(id).resolve("userdata"));
            if (s != null) return s;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(d, Files::isDirectory)) {
                int n = 0;
                for (Path ns : ds) {
                    if (n++ >= MAX_NAMESPACES) break;
                    Path c = ns.resolve(id);
                    String rt = runtimeOfDir(d, ns.getFileName().toString());
                    s = runcState(c.resolve("state.json"), rt);
                    if (s == null) s = bundleState(c, rt);
                    if (s != null) return s;
                }
            } catch (IOException e) {
                // unreadable state dir: try the next
            }
        }
        return null;
    }

    private static String runtimeOfDir(Path d, String namespace) {
        String s = d.toString();
        if ("moby".equals(namespace) || s.contains("docker")) return "docker";
        if (s.contains("containerd")) return "containerd";
        return "runc";
    }

    /** runc's state.json: init_process_pid, created, config.labels (annotations + bundle=DIR). */
    static RuntimeState runcState(Path file, String runtime) {
        Map<String, Object> st = readJson(file);
        if (st == null) return null;
        Map<String, String> ann = new LinkedHashMap<>();
        Path bundle = null;
        Object config = st.get("config");
        if (config instanceof Map) {
            Object labels = ((Map<?, ?>) config).get("labels");
            if (labels instanceof List) {
                for (Object o : (List<?>) labels) {
                    String l = String.valueOf(o);
                    int eq = l.indexOf('=');
                    if (eq <= 0) continue;
                    String k = l.substring(0, eq), v = l.substring(eq + 1);
                    if (k.equals("bundle")) bundle = Path.of(v);
                    else ann.put(k, v);
                }
            }
        }
        if (bundle != null) {
            Map<String, String> fromBundle = annotations(readJson(bundle.resolve("config.json")));
            ann.putAll(fromBundle); // the bundle's config.json is the source of truth
        }
        int pid = intOf(st.get("init_process_pid"));
        long created = 0;
        Object c = st.get("created");
        if (c instanceof String) {
            try {
                created = Instant.parse((String) c).toEpochMilli();
            } catch (RuntimeException ignored) {
                // leave 0
            }
        }
        return new RuntimeState(runtime, file, bundle, ann, pid, created);
    }

    /** A containerd task bundle: DIR/config.json and DIR/init.pid. */
    static RuntimeState bundleState(Path dir, String runtime) {
        Path cfg = dir.resolve("config.json");
        Map<String, Object> spec = readJson(cfg);
        if (spec == null) return null;
        int pid = readPid(dir.resolve("init.pid"));
        return new RuntimeState(runtime, cfg, dir, annotations(spec), pid, modified(cfg));
    }

    /** CRI-O / podman userdata: config.json and pidfile. */
    static RuntimeState storageState(Path userdata) {
        Path cfg = userdata.resolve("config.json");
        Map<String, Object> spec = readJson(cfg);
        if (spec == null) return null;
        Map<String, String> ann = annotations(spec);
        String runtime = "libpod".equals(ann.get("io.container.manager")) ? "podman"
                : ann.keySet().stream().anyMatch(k -> k.startsWith("io.kubernetes.cri-o.")) ? "cri-o" : "podman";
        int pid = readPid(userdata.resolve("pidfile"));
        return new RuntimeState(runtime, cfg, userdata, ann, pid, modified(cfg));
    }

    static Map<String, String> annotations(Map<String, Object> spec) {
        Map<String, String> out = new LinkedHashMap<>();
        if (spec == null) return out;
        Object a = spec.get("annotations");
        if (a instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) a).entrySet()) {
                if (e.getValue() != null) out.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> readJson(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(MAX_JSON + 1);
            if (b.length > MAX_JSON) return null;
            Object o = Json.parse(new String(b, StandardCharsets.UTF_8));
            return o instanceof Map ? (Map<String, Object>) o : null;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    private static int readPid(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            String s = new String(in.readNBytes(32), StandardCharsets.US_ASCII).trim();
            return s.isEmpty() ? 0 : Integer.parseInt(s);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static int intOf(Object o) {
        if (o instanceof Number) return ((Number) o).intValue();
        if (o instanceof String) {
            try {
                return Integer.parseInt((String) o);
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }
}
