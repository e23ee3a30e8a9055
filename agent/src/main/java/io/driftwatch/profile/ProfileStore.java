package io.driftwatch.profile;

import io.driftwatch.bridge.Hashing;
import io.driftwatch.log.Log;
import io.driftwatch.pipeline.ContainerState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * All profiles of this node, and their files: one YAML file per workload under
 * {@code profiles_dir}.
 *
 * <p><b>Threading.</b> Every method except {@link #snapshot}, {@link #snapshots} and
 * {@link #errors} must run on the pipeline thread (the API goes through {@code Pipeline.call});
 * those three read immutable data published through volatile fields.
 *
 * <p><b>Persistence.</b> {@link #flush} (every {@code profiles.flush_interval} and on close)
 * writes changed profiles atomically ({@link AtomicFile}); output is deterministic, so an
 * unchanged profile is never rewritten. {@link #pollReload} notices operator edits by mtime/size
 * and content hash. An edit is read in stages (reader → validator); a bad edit is rejected with
 * file, line and problem ({@link #errors()}, log, {@code driftwatch_profile_errors}) and the
 * previous version stays in force. A good edit is merged with what was learned since the last
 * write: entries the operator deleted become tombstones (never relearned), entries learned since
 * the file was written are kept, counters keep counting. Deleting a file deletes the profile.
 */
public final class ProfileStore implements AutoCloseable {
    /** Pending deviation proposals kept per profile; more are dropped until some are reviewed. */
    static final int MAX_PROPOSALS = 1000;
    private static final long DOCUMENT_REFRESH_MS = 5_000;
    private static final long MAX_FILE_BYTES = ProfileReader.MAX_CHARS;

    private final Path dir;
    private final String keyMode;
    private final MeterRegistry registry;
    private final Clock clock;
    /** Test seam for crash simulation. */
    AtomicFile.Hook writeHook = AtomicFile.NONE;

    private final Map<String, Profile> profiles = new TreeMap<>();
    private final Map<String, FileRecord> files = new HashMap<>();
    private final Map<String, ProfileError> errorsByFile = new TreeMap<>();
    private final Map<String, Long> rejected = new HashMap<>();
    private final Map<String, List<Meter>> meters = new HashMap<>();
    private final Map<String, Long> documentTimes = new HashMap<>();
    private final Map<String, Long> publishedChanges = new HashMap<>();
    private final Map<String, Long> flushedChanges = new HashMap<>();

    private volatile Map<String, ProfileSnapshot> snapshots = Map.of();
    private volatile List<ProfileError> errors = List.of();
    private volatile int[] stateCounts = new int[Profile.STATES.length];
    private volatile long totalBytes;
    private final Counter writesOk;
    private final Counter writesFailed;
    private final Counter reloads;

    private static final class FileRecord {
        final Path path;
        long mtimeNs = -1;
        long size = -1;
        long hash;

        FileRecord(Path path) {
            this.path = path;
        }
    }

    /**
     * @param keyMode {@code profiles.key}: workload, image or container (see {@link ProfileKey#of})
     */
    public ProfileStore(Path dir, String keyMode, MeterRegistry registry, Clock clock) {
        this.dir = dir;
        this.keyMode = keyMode;
        this.registry = registry;
        this.clock = clock;
        for (int i = 0; i < Profile.STATES.length; i++) {
            final int idx = i;
            Gauge.builder("driftwatch.profiles", this, s -> s.stateCounts[idx])
                    .description("Profiles by state (learning, converged, unconverged, monitor, enforce)")
                    .tag("state", Profile.STATES[i]).strongReference(true).register(registry);
        }
        Gauge.builder("driftwatch.profile.errors", this, s -> s.errors.size())
                .description("Profile files rejected (bad edits) or not writable; the previous version stays in force")
                .strongReference(true).register(registry);
        Gauge.builder("driftwatch.profile.memory.bytes", this, s -> s.totalBytes)
                .description("Approximate heap bytes of all profiles (entries, caches, compiled forms)")
                .strongReference(true).register(registry);
        writesOk = Counter.builder("driftwatch.profile.writes").tag("result", "ok")
                .description("Profile files written").register(registry);
        writesFailed = Counter.builder("driftwatch.profile.writes").tag("result", "failed")
                .description("Profile files written").register(registry);
        reloads = Counter.builder("driftwatch.profile.reloads")
                .description("Operator edits of profile files applied").register(registry);
    }

    public Path dir() { return dir; }

    // ---- loading ---------------------------------------------------------------------------------

    /** Creates the directory, removes stale temporaries and loads every profile file. */
    public void load() throws IOException {
        Files.createDirectories(dir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (AtomicFile.isTemp(p)) {
                    Log.warn("removing stale temporary profile file (interrupted write)", "file", p.toString());
                    Files.deleteIfExists(p);
                }
            }
        }
        pollReload();
        Log.info("profiles loaded", "dir", dir.toString(), "profiles", profiles.size(), "rejected", errors.size());
        publish();
    }

    private List<Path> listFiles() {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.yaml")) {
            for (Path p : ds) {
                if (!p.getFileName().toString().startsWith(".") && Files.isRegularFile(p)) out.add(p);
            }
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            Log.warn("cannot list profiles directory", "dir", dir.toString(), "error", e.toString());
        }
        Collections.sort(out);
        return out;
    }

    /** Notices new, edited and deleted profile files (mtime/size, then content hash). */
    public void pollReload() {
        Map<Path, String> byPath = new HashMap<>();
        for (Map.Entry<String, FileRecord> e : files.entrySet()) byPath.put(e.getValue().path, e.getKey());
        Set<Path> present = new HashSet<>();
        for (Path path : listFiles()) {
            present.add(path);
            String key = byPath.get(path);
            FileRecord rec = key == null ? null : files.get(key);
            long mtime, size;
            try {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
                mtime = a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
                size = a.size();
            } catch (IOException e) {
                continue;
            }
            if (rec != null && rec.mtimeNs == mtime && rec.size == size) continue;
            if (size > MAX_FILE_BYTES) {
                reject(path, new ProfileFormatException(path.toString(), 0, 0, "file larger than " + MAX_FILE_BYTES + " bytes"), size);
                continue;
            }
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(path);
            } catch (IOException e) {
                continue;
            }
            long h = Hashing.hash(bytes);
            if (rec != null && rec.hash == h) {
                rec.mtimeNs = mtime;
                rec.size = size;
                continue;
            }
            Long bad = rejected.get(path.toString());
            if (bad != null && bad == h) continue;
            Profile edit;
            try {
                edit = ProfileValidator.parse(new String(bytes, StandardCharsets.UTF_8), path.toString());
            } catch (ProfileFormatException e) {
                reject(path, e, h);
                if (rec != null) restore(key, path, bytes);
                continue;
            }
            if (!apply(path, key, edit, h)) continue;
            rejected.remove(path.toString());
            if (errorsByFile.remove(path.toString()) != null) publishErrors();
            FileRecord r = files.get(edit.key.key());
            r.mtimeNs = mtime;
            r.size = size;
            r.hash = h;
        }
        for (Map.Entry<Path, String> e : byPath.entrySet()) {
            if (!present.contains(e.getKey()) && !Files.exists(e.getKey())) {
                Log.warn("profile file deleted: profile removed (its workload starts learning again)", "file",
                        e.getKey().toString(), "key", e.getValue());
                removeProfile(e.getValue(), false);
            }
        }
    }

    /**
     * After a rejected edit of a profile the agent owns: the operator's text is kept next to it
     * as {@code <file>.rejected} (never loaded) and the version in force is written back, so a
     * restart neither loses the profile nor the operator's work.
     */
    private void restore(String key, Path path, byte[] rejectedBytes) {
        Path aside = path.resolveSibling(path.getFileName() + ".rejected");
        try {
            AtomicFile.write(aside, rejectedBytes, AtomicFile.NONE);
        } catch (IOException e) {
            Log.warn("cannot keep the rejected profile edit", "file", aside.toString(), "error", e.toString());
        }
        FileRecord rec = files.get(key);
        rec.hash = 0;
        Profile p = profiles.get(key);
        if (p != null && write(p)) {
            flushedChanges.put(key, p.changes);
            rejected.remove(path.toString());
            ProfileError e = errorsByFile.get(path.toString());
            if (e != null) {
                errorsByFile.put(path.toString(), new ProfileError(e.file(), e.line(), e.column(), e.problem()
                        + " (your edit is kept in " + aside.getFileName() + "; the version in force was written back)", e.timeMs()));
                publishErrors();
            }
        }
    }

    private boolean apply(Path path, String boundKey, Profile edit, long hash) {
        String key = edit.key.key();
        if (boundKey != null && !boundKey.equals(key)) {
            reject(path, new ProfileFormatException(path.toString(), 0, 0, "key changed from '" + boundKey + "' to '" + key
                    + "': a file keeps its key (create a new file for another workload)"), hash);
            return false;
        }
        FileRecord other = files.get(key);
        if (boundKey == null && other != null && !other.path.equals(path)) {
            reject(path, new ProfileFormatException(path.toString(), 0, 0, "key '" + key + "' is already the profile in "
                    + other.path), hash);
            return false;
        }
        Profile current = profiles.get(key);
        markPersisted(edit);
        if (current == null) {
            add(edit);
            files.put(key, new FileRecord(path));
            flushedChanges.put(key, edit.changes);
            Log.info("profile loaded", "file", path.toString(), "key", key, "mode", edit.mode.text());
        } else {
            merge(current, edit, path.getFileName().toString());
            current.replaceWith(edit);
            if (boundKey == null) files.put(key, new FileRecord(path));
            reloads.increment();
            Log.info("profile edit applied", "file", path.toString(), "key", key, "mode", current.mode.text());
        }
        return true;
    }

    private void reject(Path path, ProfileFormatException e, long hash) {
        rejected.put(path.toString(), hash);
        errorsByFile.put(path.toString(), new ProfileError(path.toString(), e.line(), e.column(), e.problem(), clock.millis()));
        publishErrors();
        Log.error("profile file rejected; the previous version stays in force", "file", path.toString(), "line",
                e.line(), "column", e.column(), "problem", e.problem());
    }

    /**
     * Folds what the agent learned since the file was last written into the operator's edit:
     * entries the edit deleted become tombstones, entries learned since stay, counters add up.
     */
    private void merge(Profile current, Profile edit, String fileName) {
        long now = clock.millis();
        for (Dimension d : Dimension.values()) {
            DimensionData c = current.dim(d), e = edit.dim(d);
            for (Entry ce : c.entries.values()) {
                Entry ee = e.entries.get(ce.value);
                if (ee != null) {
                    long delta = ce.persistedCount >= 0 ? ce.count - ce.persistedCount : 0;
                    ee.count += Math.max(0, delta);
                    ee.lastSeenMs = Math.max(ee.lastSeenMs, ce.lastSeenMs);
                    for (String p : ce.parents) ee.addParent(p, Integer.MAX_VALUE);
                } else if (ce.persistedCount >= 0) {
                    if (!e.tombstones.containsKey(ce.value)) {
                        Tombstone t = new Tombstone(d, ce.value, now, "file edit", "deleted from " + fileName, false);
                        e.tombstones.put(ce.value, t);
                        Log.info("entry deleted in file: tombstoned", "key", current.key.key(), "dimension", d.tag(),
                                "value", ce.value);
                    }
                } else if (e.refusing(ce.value) == null && !e.tombstones.containsKey(ce.value)) {
                    e.entries.put(ce.value, ce.copy());
                }
            }
            for (Tombstone t : c.tombstones.values()) {
                if (!t.persisted && !e.tombstones.containsKey(t.value) && !e.entries.containsKey(t.value)) {
                    e.tombstones.put(t.value, t);
                }
            }
            e.lastNewMs = Math.max(e.lastNewMs, c.lastNewMs);
        }
        edit.observations += Math.max(0, current.observations - current.persistedObservations);
        for (Map.Entry<String, Profile.ImageRecord> im : current.images.entrySet()) {
            edit.images.putIfAbsent(im.getKey(), im.getValue());
        }
        if (edit.mode != current.mode && edit.modeChangedMs == current.modeChangedMs) {
            edit.modeChangedMs = now;
            edit.modeChangedBy = "file edit";
        }
    }

    private static void markPersisted(Profile p) {
        for (DimensionData d : p.dims) {
            for (Entry e : d.entries.values()) e.persistedCount = e.count;
            for (Tombstone t : d.tombstones.values()) t.persisted = true;
        }
        p.persistedObservations = p.observations;
    }

    // ---- profiles and containers ----------------------------------------------------------------

    private void add(Profile p) {
        profiles.put(p.key.key(), p);
        List<Meter> ms = new ArrayList<>();
        for (Dimension d : Dimension.values()) {
            DimensionData dd = p.dim(d);
            ms.add(Gauge.builder("driftwatch.profile.confidence", dd, DimensionData::confidence)
                    .description("Learning confidence of a profile dimension (1 = converged)")
                    .tag("namespace", p.key.namespace()).tag("workload", p.key.workload())
                    .tag("container", p.key.container()).tag("dimension", d.tag())
                    .strongReference(true).register(registry));
        }
        meters.put(p.key.key(), ms);
    }

    private void removeProfile(String key, boolean deleteFile) {
        Profile p = profiles.remove(key);
        if (p == null) return;
        p.deleted = true;
        List<Meter> ms = meters.remove(key);
        if (ms != null) for (Meter m : ms) registry.remove(m);
        FileRecord rec = files.remove(key);
        flushedChanges.remove(key);
        publishedChanges.remove(key);
        documentTimes.remove(key);
        approved.remove(key);
        if (deleteFile && rec != null) {
            try {
                Files.deleteIfExists(rec.path.resolveSibling(rec.path.getFileName() + APPROVED_SUFFIX));
                Files.deleteIfExists(rec.path);
                AtomicFile.fsyncDir(dir);
            } catch (IOException e) {
                Log.warn("cannot delete profile file", "file", rec.path.toString(), "error", e.toString());
            }
        }
        publish();
    }

    /**
     * The binding of a container to its profile (kept in {@link ContainerState#profileSlot}),
     * creating the profile when the workload is new. Allocation-free once bound.
     */
    public ProfileBinding bind(ContainerState c) {
        Object slot = c.profileSlot;
        if (slot instanceof ProfileBinding && !((ProfileBinding) slot).profile.deleted) return (ProfileBinding) slot;
        ProfileKey key = ProfileKey.of(c.info, keyMode);
        long now = clock.millis();
        Profile p = profiles.get(key.key());
        if (p == null) {
            p = Profile.create(key, now);
            add(p);
            Log.info("profile created: learning", "key", key.key(), "container_id", c.info.id());
        }
        String digest = c.info.imageDigest();
        Profile.ImageRecord image = digest == null || digest.isEmpty() || "unknown".equals(digest) ? null : p.image(digest, now);
        ProfileBinding b = new ProfileBinding(p, c, image);
        if (slot instanceof ProfileBinding) b.deviation = ((ProfileBinding) slot).deviation;
        c.profileSlot = b;
        return b;
    }

    /** The compiled profile of a container (binding it when needed): what the detector checks. */
    public CompiledProfile compiledFor(ContainerState c) {
        return bind(c).profile.compiled();
    }

    /** The profile of a key, or null. */
    public Profile profile(String key) {
        return profiles.get(key);
    }

    public Collection<Profile> profiles() {
        return Collections.unmodifiableCollection(profiles.values());
    }

    // ---- deviation windows (called by the detector) ----------------------------------------------

    /**
     * Opens a deviation window on container {@code c}: until {@link #closeDeviation}, values first
     * learned from it are marked {@code suspect} with {@code reason} instead of silently merged.
     */
    public void openDeviation(ContainerState c, String reason) {
        bind(c).deviation = reason == null || reason.isEmpty() ? "deviation open" : reason;
    }

    public void closeDeviation(ContainerState c) {
        if (c.profileSlot instanceof ProfileBinding) ((ProfileBinding) c.profileSlot).deviation = null;
    }

    // ---- operator API (pipeline thread; via Pipeline.call) -------------------------------------------

    private Profile require(String key) {
        Profile p = profiles.get(key);
        if (p == null) throw new NoSuchElementException("no profile '" + key + "'");
        return p;
    }

    private static String caller(String caller) {
        if (caller == null || caller.isBlank()) throw new IllegalArgumentException("caller must name who makes the change");
        return caller;
    }

    private static Entry parseValue(Dimension d, String value) {
        if (d == null) throw new IllegalArgumentException("unknown dimension");
        if (value == null || value.isEmpty()) throw new IllegalArgumentException("empty value");
        return Entry.of(d, value); // throws IllegalArgumentException with the reason
    }

    /**
     * Changes the mode. Allowed: learning → monitor (an operator accepting a profile, converged or
     * not), monitor ⇄ enforce, and any → learning (resumes learning: the convergence clock
     * restarts, entries stay). The learner promotes learning → monitor itself on convergence
     * ({@link #promote}). @throws IllegalStateException for learning → enforce
     */
    public ProfileSnapshot setMode(String key, Mode mode, String caller) {
        caller(caller);
        Profile p = require(key);
        if (p.mode == mode) return publish(p);
        if (mode == Mode.ENFORCE && p.mode != Mode.MONITOR) {
            throw new IllegalStateException("profile '" + key + "' is " + p.mode.text()
                    + ": move it to monitor first (enforce only follows a reviewed, monitored profile)");
        }
        long now = clock.millis();
        if (mode == Mode.LEARNING) {
            p.startedMs = now;
            p.observationsBase = p.observations;
            p.convergedMs = 0;
            p.unconvergedMs = 0;
            for (DimensionData d : p.dims) {
                d.lastNewMs = now;
                d.relearning = false;
                d.unconvergedMs = 0;
            }
        }
        Log.info("profile mode changed", "key", key, "from", p.mode.text(), "to", mode.text(), "by", caller);
        p.mode = mode;
        p.modeChangedMs = now;
        p.modeChangedBy = caller;
        p.changed();
        return publish(p);
    }

    /** learning → monitor on convergence (the learner, when learning.auto_promote is on). */
    public void promote(Profile p, String reason) {
        if (p.mode != Mode.LEARNING) return;
        p.mode = Mode.MONITOR;
        p.modeChangedMs = clock.millis();
        p.modeChangedBy = "driftwatch (" + reason + ")";
        p.changed();
        Log.info("profile promoted to monitor", "key", p.key.key(), "reason", reason);
        publish(p);
    }

    /**
     * Removes an entry (if present) and tombstones its value: it, and every real value it matches
     * when it is a pattern, is never learned again and stays a deviation.
     */
    public ProfileSnapshot tombstone(String key, Dimension d, String value, String caller, String reason) {
        caller(caller);
        parseValue(d, value);
        Profile p = require(key);
        DimensionData dd = p.dim(d);
        dd.remove(value);
        dd.tombstones.put(value, new Tombstone(d, value, clock.millis(), caller, reason, false));
        p.proposals.remove(d.tag() + " " + value);
        dd.invalidate();
        p.changed();
        Log.info("profile entry tombstoned", "key", key, "dimension", d.tag(), "value", value, "by", caller);
        return publish(p);
    }

    /**
     * Undoes a generalisation: the pattern entry is replaced by exact entries for its examples,
     * and a {@code learn_exact} tombstone keeps the learner from generalising to it again (values
     * it matches are still learned, as exact entries).
     */
    public ProfileSnapshot undoGeneralisation(String key, Dimension d, String value, String caller) {
        caller(caller);
        Profile p = require(key);
        DimensionData dd = p.dim(d);
        Entry e = dd.entries.get(value);
        if (e == null || !e.isPattern()) throw new IllegalArgumentException(d.tag() + " " + value + " is not a pattern entry of '" + key + "'");
        dd.remove(value);
        for (String ex : e.examples) {
            String v = d.isPath() ? PathPattern.escape(ex) : ex;
            if (dd.entries.containsKey(v)) continue;
            Entry x = Entry.of(d, v);
            x.firstSeenMs = e.firstSeenMs;
            x.lastSeenMs = e.lastSeenMs;
            x.image = e.image;
            x.startupOnly = e.startupOnly;
            x.parents = e.parents;
            x.reviewedBy = caller;
            dd.put(x);
        }
        dd.tombstones.put(value, new Tombstone(d, value, clock.millis(), caller, "generalisation undone", true));
        dd.invalidate();
        p.changed();
        Log.info("profile generalisation undone", "key", key, "dimension", d.tag(), "pattern", value, "by", caller);
        return publish(p);
    }

    /** Adds an explicit entry (exact value or pattern); lifts a tombstone of exactly that value. */
    public ProfileSnapshot addEntry(String key, Dimension d, String value, String caller) {
        caller(caller);
        Entry e = parseValue(d, value);
        Profile p = require(key);
        DimensionData dd = p.dim(d);
        dd.tombstones.remove(value);
        Entry old = dd.entries.get(value);
        if (old != null) {
            old.addedBy = caller;
        } else {
            e.firstSeenMs = clock.millis();
            e.addedBy = caller;
            dd.put(e);
        }
        dd.invalidate();
        p.changed();
        Log.info("profile entry added", "key", key, "dimension", d.tag(), "value", value, "by", caller);
        return publish(p);
    }

    /** Forgets an entry without tombstoning it (it may be learned again). */
    public ProfileSnapshot removeEntry(String key, Dimension d, String value, String caller) {
        caller(caller);
        Profile p = require(key);
        if (p.dim(d).remove(value) == null) throw new NoSuchElementException("no " + d.tag() + " entry " + value + " in '" + key + "'");
        p.changed();
        Log.info("profile entry removed", "key", key, "dimension", d.tag(), "value", value, "by", caller);
        return publish(p);
    }

    /** Lifts a tombstone (the value may be learned again). */
    public ProfileSnapshot removeTombstone(String key, Dimension d, String value, String caller) {
        caller(caller);
        Profile p = require(key);
        DimensionData dd = p.dim(d);
        if (dd.tombstones.remove(value) == null) throw new NoSuchElementException("no " + d.tag() + " tombstone " + value + " in '" + key + "'");
        dd.invalidate();
        p.changed();
        Log.info("profile tombstone lifted", "key", key, "dimension", d.tag(), "value", value, "by", caller);
        return publish(p);
    }

    /** Marks an entry reviewed: clears {@code suspect}, records the reviewer. */
    public ProfileSnapshot approve(String key, Dimension d, String value, String caller) {
        caller(caller);
        Profile p = require(key);
        Entry e = p.dim(d).entries.get(value);
        if (e == null && p.proposals.containsKey(d.tag() + " " + value)) {
            addEntry(key, d, value, caller);
            e = p.dim(d).entries.get(value);
        }
        if (e == null) throw new NoSuchElementException("no " + d.tag() + " entry or proposal " + value + " in '" + key + "'");
        p.proposals.remove(d.tag() + " " + value);
        e.suspect = null;
        e.reviewedBy = caller;
        p.changed();
        Log.info("profile entry approved", "key", key, "dimension", d.tag(), "value", value, "by", caller);
        return publish(p);
    }

    /**
     * Records a deviation as a proposed addition to the profile (pipeline thread; called by the
     * detector for each distinct deviation). {@code value} is in profile syntax (an escaped exact
     * path, {@code proto:port}, {@code proto:addr:port}). Proposals are kept in memory, bounded per
     * profile, and re-proposed by the next occurrence after a restart.
     */
    public void propose(String key, Dimension d, String value, Map<String, Object> evidence) {
        Profile p = profiles.get(key);
        if (p == null) return;
        String k = d.tag() + " " + value;
        Profile.Proposal pr = p.proposals.get(k);
        long now = clock.millis();
        if (pr != null) {
            pr.count++;
            pr.lastMs = now;
            return;
        }
        if (p.proposals.size() >= MAX_PROPOSALS) return;
        pr = new Profile.Proposal(d, value, now, evidence);
        pr.count = 1;
        p.proposals.put(k, pr);
        p.touched();
    }

    /** Rejects a proposal: the value is tombstoned, so it is never learned or proposed again. */
    public ProfileSnapshot reject(String key, Dimension d, String value, String caller) {
        return tombstone(key, d, value, caller, "proposal rejected");
    }

    /**
     * Forgets dimension {@code d} and learns it again (tombstones stay). In a monitoring or
     * enforcing profile only this dimension learns (the detector does not alert on it) until it
     * converges on its own.
     */
    public ProfileSnapshot relearn(String key, Dimension d, String caller) {
        caller(caller);
        Profile p = require(key);
        DimensionData dd = p.dim(d);
        long now = clock.millis();
        dd.entries.clear();
        dd.invalidate();
        dd.lastNewMs = now;
        dd.unconvergedMs = 0;
        dd.relearning = !(p.mode == Mode.LEARNING && p.unconvergedMs == 0);
        dd.relearnStartedMs = now;
        dd.relearnObservationsBase = p.observations;
        p.changed();
        Log.info("profile dimension relearning", "key", key, "dimension", d.tag(), "by", caller);
        return publish(p);
    }

    /** Deletes a profile and its file; its containers start a new profile on their next event. */
    public void deleteProfile(String key, String caller) {
        caller(caller);
        require(key);
        Log.info("profile deleted", "key", key, "by", caller);
        removeProfile(key, true);
    }

    /**
     * What a reviewer should look at: generalised (pattern) entries and suspect entries not yet
     * reviewed, as maps {dimension, value, reason, count, examples, generalised_by, suspect_reason}.
     */
    public List<Map<String, Object>> proposals(String key) {
        Profile p = require(key);
        List<Map<String, Object>> out = new ArrayList<>();
        for (DimensionData dd : p.dims) {
            for (Entry e : dd.entries.values()) {
                if (e.reviewedBy != null || e.addedBy != null) continue;
                boolean gen = e.generalisedBy.length > 0;
                if (!gen && e.suspect == null) continue;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("dimension", dd.dimension.tag());
                m.put("value", e.value);
                m.put("reason", e.suspect != null ? "suspect" : "generalised");
                m.put("count", e.count);
                if (gen) m.put("generalised_by", List.of(e.generalisedBy));
                if (e.examples.length > 0) m.put("examples", List.of(e.examples));
                if (e.suspect != null) m.put("suspect_reason", e.suspect);
                out.add(m);
            }
        }
        for (Profile.Proposal pr : p.proposals.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dimension", pr.dimension.tag());
            m.put("value", pr.value);
            m.put("reason", "deviation");
            m.put("count", pr.count);
            m.put("first_seen", java.time.Instant.ofEpochMilli(pr.firstMs).toString());
            m.put("last_seen", java.time.Instant.ofEpochMilli(pr.lastMs).toString());
            if (pr.evidence != null && !pr.evidence.isEmpty()) m.put("evidence", pr.evidence);
            out.add(m);
        }
        return out;
    }

    // ---- approved versions, diff and upload (operator review; pipeline thread) -------------------

    /**
     * The version of a profile an operator last approved: saved by {@link #markApproved} (the
     * review API calls it after every change it makes: approve, reject, mode, entries, relearn,
     * upload) as {@code <file>.approved} next to the profile file, written atomically, never
     * loaded as a profile (it does not end in {@code .yaml}). {@link #diff} compares against it.
     *
     * @param entries values per dimension, sorted
     */
    public record Approved(long timeMs, String by, String mode, Map<Dimension, Set<String>> entries,
            Map<Dimension, Set<String>> tombstones) {}

    private static final String APPROVED_SUFFIX = ".approved";
    private static final String APPROVED_AT = "approved_at: ";
    private static final String APPROVED_BY = "approved_by: ";
    private final Map<String, Approved> approved = new HashMap<>();

    /**
     * Records the current version of profile {@code key} as approved by {@code caller}: the
     * profile file is flushed and a copy kept as {@code <file>.approved}.
     * @throws IllegalStateException when the copy cannot be written
     */
    public Approved markApproved(String key, String caller) {
        caller(caller);
        Profile p = require(key);
        if (write(p)) flushedChanges.put(key, p.changes);
        FileRecord rec = files.get(key);
        if (rec == null) throw new IllegalStateException("profile '" + key + "' has no file (write failed; see errors)");
        long now = clock.millis();
        String by = oneLine(caller);
        byte[] bytes = ProfileWriter.write(p, "Approved version of " + rec.path.getFileName() + " (what `profiles diff` compares with).\n"
                + APPROVED_AT + ProfileWriter.formatTime(now) + "\n" + APPROVED_BY + by);
        Path path = rec.path.resolveSibling(rec.path.getFileName() + APPROVED_SUFFIX);
        try {
            AtomicFile.write(path, bytes, writeHook);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + path + ": " + e.getMessage());
        }
        Approved a = approvedOf(p, now, by);
        approved.put(key, a);
        return a;
    }

    /** The approved version of {@code key} (from memory, else its {@code .approved} file), or null. */
    public Approved approved(String key) {
        Profile p = require(key);
        Approved a = approved.get(key);
        if (a != null) return a;
        FileRecord rec = files.get(key);
        if (rec == null) return null;
        Path path = rec.path.resolveSibling(rec.path.getFileName() + APPROVED_SUFFIX);
        if (!Files.isRegularFile(path)) return null;
        try {
            if (Files.size(path) > MAX_FILE_BYTES) throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
            String text = Files.readString(path, StandardCharsets.UTF_8);
            Profile q = ProfileValidator.parse(text, path.toString());
            if (!q.key.key().equals(p.key.key())) throw new IOException("it is the approved copy of '" + q.key.key() + "'");
            long at = 0;
            String by = null;
            for (String line : text.lines().limit(20).toList()) {
                if (line.startsWith("# " + APPROVED_AT)) at = java.time.Instant.parse(line.substring(2 + APPROVED_AT.length()).trim()).toEpochMilli();
                if (line.startsWith("# " + APPROVED_BY)) by = line.substring(2 + APPROVED_BY.length()).trim();
            }
            a = approvedOf(q, at, by);
            approved.put(key, a);
            return a;
        } catch (IOException | ProfileFormatException | RuntimeException e) {
            Log.warn("ignoring unreadable approved copy of a profile", "file", path.toString(), "error", e.getMessage());
            return null;
        }
    }

    private static Approved approvedOf(Profile p, long timeMs, String by) {
        Map<Dimension, Set<String>> entries = new java.util.EnumMap<>(Dimension.class);
        Map<Dimension, Set<String>> tombs = new java.util.EnumMap<>(Dimension.class);
        for (DimensionData d : p.dims) {
            entries.put(d.dimension, Collections.unmodifiableSet(new java.util.TreeSet<>(d.entries.keySet())));
            tombs.put(d.dimension, Collections.unmodifiableSet(new java.util.TreeSet<>(d.tombstones.keySet())));
        }
        return new Approved(timeMs, by, p.mode.text(), Collections.unmodifiableMap(entries), Collections.unmodifiableMap(tombs));
    }

    /**
     * What changed since the approved version: per dimension the entries added (with their
     * evidence) and removed, tombstones added and removed, and the mode. Without an approved
     * version every entry counts as added ({@code approved} is null).
     */
    public Map<String, Object> diff(String key) {
        Profile p = require(key);
        Approved a = approved(key);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", key);
        if (a == null) {
            out.put("approved", null);
        } else {
            Map<String, Object> am = new LinkedHashMap<>();
            am.put("time", a.timeMs() == 0 ? null : ProfileWriter.formatTime(a.timeMs()));
            am.put("by", a.by());
            am.put("mode", a.mode());
            out.put("approved", am);
        }
        Map<String, Object> mode = new LinkedHashMap<>();
        mode.put("approved", a == null ? null : a.mode());
        mode.put("current", p.mode.text());
        out.put("mode", mode);
        int changes = a != null && !a.mode().equals(p.mode.text()) ? 1 : 0;
        Map<String, Object> dims = new LinkedHashMap<>();
        List<Object> tAdded = new ArrayList<>(), tRemoved = new ArrayList<>();
        for (DimensionData d : p.dims) {
            Set<String> was = a == null ? Set.of() : a.entries().get(d.dimension);
            List<Object> added = new ArrayList<>();
            for (Entry e : d.entries.values()) {
                if (was.contains(e.value)) continue;
                Map<String, Object> em = new LinkedHashMap<>();
                em.put("value", e.value);
                em.put("count", e.count);
                if (e.firstSeenMs != 0) em.put("first_seen", ProfileWriter.formatTime(e.firstSeenMs));
                if (e.generalisedBy.length > 0) em.put("generalised_by", List.of(e.generalisedBy));
                if (e.suspect != null) em.put("suspect_reason", e.suspect);
                if (e.addedBy != null) em.put("added_by", e.addedBy);
                added.add(em);
            }
            List<Object> removed = new ArrayList<>();
            for (String v : was) if (!d.entries.containsKey(v)) removed.add(v);
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("added", added);
            dm.put("removed", removed);
            dims.put(d.dimension.tag(), dm);
            changes += added.size() + removed.size();
            Set<String> wasT = a == null ? Set.of() : a.tombstones().get(d.dimension);
            for (String v : d.tombstones.keySet()) {
                if (!wasT.contains(v)) tAdded.add(Map.of("dimension", d.dimension.tag(), "value", v));
            }
            for (String v : wasT) {
                if (!d.tombstones.containsKey(v)) tRemoved.add(Map.of("dimension", d.dimension.tag(), "value", v));
            }
        }
        changes += tAdded.size() + tRemoved.size();
        out.put("changes", changes);
        out.put("dimensions", dims);
        Map<String, Object> tm = new LinkedHashMap<>();
        tm.put("added", tAdded);
        tm.put("removed", tRemoved);
        out.put("tombstones", tm);
        return out;
    }

    /** A profile's YAML as in its file, and its structure version (for {@link #upload}'s check). */
    public record Document(String yaml, long version) {}

    /**
     * Flushes the store and returns the profile's YAML exactly as its file now holds it (with the
     * operator's comments), or as the store would write it when the file could not be written.
     */
    public Document document(String key) {
        Profile p = require(key);
        flush();
        FileRecord rec = files.get(key);
        Long done = flushedChanges.get(key);
        if (rec != null && done != null && done == p.changes) {
            try {
                if (Files.size(rec.path) <= MAX_FILE_BYTES) {
                    return new Document(Files.readString(rec.path, StandardCharsets.UTF_8), p.structure);
                }
            } catch (IOException | RuntimeException e) {
                Log.warn("cannot read profile file; serving the rendered profile", "file", rec.path.toString(), "error", e.toString());
            }
        }
        return new Document(new String(ProfileWriter.write(p), StandardCharsets.UTF_8), p.structure);
    }

    /**
     * Checks a profile text (reader + validator) without applying it.
     * @return the key the text names
     * @throws ProfileFormatException with line, column and problem
     */
    public static String validate(String yaml, String origin) throws ProfileFormatException {
        return ProfileValidator.parse(yaml, origin).key.key();
    }

    /**
     * Replaces profile {@code key} with an operator's edited YAML, exactly as if the operator had
     * edited its file: the text is validated, written atomically over the profile file and
     * applied by the hot-reload path (entries the edit deleted become tombstones; what was
     * learned since the file was written is kept). {@code expectedVersion} ({@link Document#version},
     * -1 to skip) refuses an edit of a profile whose entries, tombstones or mode changed since
     * the operator fetched it.
     *
     * @throws IllegalArgumentException when the text is invalid or names another key
     * @throws IllegalStateException when the profile changed since it was fetched, or on write errors
     */
    public ProfileSnapshot upload(String key, String yaml, long expectedVersion, String caller) {
        caller(caller);
        Profile p = require(key);
        if (expectedVersion >= 0 && expectedVersion != p.structure) {
            throw new IllegalStateException("profile '" + key + "' changed since it was fetched (version " + expectedVersion
                    + ", now " + p.structure + "): fetch it again and redo the edit");
        }
        Profile edit;
        try {
            edit = ProfileValidator.parse(yaml, "upload");
        } catch (ProfileFormatException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        if (!edit.key.key().equals(key)) {
            throw new IllegalArgumentException("the edit names key '" + edit.key.key() + "', not '" + key + "'");
        }
        if (files.get(key) == null && write(p)) flushedChanges.put(key, p.changes);
        FileRecord rec = files.get(key);
        if (rec == null) throw new IllegalStateException("profile '" + key + "' has no file (write failed; see errors)");
        Mode before = p.mode;
        try {
            AtomicFile.write(rec.path, yaml.getBytes(StandardCharsets.UTF_8), writeHook);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + rec.path + ": " + e.getMessage());
        }
        rec.mtimeNs = -1; // make pollReload read it even within one mtime tick
        pollReload();
        ProfileError err = errorsByFile.get(rec.path.toString());
        if (err != null) throw new IllegalStateException("edit not applied: " + err.problem());
        if (p.mode != before) {
            p.modeChangedBy = caller;
            p.changed();
        }
        Log.info("profile replaced by upload", "key", key, "file", rec.path.toString(), "by", caller);
        return publish(p);
    }

    private static String oneLine(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 200; i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return sb.toString();
    }

    // ---- flush ------------------------------------------------------------------------------------

    /** Writes every changed profile (after picking up operator edits, so none is overwritten). */
    public void flush() {
        pollReload();
        for (Profile p : profiles.values()) {
            Long done = flushedChanges.get(p.key.key());
            if (done != null && done == p.changes) continue;
            if (write(p)) flushedChanges.put(p.key.key(), p.changes);
        }
    }

    private boolean write(Profile p) {
        String key = p.key.key();
        FileRecord rec = files.get(key);
        byte[] bytes = ProfileWriter.write(p);
        long h = Hashing.hash(bytes);
        if (rec != null && rec.hash == h && Files.exists(rec.path)) return true;
        Path path = rec != null ? rec.path : dir.resolve(p.key.fileName());
        try {
            Files.createDirectories(dir);
            AtomicFile.write(path, bytes, writeHook);
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            if (rec == null) {
                rec = new FileRecord(path);
                files.put(key, rec);
            }
            rec.mtimeNs = a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
            rec.size = a.size();
            rec.hash = h;
            markPersisted(p);
            writesOk.increment();
            ProfileError err = errorsByFile.get(path.toString());
            if (err != null && err.problem().startsWith("write failed")) {
                errorsByFile.remove(path.toString());
                publishErrors();
            }
            return true;
        } catch (IOException | RuntimeException e) {
            writesFailed.increment();
            errorsByFile.put(path.toString(), new ProfileError(path.toString(), 0, 0, "write failed: " + e, clock.millis()));
            publishErrors();
            Log.error("profile write failed; the previous file stays", "file", path.toString(), "error", e.toString());
            return false;
        }
    }

    /** The YAML of a profile as the store writes it, with extra header comment lines (examples, tools). */
    public static byte[] render(Profile p, String headerComment) {
        return ProfileWriter.write(p, headerComment);
    }

    /** The path of a profile's file (written or loaded), or null before its first flush. */
    public Path file(String key) {
        FileRecord r = files.get(key);
        return r == null ? null : r.path;
    }

    /** Flushes. Call after the pipeline thread stopped (Agent.close) or on it. */
    @Override
    public void close() {
        flush();
    }

    // ---- publishing (read from any thread) -------------------------------------------------------

    /** Publishes snapshots, state counts and the memory estimate (pipeline thread, every tick). */
    public void publish() {
        int[] counts = new int[Profile.STATES.length];
        long bytes = 0;
        Map<String, ProfileSnapshot> next = new TreeMap<>();
        Map<String, ProfileSnapshot> prev = snapshots;
        for (Profile p : profiles.values()) {
            String state = p.state();
            for (int i = 0; i < counts.length; i++) if (Profile.STATES[i].equals(state)) counts[i]++;
            ProfileSnapshot s = snapshotOf(p, prev.get(p.key.key()));
            bytes += s.approxBytes();
            next.put(p.key.key(), s);
        }
        snapshots = Collections.unmodifiableMap(next);
        stateCounts = counts;
        totalBytes = bytes;
    }

    private ProfileSnapshot publish(Profile p) {
        Map<String, ProfileSnapshot> next = new TreeMap<>(snapshots);
        ProfileSnapshot s = snapshotOf(p, null);
        next.put(p.key.key(), s);
        snapshots = Collections.unmodifiableMap(next);
        int[] counts = new int[Profile.STATES.length];
        for (Profile q : profiles.values()) {
            for (int i = 0; i < counts.length; i++) if (Profile.STATES[i].equals(q.state())) counts[i]++;
        }
        stateCounts = counts;
        return s;
    }

    private ProfileSnapshot snapshotOf(Profile p, ProfileSnapshot prev) {
        String key = p.key.key();
        long now = clock.millis();
        Long pub = publishedChanges.get(key);
        Long docTime = documentTimes.get(key);
        Map<String, Object> doc;
        long docMs;
        if (prev != null && pub != null && (pub == p.changes || (docTime != null && now - docTime < DOCUMENT_REFRESH_MS
                && prev.entries() == countEntries(p)))) {
            doc = prev.document();
            docMs = prev.documentTimeMs();
        } else {
            doc = Collections.unmodifiableMap(ProfileWriter.toMap(p));
            docMs = now;
            documentTimes.put(key, now);
            publishedChanges.put(key, p.changes);
        }
        Map<String, Double> conf = new LinkedHashMap<>();
        int tombs = 0;
        for (DimensionData d : p.dims) {
            conf.put(d.dimension.tag(), Math.round(d.confidence * 1000) / 1000.0);
            tombs += d.tombstones.size();
        }
        FileRecord rec = files.get(key);
        return new ProfileSnapshot(key, p.key.namespace(), p.key.workload(), p.key.container(), p.mode.text(), p.state(),
                rec == null ? null : rec.path.getFileName().toString(), countEntries(p), tombs, p.observations,
                p.approxBytes(), Collections.unmodifiableMap(conf), doc, docMs);
    }

    private static int countEntries(Profile p) {
        int n = 0;
        for (DimensionData d : p.dims) n += d.entries.size();
        return n;
    }

    private void publishErrors() {
        errors = List.copyOf(errorsByFile.values());
    }

    /** Snapshot of one profile, or null (any thread). */
    public ProfileSnapshot snapshot(String key) {
        return snapshots.get(key);
    }

    /** Snapshots of all profiles, sorted by key (any thread). */
    public Collection<ProfileSnapshot> snapshots() {
        return snapshots.values();
    }

    /** Rejected files and failed writes, with file, line and problem (any thread). */
    public List<ProfileError> errors() {
        return errors;
    }
}
