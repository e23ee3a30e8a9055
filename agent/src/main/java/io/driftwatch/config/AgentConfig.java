package io.driftwatch.config;

import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The agent's configuration: every key has a default (so no file is needed), a YAML file
 * overrides defaults, and command-line {@code --dotted.key value} flags override the file.
 * Unknown keys and bad values stop start-up with a {@link ConfigException} naming the key.
 * Immutable once built. The keys are documented in docs/configuration.md, which a test keeps
 * in step with {@link #KEYS}.
 */
public final class AgentConfig {

    public static final ConfigKey<String> NODE_NAME = ConfigKey.string("node_name", null,
            "Node name put in every deviation record and metric. Default: $NODE_NAME, else the host name.");
    public static final ConfigKey<Path> PROCFS_ROOT = ConfigKey.path("procfs_root", "/proc",
            "Where the host's /proc is mounted (/host/proc inside a pod).");
    public static final ConfigKey<Path> CGROUP_ROOT = ConfigKey.path("cgroup_root", "/sys/fs/cgroup",
            "Where the host's cgroup file systems are mounted.");
    public static final ConfigKey<String> RUNTIME_STATE_DIRS = ConfigKey.string("runtime_state_dirs",
            "/run/runc,/run/containerd/runc,/run/containerd/io.containerd.runtime.v2.task,/run/crun,/run/containers/storage,/var/run/containers/storage,/run/libpod",
            "Comma-separated directories holding container runtimes' OCI state (state.json / config.json).");
    public static final ConfigKey<Path> PROFILES_DIR = ConfigKey.path("profiles_dir", "./var/profiles",
            "Directory of learned profiles, one YAML file per workload.");
    public static final ConfigKey<String> PROFILES_KEY = ConfigKey.oneOf("profiles.key", "workload",
            List.of("workload", "image", "container"),
            "How containers are grouped into one profile: workload (Kubernetes namespace/workload/container, "
                    + "else image repository + container name), image (image repository + container name), "
                    + "container (one profile per container id; restarts start from zero).");
    public static final ConfigKey<Duration> PROFILES_FLUSH_INTERVAL = ConfigKey.duration("profiles.flush_interval", "30s",
            "How often changed profiles are written to disk (and always on SIGTERM).");
    public static final ConfigKey<InetSocketAddress> HTTP_LISTEN = ConfigKey.hostPort("http.listen", "127.0.0.1:9477",
            "Address of the HTTP server (metrics, health, API, review page).");
    public static final ConfigKey<Path> HTTP_TOKEN_FILE = ConfigKey.path("http.token_file", null,
            "File holding the bearer token required by /api when http.listen is not a loopback address.");
    public static final ConfigKey<String> LOG_FORMAT = ConfigKey.oneOf("log.format", "json", List.of("json", "text"),
            "Log line format on stderr.");
    public static final ConfigKey<String> LOG_LEVEL = ConfigKey.oneOf("log.level", "info",
            List.of("debug", "info", "warn", "error"), "Lowest level logged.");
    public static final ConfigKey<Boolean> LOG_EVENTS = ConfigKey.bool("log.events", false,
            "Log every raw event as a JSON line (debugging and tests; costly).");
    public static final ConfigKey<Path> DEVIATIONS_FILE = ConfigKey.path("deviations.file", null,
            "Also append deviation records (JSON lines) to this file; rotated by size.");
    public static final ConfigKey<Boolean> DEVIATIONS_STDOUT = ConfigKey.bool("deviations.stdout", true,
            "Write deviation records (JSON lines) to stdout.");
    public static final ConfigKey<Integer> DEVIATIONS_MAX_MB = ConfigKey.integer("deviations.max_size_mb", 64, 1, 65536,
            "Rotate deviations.file when it reaches this size (MiB).");
    public static final ConfigKey<Integer> DEVIATIONS_KEEP = ConfigKey.integer("deviations.keep", 3, 0, 100,
            "Rotated deviation files kept (file.1 ... file.N).");
    public static final ConfigKey<Duration> LEARNING_MIN_DURATION = ConfigKey.duration("learning.min_duration", "10m",
            "A profile learns at least this long before it can converge.");
    public static final ConfigKey<Duration> LEARNING_QUIET_WINDOW = ConfigKey.duration("learning.quiet_window", "5m",
            "A dimension is stable when nothing new appeared in it for this long.");
    public static final ConfigKey<Duration> LEARNING_MAX_DURATION = ConfigKey.duration("learning.max_duration", "24h",
            "Learning stops here; a profile that did not converge is marked unconverged, not complete.");
    public static final ConfigKey<Integer> LEARNING_MIN_OBSERVATIONS = ConfigKey.integer("learning.min_observations", 20, 0,
            1_000_000_000, "Observations a profile needs before it can converge.");
    public static final ConfigKey<Duration> LEARNING_STARTUP_WINDOW = ConfigKey.duration("learning.startup_window", "30s",
            "Behaviour in this window after a container starts is learned as start-up behaviour, apart from steady state.");
    public static final ConfigKey<Boolean> LEARNING_AUTO_PROMOTE = ConfigKey.bool("learning.auto_promote", true,
            "Move a profile from learning to monitor when it converges.");
    public static final ConfigKey<Boolean> LEARNING_EXEC_SESSIONS = ConfigKey.bool("learning.learn_exec_sessions", false,
            "Also learn from processes that do not descend from the container's init (kubectl exec, runc exec).");
    public static final ConfigKey<Integer> LEARNING_DIR_FANOUT = ConfigKey.integer("learning.dir_fanout", 16, 2, 100_000,
            "A directory with more distinct children than this is generalised to dir/*.");
    public static final ConfigKey<Path> LEARNING_RULES_FILE = ConfigKey.path("learning.rules_file", null,
            "YAML file of path generalisation rules replacing the built-in ones (see docs/profile-format.md).");
    public static final ConfigKey<Boolean> RESPONSE_DRY_RUN = ConfigKey.bool("response.dry_run", false,
            "Count and log what would have been done, but never freeze, kill or deny.");
    public static final ConfigKey<String> RESPONSE_DEFAULT_ACTION = ConfigKey.oneOf("response.default_action", "alert",
            List.of("alert", "freeze", "kill"), "Action of an enforce-mode profile that sets none.");
    public static final ConfigKey<Integer> RESPONSE_MAX_ACTIONS = ConfigKey.integer("response.max_actions_per_minute", 6, 0,
            10_000, "Per-workload limit on freeze/kill actions per minute.");
    public static final ConfigKey<String> SOURCES_BPF = ConfigKey.oneOf("sources.bpf", "auto", List.of("auto", "on", "off"),
            "eBPF source: auto uses it when the kernel allows, on fails start-up without it.");
    public static final ConfigKey<String> SOURCES_FANOTIFY = ConfigKey.oneOf("sources.fanotify", "auto",
            List.of("auto", "on", "off"), "fanotify source and blocking enforcement.");
    public static final ConfigKey<Duration> SOURCES_PROC_INTERVAL = ConfigKey.duration("sources.proc.interval", "2s",
            "Interval of the /proc poller (the fallback source, and enrichment).");
    public static final ConfigKey<Boolean> SOURCES_SUPPRESSION = ConfigKey.bool("sources.suppression", true,
            "Let the kernel drop events the agent already knows (LRU map of cgroup, kind, key).");
    public static final ConfigKey<Boolean> SOURCES_HOST_FILTER = ConfigKey.bool("sources.host_filter", true,
            "Let the kernel drop file and network events of processes the agent found outside any container.");
    public static final ConfigKey<Boolean> SOURCES_BPF_COMPAT = ConfigKey.bool("sources.bpf_compat", false,
            "Use the eBPF programs that save syscall arguments at sys_enter even where the kernel (6.2+) "
                    + "lets them be read at sys_exit; kernels without that use them anyway.");
    public static final ConfigKey<Integer> SOURCES_RING_MB = ConfigKey.integer("sources.ring_size_mb", 16, 1, 1024,
            "Size of the eBPF ring buffer in MiB (rounded up to a power of two).");

    /** Every key, in documentation order. */
    public static final List<ConfigKey<?>> KEYS = List.of(NODE_NAME, PROCFS_ROOT, CGROUP_ROOT, RUNTIME_STATE_DIRS,
            PROFILES_DIR, PROFILES_KEY, PROFILES_FLUSH_INTERVAL, HTTP_LISTEN, HTTP_TOKEN_FILE, LOG_FORMAT, LOG_LEVEL,
            LOG_EVENTS, DEVIATIONS_FILE, DEVIATIONS_STDOUT, DEVIATIONS_MAX_MB, DEVIATIONS_KEEP, LEARNING_MIN_DURATION,
            LEARNING_QUIET_WINDOW, LEARNING_MAX_DURATION, LEARNING_MIN_OBSERVATIONS, LEARNING_STARTUP_WINDOW,
            LEARNING_AUTO_PROMOTE, LEARNING_EXEC_SESSIONS, LEARNING_DIR_FANOUT, LEARNING_RULES_FILE, RESPONSE_DRY_RUN,
            RESPONSE_DEFAULT_ACTION, RESPONSE_MAX_ACTIONS, SOURCES_BPF, SOURCES_FANOTIFY, SOURCES_PROC_INTERVAL,
            SOURCES_SUPPRESSION, SOURCES_HOST_FILTER, SOURCES_BPF_COMPAT, SOURCES_RING_MB);

    private static final Map<String, ConfigKey<?>> BY_NAME;

    static {
        Map<String, ConfigKey<?>> m = new LinkedHashMap<>();
        for (ConfigKey<?> k : KEYS) m.put(k.name(), k);
        BY_NAME = Collections.unmodifiableMap(m);
    }

    private final Map<String, Object> values;
    private final Path source;

    private AgentConfig(Map<String, Object> values, Path source) {
        this.values = values;
        this.source = source;
    }

    /** The embedded defaults. */
    public static AgentConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @SuppressWarnings("unchecked")
    public <T> T get(ConfigKey<T> key) {
        return (T) values.get(key.name());
    }

    /** The file the configuration came from, or null. */
    public Path source() {
        return source;
    }

    public String nodeName() {
        String n = get(NODE_NAME);
        if (n != null && !n.isBlank()) return n;
        String env = System.getenv("NODE_NAME");
        if (env != null && !env.isBlank()) return env;
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Effective values as text, for the start-up log and /api/v1/status. */
    public Map<String, String> effective() {
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigKey<?> k : KEYS) {
            Object v = values.get(k.name());
            out.put(k.name(), v instanceof Duration ? Durations.format((Duration) v) : v instanceof InetSocketAddress
                    ? ((InetSocketAddress) v).getHostString() + ":" + ((InetSocketAddress) v).getPort() : String.valueOf(v));
        }
        return out;
    }

    /** Builds a config from defaults, an optional YAML file and command-line overrides. */
    public static final class Builder {
        private final Map<String, Object> raw = new LinkedHashMap<>();
        private Path source;

        private Builder() {}

        /** Reads a YAML file; nested maps become dotted keys. */
        public Builder file(Path file) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new ConfigException("config file " + file + " does not exist");
            } catch (IOException e) {
                throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
            }
            source = file;
            return yaml(text, file.toString());
        }

        /** Parses YAML text (origin names it in errors). */
        public Builder yaml(String text, String origin) {
            Object doc;
            try {
                Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
                try (Reader r = new java.io.StringReader(text)) {
                    doc = yaml.load(r);
                }
            } catch (MarkedYAMLException e) {
                throw new ConfigException("config " + origin + ": malformed YAML at line "
                        + (e.getProblemMark() == null ? "?" : e.getProblemMark().getLine() + 1) + ": " + e.getProblem());
            } catch (YAMLException | IOException e) {
                throw new ConfigException("config " + origin + ": malformed YAML: " + e.getMessage());
            }
            if (doc == null) return this; // empty file: defaults
            if (!(doc instanceof Map)) {
                throw new ConfigException("config " + origin + ": top level must be a map of keys, not a "
                        + doc.getClass().getSimpleName());
            }
            flatten("", (Map<?, ?>) doc, origin);
            return this;
        }

        private void flatten(String prefix, Map<?, ?> map, String origin) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String k = prefix + e.getKey();
                Object v = e.getValue();
                if (v instanceof Map && !BY_NAME.containsKey(k)) {
                    flatten(k + ".", (Map<?, ?>) v, origin);
                } else {
                    set(k, v);
                }
            }
        }

        /** Sets one dotted key (from a flag or a test). */
        public Builder set(String key, Object value) {
            if (!BY_NAME.containsKey(key)) {
                throw new ConfigException("unknown config key '" + key + "'" + suggestion(key)
                        + " (see docs/configuration.md for the keys)");
            }
            raw.put(key, value);
            return this;
        }

        /** Applies {@code --key value} and {@code --key=value} arguments. */
        public Builder args(List<String> args) {
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (!a.startsWith("--")) throw new ConfigException("unexpected argument '" + a + "'");
                String k = a.substring(2);
                String v;
                int eq = k.indexOf('=');
                if (eq >= 0) {
                    v = k.substring(eq + 1);
                    k = k.substring(0, eq);
                } else {
                    if (i + 1 >= args.size()) throw new ConfigException("flag --" + k + " needs a value");
                    v = args.get(++i);
                }
                set(k, v);
            }
            return this;
        }

        public AgentConfig build() {
            Map<String, Object> values = new LinkedHashMap<>();
            for (ConfigKey<?> k : KEYS) {
                values.put(k.name(), raw.containsKey(k.name()) ? k.parse(raw.get(k.name())) : k.defaultValue());
            }
            Duration min = (Duration) values.get(LEARNING_MIN_DURATION.name());
            Duration max = (Duration) values.get(LEARNING_MAX_DURATION.name());
            if (max.compareTo(min) < 0) {
                throw new ConfigException("config key 'learning.max_duration': invalid value '" + Durations.format(max)
                        + "': shorter than learning.min_duration (" + Durations.format(min) + ")");
            }
            return new AgentConfig(Collections.unmodifiableMap(values), source);
        }

        private static String suggestion(String key) {
            List<String> close = new ArrayList<>();
            for (String k : BY_NAME.keySet()) {
                if (distance(k, key) <= 2 || k.endsWith("." + key) || k.replace('.', '_').equals(key)) close.add(k);
            }
            return close.isEmpty() ? "" : "; did you mean " + String.join(" or ", close) + "?";
        }

        private static int distance(String a, String b) {
            int[] prev = new int[b.length() + 1];
            int[] cur = new int[b.length() + 1];
            for (int j = 0; j <= b.length(); j++) prev[j] = j;
            for (int i = 1; i <= a.length(); i++) {
                cur[0] = i;
                for (int j = 1; j <= b.length(); j++) {
                    int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                    cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
                }
                int[] t = prev; prev = cur; cur = t;
            }
            return prev[b.length()];
        }
    }
}
