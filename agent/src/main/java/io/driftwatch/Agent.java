package io.driftwatch;

import io.driftwatch.config.AgentConfig;
import io.driftwatch.detect.Detector;
import io.driftwatch.respond.ActionExecutor;
import io.driftwatch.respond.CgroupControl;
import io.driftwatch.respond.JsonLinesSink;
import io.driftwatch.respond.RecentDeviations;
import io.driftwatch.respond.Responder;
import io.driftwatch.http.HttpServer;
import io.driftwatch.http.ProfileApi;
import io.driftwatch.http.StaticFiles;
import io.driftwatch.learn.BaselineLearner;
import io.driftwatch.learn.GeneralisationRules;
import io.driftwatch.learn.LearningHandler;
import io.driftwatch.learn.LearningSettings;
import io.driftwatch.profile.Clock;
import io.driftwatch.profile.ProfileBinding;
import io.driftwatch.profile.ProfileStore;
import io.driftwatch.http.Response;
import io.driftwatch.http.Router;
import io.driftwatch.log.Log;
import io.driftwatch.metrics.AgentMetrics;
import io.driftwatch.container.RuntimeStateReader;
import io.driftwatch.pipeline.CgroupContainerResolver;
import io.driftwatch.pipeline.ContainerResolver;
import io.driftwatch.pipeline.ContainerSnapshot;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.Dispatcher;
import io.driftwatch.pipeline.Pipeline;
import io.driftwatch.proc.CgroupFs;
import io.driftwatch.proc.ProcFs;
import io.driftwatch.proc.ProcessTable;
import io.driftwatch.sensor.EventSource;
import io.driftwatch.sensor.ProcSource;
import io.driftwatch.sensor.SourceStatus;
import io.driftwatch.bridge.EventView;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Wiring and lifecycle of one agent: sources, pipeline, HTTP. No logic of its own. */
public final class Agent implements AutoCloseable {
    public static final String VERSION = "0.1.0";

    private final AgentConfig config;
    private final AgentMetrics metrics = new AgentMetrics(VERSION);
    private final Router router = new Router();
    private final List<EventSource> sources = new ArrayList<>();
    private final List<SourceStatus> sourceStatus = new ArrayList<>();
    private CgroupContainerResolver resolver;
    private ProcessTable processTable;
    private io.driftwatch.sensor.KernelSources kernelSources;
    private ProfileStore profiles;
    private RecentDeviations recentDeviations;
    private JsonLinesSink jsonSink;
    private ActionExecutor actions;
    private Responder responder;
    private io.driftwatch.respond.Enforcer enforcer;
    private BaselineLearner learner;
    private Pipeline pipeline;
    private HttpServer http;
    private InetSocketAddress httpAddress;
    private volatile boolean ready;
    private boolean closed;

    public Agent(AgentConfig config) {
        this.config = config;
    }

    public void start() throws Exception {
        Log.info("driftwatch starting", "version", VERSION, "node", config.nodeName(),
                "config", config.source() == null ? "(defaults)" : config.source().toString());
        Dispatcher dispatcher = new Dispatcher();

        // ---- container attribution ----
        ProcFs procFs = new ProcFs(config.get(AgentConfig.PROCFS_ROOT));
        CgroupFs cgroupFs = new CgroupFs(config.get(AgentConfig.CGROUP_ROOT));
        resolver = new CgroupContainerResolver(procFs, cgroupFs,
                RuntimeStateReader.fromConfig(config.get(AgentConfig.RUNTIME_STATE_DIRS)), metrics.registry());
        processTable = new ProcessTable(procFs, cgroupFs, metrics.registry());
        new io.driftwatch.pipeline.PathNormalizer().register(dispatcher); // first: everything after sees lexical paths
        new io.driftwatch.pipeline.ExecNormalizer(config.get(AgentConfig.PROCFS_ROOT)).register(dispatcher); // before every other exec handler
        processTable.register(dispatcher);

        // ---- sources ----
        // kernel bridge first (eBPF, fanotify): the pipeline waits on the first source when idle
        kernelSources = io.driftwatch.sensor.KernelSources.open(config, metrics.registry());
        sources.addAll(kernelSources.sources());
        sourceStatus.addAll(kernelSources.statuses());
        ProcSource proc = new ProcSource(procFs, cgroupFs, config.get(AgentConfig.SOURCES_PROC_INTERVAL),
                metrics.registry());
        boolean kernelExecs = kernelSources.bpf() != null;
        proc.snapshotOnly(kernelExecs);
        sources.add(proc);
        sourceStatus.add(proc.status());
        proc.start();

        for (SourceStatus s : sourceStatus) {
            Gauge.builder("driftwatch.source.info", () -> 1).description("Event sources and their state")
                    .tag("source", s.name()).tag("state", s.state().name().toLowerCase(java.util.Locale.ROOT))
                    .register(metrics.registry());
            Log.info("source", "source", s.name(), "state", s.state().name().toLowerCase(java.util.Locale.ROOT),
                    "detail", s.detail());
        }

        Gauge.builder("driftwatch.ready", () -> ready && pipeline != null && pipeline.isRunning() ? 1 : 0)
                .description("1 when the agent is ready (as /readyz), else 0").register(metrics.registry());
        pipeline = new Pipeline(sources, resolver, dispatcher, metrics.registry(), config.get(AgentConfig.LOG_EVENTS));
        pipeline.every(1000, "containers", () -> resolver.tick(System.currentTimeMillis()));
        pipeline.every(1000, "process-table", processTable::expire);

        io.driftwatch.sensor.BpfSource bpfSource = kernelSources.bpf();
        if (bpfSource != null && config.get(AgentConfig.SOURCES_HOST_FILTER)) {
            // host processes' opens and connects are never learned or checked: the kernel drops them
            resolver.onHost(new java.util.function.LongConsumer() {
                private boolean warned;

                @Override
                public void accept(long key) {
                    try {
                        bpfSource.addHostCgroup(key);
                    } catch (java.io.IOException e) {
                        if (!warned) Log.warn("host filter: a host cgroup stays unfiltered", "key",
                                Long.toUnsignedString(key), "error", e.getMessage());
                        warned = true;
                    }
                }
            });
        }

        // ---- profiles and learning ----
        // One ProfileStore (files under profiles_dir) and one learner on the pipeline thread;
        // HTTP routes read published snapshots only. The detector uses profiles.compiledFor(c).
        profiles = new ProfileStore(config.get(AgentConfig.PROFILES_DIR), config.get(AgentConfig.PROFILES_KEY),
                metrics.registry(), Clock.SYSTEM);
        profiles.load();
        learner = new BaselineLearner(profiles, GeneralisationRules.load(config.get(AgentConfig.LEARNING_RULES_FILE)),
                LearningSettings.from(config), processTable, Clock.SYSTEM, metrics.registry());
        learner.ignoreProcExecs(kernelExecs);
        new LearningHandler(learner).register(dispatcher);
        pipeline.every(1000, "profiles.tick", learner::tick);
        pipeline.every(2000, "profiles.reload", profiles::pollReload);
        pipeline.every(config.get(AgentConfig.PROFILES_FLUSH_INTERVAL).toMillis(), "profiles.flush", profiles::flush);
        // ---- end of profiles and learning ----

        // ---- detection and response ----
        recentDeviations = new RecentDeviations(1000);
        java.nio.file.Path devFile = config.get(AgentConfig.DEVIATIONS_FILE);
        jsonSink = new JsonLinesSink(config.get(AgentConfig.DEVIATIONS_STDOUT) ? System.out : null, devFile,
                config.get(AgentConfig.DEVIATIONS_MAX_MB) * 1024L * 1024L, config.get(AgentConfig.DEVIATIONS_KEEP));
        actions = new ActionExecutor(new CgroupControl(config.get(AgentConfig.CGROUP_ROOT)),
                config.get(AgentConfig.RESPONSE_DRY_RUN), config.get(AgentConfig.RESPONSE_MAX_ACTIONS),
                metrics.registry(), System::currentTimeMillis);
        responder = new Responder(config.nodeName(), profiles, processTable, List.of(recentDeviations, jsonSink), actions,
                config.get(AgentConfig.RESPONSE_DEFAULT_ACTION), suppressor(), metrics.registry(),
                System::currentTimeMillis);
        new Detector(profiles, responder, kernelExecs).startupLearning(c -> c.profileSlot instanceof ProfileBinding
                && learner.learnsStartup(c, ((ProfileBinding) c.profileSlot).profile(), System.currentTimeMillis()))
                .register(dispatcher);
        pipeline.every(1000, "responder", responder::tick);
        enforcer = new io.driftwatch.respond.Enforcer(kernelSources.enforcer(), profiles, config.get(AgentConfig.PROCFS_ROOT),
                new CgroupControl(config.get(AgentConfig.CGROUP_ROOT)), config.get(AgentConfig.RESPONSE_DEFAULT_ACTION),
                config.get(AgentConfig.RESPONSE_DRY_RUN), metrics.registry());
        pipeline.every(1000, "enforcer", () -> enforcer.tick(resolver.running()));
        io.driftwatch.sensor.FanotifySource fan = kernelSources.fanotify();
        boolean fanFallback = fan != null && kernelSources.bpf() == null;
        io.netty.util.collection.LongObjectHashMap<Integer> fanWatches = new io.netty.util.collection.LongObjectHashMap<>();
        resolver.addListener(new ContainerResolver.ContainerListener() {
            @Override
            public void started(ContainerState c) {
                if (!fanFallback || c.initPid <= 0) return;
                // without eBPF, fanotify notifications on the container's mounts report its opens and execs
                try {
                    fanWatches.put(c.key, Integer.valueOf(fan.watch(c.initPid, c.cgroupId, c.cgroupV1Id, false, true)));
                } catch (java.io.IOException | RuntimeException e) {
                    Log.warn("fanotify watch failed", "container_id", c.info.id(), "error", e.toString());
                }
            }

            @Override
            public void stopped(ContainerState c) {
                responder.stopped(c);
                Integer w = fanWatches.remove(c.key);
                if (w != null) {
                    try {
                        fan.unwatch(w);
                    } catch (java.io.IOException | RuntimeException e) {
                        Log.debug("fanotify unwatch failed", "container_id", c.info.id(), "error", e.toString());
                    }
                }
            }
        });
        new io.driftwatch.http.ResponseApi(config.nodeName(), recentDeviations, actions, resolver).register(router);
        // ---- end of detection and response ----

        // ---- operator review: API under /api/v1/profiles and the page at / (http/ProfileApi, StaticFiles) ----
        String token = token(); // read before anything listens: a bad token file stops start-up
        new ProfileApi(profiles, pipeline, config.nodeName(),
                token == null && isLoopback(config.get(AgentConfig.HTTP_LISTEN).getHostString())).register(router);
        new StaticFiles("ui").register(router);

        // ---- HTTP ----
        router.get("/metrics", r -> new Response(200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.scrape().getBytes(StandardCharsets.UTF_8)));
        router.get("/healthz", r -> pipeline.isRunning() ? Response.text(200, "ok\n")
                : Response.text(503, "pipeline thread not running\n"));
        router.get("/readyz", r -> ready && pipeline.isRunning() ? Response.text(200, "ready\n")
                : Response.text(503, "not ready\n"));
        router.get("/api/v1/containers", r -> Response.ok(containers()));
        router.get("/api/v1/status", r -> Response.ok(status()));

        pipeline.start();
        http = new HttpServer(router, token);
        httpAddress = http.start(config.get(AgentConfig.HTTP_LISTEN));
        ready = true;
        Log.info("driftwatch ready", "http", httpAddress.getHostString() + ":" + httpAddress.getPort());
    }

    private String token() throws IOException {
        java.nio.file.Path file = config.get(AgentConfig.HTTP_TOKEN_FILE);
        InetSocketAddress listen = config.get(AgentConfig.HTTP_LISTEN);
        boolean loopback = isLoopback(listen.getHostString());
        if (file == null) {
            if (!loopback) {
                throw new io.driftwatch.config.ConfigException("config key 'http.token_file': required when http.listen ("
                        + listen.getHostString() + ") is not a loopback address: the API can freeze and kill containers");
            }
            return null;
        }
        String t;
        try {
            t = Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new io.driftwatch.config.ConfigException("config key 'http.token_file': cannot read " + file + ": " + e);
        }
        if (t.length() < 16) {
            throw new io.driftwatch.config.ConfigException("config key 'http.token_file': token in " + file
                    + " is shorter than 16 characters");
        }
        return t;
    }

    static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
    }

    private Map<String, Object> containers() {
        List<Object> list = new ArrayList<>();
        for (ContainerSnapshot c : resolver.snapshot()) list.add(c.toMap());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", config.nodeName());
        m.put("containers", list);
        return m;
    }

    private Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", VERSION);
        m.put("node", config.nodeName());
        m.put("ready", ready);
        List<Object> srcs = new ArrayList<>();
        for (SourceStatus s : sourceStatus) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("source", s.name());
            e.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
            e.put("detail", s.detail());
            srcs.add(e);
        }
        m.put("sources", srcs);
        m.put("config", config.effective());
        return m;
    }

    public InetSocketAddress httpAddress() {
        return httpAddress;
    }

    public AgentMetrics metrics() {
        return metrics;
    }

    public Router router() {
        return router;
    }

    /** Kernel-side suppression through the eBPF source, when it runs and sources.suppression is on. */
    private Responder.Suppressor suppressor() {
        io.driftwatch.sensor.BpfSource bpf = kernelSources == null ? null : kernelSources.bpf();
        if (bpf == null || !config.get(AgentConfig.SOURCES_SUPPRESSION)) return null;
        return new Responder.Suppressor() {
            @Override
            public boolean suppress(io.driftwatch.bridge.EventView ev) {
                try {
                    return bpf.suppress(ev);
                } catch (java.io.IOException e) {
                    return false;
                }
            }

            @Override
            public void clear(long cgroupId) {
                try {
                    bpf.clearSuppression(cgroupId);
                } catch (java.io.IOException e) {
                    Log.warn("clearing kernel suppression failed", "cgroup_id", cgroupId, "error", e.toString());
                }
            }
        };
    }

    /** The process table (exe, parent exe, init lineage) for the learner and detector. */
    public ProcessTable processTable() {
        return processTable;
    }

    public ContainerResolver resolver() {
        return resolver;
    }

    public ProfileStore profiles() {
        return profiles;
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    /** The kernel sources (eBPF suppression, fanotify watches and decisions); never null after start. */
    public io.driftwatch.sensor.KernelSources kernelSources() {
        return kernelSources;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ready = false;
        Log.info("driftwatch stopping");
        if (http != null) http.close();
        if (pipeline != null) pipeline.close();
        if (enforcer != null) enforcer.close(); // the pipeline thread has stopped: prevention is released here
        if (profiles != null) { // the pipeline thread has stopped: this thread is now the only writer
            try {
                profiles.close();
            } catch (RuntimeException e) {
                Log.error("flushing profiles failed", "error", e.toString());
            }
        }
        if (actions != null) actions.close();
        if (jsonSink != null) jsonSink.close();
        for (EventSource s : sources) {
            try {
                s.close();
            } catch (RuntimeException e) {
                Log.warn("closing source failed", "source", s.name(), "error", e.toString());
            }
        }
        metrics.close();
        Log.info("driftwatch stopped");
    }
}
