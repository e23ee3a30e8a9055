package io.driftwatch.learn;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.EventView;
import io.driftwatch.log.Log;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.ProcessLineage;
import io.driftwatch.profile.Clock;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.DimensionData;
import io.driftwatch.profile.Entry;
import io.driftwatch.profile.Mode;
import io.driftwatch.profile.NetPattern;
import io.driftwatch.profile.PathPattern;
import io.driftwatch.profile.Profile;
import io.driftwatch.profile.ProfileBinding;
import io.driftwatch.profile.ProfileStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Learns per-workload baselines from events, and decides when each is learned enough.
 *
 * <p><b>Per event</b> ({@link #observe}, pipeline thread): the event's dimension and a 64-bit key
 * of its value are computed in place (path bytes hashed, ports and peers packed); the key is looked
 * up in the dimension's cache of raw values already folded into an entry. A hit updates counters
 * and times of that entry and allocates nothing — the steady state. A miss takes the slow path:
 * the value becomes a String, existing patterns are tried, the generalisation rules run, tombstones
 * are consulted, the entry is created or merged, directory fan-out is checked, and the raw key is
 * cached. Not learned (and counted in {@code driftwatch_learning_ignored_total{reason}}): failed
 * syscalls (negative return, except a non-blocking connect's EINPROGRESS), processes that do not
 * descend from the container's init (kubectl/runc exec) unless {@code learning.learn_exec_sessions},
 * truncated/relative/unreadable paths, port 0, tombstoned values, and anything once a dimension
 * stopped learning.
 *
 * <p><b>Convergence</b> ({@link #tick}, every second): per dimension, confidence is
 * min(1, elapsed/min_duration) × min(1, observations/min_observations) × min(1, quiet/quiet_window),
 * quiet being the time since the dimension last saw something new. A profile converges when every
 * dimension reaches 1; it then moves to monitor when {@code learning.auto_promote} is on (else it
 * stays learning, state {@code converged}, and falls back to {@code learning} if something new
 * appears). At {@code learning.max_duration} without convergence learning stops and the profile is
 * {@code unconverged}: it says so rather than claiming to be complete. A relearned dimension of a
 * monitoring profile converges the same way, on its own clock.
 */
public final class BaselineLearner {
    static final int EINPROGRESS = 115;
    static final int MAX_PARENTS = 32;

    private final ProfileStore store;
    private final GeneralisationRules rules;
    private final LearningSettings settings;
    private final ProcessLineage lineage;
    private final Clock clock;
    private final Counter ignoredFailed, ignoredSession, ignoredPath, ignoredPort, ignoredTombstone;
    private final Counter[] newEntries = new Counter[Dimension.count()];

    public BaselineLearner(ProfileStore store, GeneralisationRules rules, LearningSettings settings, ProcessLineage lineage,
            Clock clock, MeterRegistry registry) {
        this.startedMs = clock.millis();
        this.store = store;
        this.rules = rules;
        this.settings = settings;
        this.lineage = lineage;
        this.clock = clock;
        ignoredFailed = ignored(registry, "failed_syscall");
        ignoredSession = ignored(registry, "exec_session");
        ignoredPath = ignored(registry, "unusable_path");
        ignoredPort = ignored(registry, "no_port");
        ignoredTombstone = ignored(registry, "tombstoned");
        for (Dimension d : Dimension.values()) {
            newEntries[d.ordinal()] = Counter.builder("driftwatch.learning.entries").tag("dimension", d.tag())
                    .description("New profile entries learned, by dimension").register(registry);
        }
    }

    private static Counter ignored(MeterRegistry r, String reason) {
        return Counter.builder("driftwatch.learning.ignored").tag("reason", reason)
                .description("Events of containers not learned as normal behaviour, by reason").register(r);
    }

    public LearningSettings settings() { return settings; }

    private boolean ignoreProcExecs;
    /** When this learner started: containers started later are seen through their start-up. */
    private final long startedMs;

    /**
     * True while a container's start-up behaviour is learned even though its profile is past
     * learning: the container started while the agent ran, is in its start-up window, and no
     * container of the workload was ever seen through its start-up before (they all pre-dated the
     * agent, which saw them only from the /proc snapshot on). The detector does not alert then.
     */
    public boolean learnsStartup(ContainerState c, Profile p, long now) {
        return p.startupObservedMs() == 0 && c.startedMillis >= startedMs
                && now - c.startedMillis < settings.startupWindowMs();
    }

    /**
     * With the eBPF source running, execs seen by the /proc poller (the start-up snapshot) name
     * the resolved binary, not what was executed: they are not learned, so a profile holds one
     * name per executable.
     */
    public void ignoreProcExecs(boolean on) {
        ignoreProcExecs = on;
    }

    /** Learns from one event of container {@code c} (null: a host process, ignored). */
    public void observe(EventView ev, ContainerState c) {
        if (c == null || ev.isRuntime()) return; // the runtime's set-up is not the container's behaviour
        if (ignoreProcExecs && ev.op() == OP_EXEC && ev.source() == SRC_PROC) return;
        int op = ev.op();
        Dimension d;
        int ret;
        switch (op) {
            case OP_EXEC: d = Dimension.EXEC; ret = ev.execRet(); break;
            case OP_OPEN: d = Dimension.ofEvent(op, ev.access(), 0); ret = ev.fileRet(); break;
            case OP_LISTEN: case OP_BIND: case OP_CONNECT: case OP_ACCEPT:
                d = Dimension.ofEvent(op, 0, ev.proto());
                ret = ev.netRet();
                if (op == OP_CONNECT && ret == -EINPROGRESS) ret = 0;
                break;
            default: return;
        }
        if (d == null) return;
        ProfileBinding b = store.bind(c);
        Profile p = b.profile();
        long now = clock.millis();
        boolean startup = now - c.startedMillis < settings.startupWindowMs();
        if (!startup && p.startupObservedMs() == 0 && c.startedMillis >= startedMs) p.startupObserved(now);
        if (!p.learning(d) && !(startup && learnsStartup(c, p, now))) return;
        if (ret < 0) {
            ignoredFailed.increment();
            return;
        }
        if (!settings.learnExecSessions() && !lineage.isInitDescendant(c, ev.tgid(), ev.ppid())) {
            ignoredSession.increment();
            return;
        }
        long key;
        switch (d) {
            case EXEC:
                if (ev.hasFlag(F_PATH_TRUNCATED | F_PATH_UNREADABLE | F_PATH_RELATIVE) || ev.filenameLen() == 0) {
                    ignoredPath.increment();
                    return;
                }
                key = ev.filenameHash();
                break;
            case FILE_READ: case FILE_WRITE:
                if (ev.hasFlag(F_PATH_TRUNCATED | F_PATH_UNREADABLE | F_PATH_RELATIVE) || ev.pathLen() == 0) {
                    ignoredPath.increment();
                    return;
                }
                key = ev.pathHash();
                break;
            case CONNECT:
                key = ev.rport() == 0 ? 0 : NetPattern.peerKey(ev);
                if (key == 0) {
                    ignoredPort.increment();
                    return;
                }
                break;
            default: // LISTEN, ACCEPT: the local port (never the peer's ephemeral port)
                if (ev.lport() == 0) {
                    ignoredPort.increment();
                    return;
                }
                key = NetPattern.portKey(ev.proto(), ev.lport());
        }
        if (b.image() != null) b.image().seen(now);
        DimensionData dd = p.dim(d);
        Entry e = dd.cached(key);
        if (e == null) {
            e = learnNew(ev, d, dd, p, b, key, now, startup);
            if (e == null) return;
        } else if (DimensionData.isRefused(e)) {
            ignoredTombstone.increment();
            return;
        } else {
            e.seen(now, startup);
            p.observed();
        }
        if (d == Dimension.EXEC) {
            String parent = lineage.parentExe(ev.tgid());
            if (parent != null && !e.hasParent(parent)) {
                e.addParent(parent, MAX_PARENTS);
                dd.markNew(now);
                p.changed();
            }
        }
    }

    /** The slow path: a raw value not seen before (by this profile since its cache was last cleared). */
    private Entry learnNew(EventView ev, Dimension d, DimensionData dd, Profile p, ProfileBinding b, long key, long now,
            boolean startup) {
        String raw;
        switch (d) {
            case EXEC: raw = ev.filename(); break;
            case FILE_READ: case FILE_WRITE: raw = ev.path(); break;
            case CONNECT: raw = NetPattern.peerText(ev); break;
            default: raw = NetPattern.portText(ev.proto(), ev.lport());
        }
        String exact = d.isPath() ? PathPattern.escape(raw) : raw;
        Entry hit = dd.entry(exact);
        if (hit == null) hit = dd.matchingPattern(raw);
        if (hit != null) {
            hit.seen(now, startup);
            if (hit.isPattern()) hit.addExample(raw, rules.maxExamples());
            p.observed(); // evidence only: the compiled form does not change
            dd.cache(key, hit);
            return hit;
        }
        GeneralisationRules.Result g = d.isPath() ? rules.generalise(d, raw) : new GeneralisationRules.Result(exact, new String[0]);
        switch (dd.tombstoneVerdict(raw, g.value())) {
            case DimensionData.REFUSE:
                dd.cache(key, DimensionData.refused());
                ignoredTombstone.increment();
                return null;
            case DimensionData.EXACT:
                if (dd.tombstoneVerdict(raw, exact) == DimensionData.REFUSE) {
                    dd.cache(key, DimensionData.refused());
                    ignoredTombstone.increment();
                    return null;
                }
                g = new GeneralisationRules.Result(exact, new String[0]);
                break;
            default:
        }
        int before = dd.size();
        boolean created;
        Entry e = dd.learn(g.value(), raw, g.rules(), now, b.imageDigest(), startup, b.deviation(), rules.maxExamples());
        created = dd.size() > before;
        if (created) {
            newEntries[d.ordinal()].increment();
            if (b.deviation() != null) {
                Log.warn("new behaviour learned while a deviation is open: marked suspect", "key", p.key().key(),
                        "dimension", d.tag(), "value", g.value(), "reason", b.deviation());
            }
            int merged = 0;
            if (d == Dimension.FILE_READ || d == Dimension.FILE_WRITE) {
                merged = dd.collapseFanout(g.value(), settings.dirFanout(), rules.fanoutMinDepth(), rules.maxExamples());
            } else if (d == Dimension.CONNECT) {
                merged = dd.collapsePeers(NetPattern.parsePeer(g.value()), settings.dirFanout(), rules.maxExamples());
            }
            if (merged > 0) {
                Log.info("directory fan-out generalised", "key", p.key().key(), "dimension", d.tag(), "merged", merged);
                Entry f = dd.entry(g.value());
                e = f != null ? f : dd.matchingPattern(raw);
                if (e == null) return null;
            }
        }
        if (created) p.changed();
        p.observed();
        dd.cache(key, e);
        return e;
    }

    // ---- convergence ---------------------------------------------------------------------------------

    /** Convergence, confidence, promotion; then publishes snapshots. Pipeline thread, every second. */
    public void tick() {
        long now = clock.millis();
        for (Profile p : store.profiles().toArray(new Profile[0])) evaluate(p, now);
        store.publish();
    }

    void evaluate(Profile p, long now) {
        boolean profileLearning = p.mode() == Mode.LEARNING && p.unconvergedMs() == 0;
        boolean all = true;
        for (Dimension d : Dimension.values()) {
            DimensionData dd = p.dim(d);
            if (dd.relearning()) {
                long start = dd.relearnStartedMs();
                double conf = settings.confidence(now - start, p.observations() - dd.relearnObservationsBase(), now - dd.lastNewMs());
                dd.confidence(conf);
                if (conf >= 1.0) {
                    p.stopRelearning(dd.dimension(), 0);
                    Log.info("relearned dimension converged", "key", p.key().key(), "dimension", d.tag());
                } else if (now - start >= settings.maxDurationMs()) {
                    p.stopRelearning(dd.dimension(), now);
                    Log.warn("relearned dimension did not converge by learning.max_duration: learning stopped",
                            "key", p.key().key(), "dimension", d.tag());
                }
                if (profileLearning) all &= conf >= 1.0;
            } else if (profileLearning) {
                double conf = settings.confidence(now - p.startedMs(), p.observations() - p.observationsBase(),
                        now - dd.lastNewMs());
                dd.confidence(conf);
                all &= conf >= 1.0;
            } else {
                // frozen: as of convergence, of the stop, or of the operator's promotion
                long at = p.convergedMs() != 0 ? p.convergedMs() : p.unconvergedMs() != 0 ? p.unconvergedMs() : now;
                dd.confidence(settings.confidence(at - p.startedMs(), p.observations() - p.observationsBase(),
                        at - dd.lastNewMs()));
            }
        }
        if (!profileLearning) return;
        if (all) {
            if (p.convergedMs() == 0) {
                p.converged(now);
                Log.info("profile converged", "key", p.key().key(), "observations", p.observations());
            }
            if (settings.autoPromote()) store.promote(p, "converged");
        } else {
            if (p.convergedMs() != 0) p.converged(0); // something new since: not converged any more
            if (now - p.startedMs() >= settings.maxDurationMs()) {
                p.unconverged(now);
                Log.warn("profile did not converge by learning.max_duration: learning stopped, state unconverged",
                        "key", p.key().key(), "observations", p.observations());
            }
        }
    }

}
