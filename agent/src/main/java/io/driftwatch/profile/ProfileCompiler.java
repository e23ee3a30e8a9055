package io.driftwatch.profile;

import io.driftwatch.bridge.Hashing;
import java.util.ArrayList;
import java.util.List;

/**
 * Stage 3 of loading a profile: turns a validated {@link Profile} into a {@link CompiledProfile}
 * indexed by dimension, as Falco compiles rules into a ruleset indexed by event type. Exact values
 * become hashes in primitive sets; patterns stay compiled matchers. Suspect entries are compiled
 * like any other (they are known behaviour until an operator tombstones them); tombstones are not
 * compiled: a value that is neither an entry nor matched by one is unknown.
 */
final class ProfileCompiler {
    private ProfileCompiler() {}

    static CompiledProfile compile(Profile p) {
        int n = Dimension.count();
        LongHashSet[] exact = new LongHashSet[n];
        boolean[] learning = new boolean[n];
        List<List<PathPattern>> paths = new ArrayList<>();
        List<List<NetPattern>> nets = new ArrayList<>();
        LongHashSet execParents = new LongHashSet();
        List<String[]> patternParents = new ArrayList<>();
        int entries = 0;
        for (Dimension d : Dimension.values()) {
            DimensionData dd = p.dim(d);
            learning[d.ordinal()] = p.learning(d);
            exact[d.ordinal()] = new LongHashSet(Math.max(8, dd.entries.size()), Integer.MAX_VALUE);
            List<PathPattern> pl = new ArrayList<>();
            List<NetPattern> nl = new ArrayList<>();
            for (Entry e : dd.entries.values()) {
                entries++;
                if (e.compiled instanceof PathPattern) {
                    PathPattern pp = (PathPattern) e.compiled;
                    if (pp.isLiteral()) {
                        long h = Hashing.hash(pp.literalPath());
                        exact[d.ordinal()].add(h);
                        if (d == Dimension.EXEC) for (String parent : e.parents) execParents.add(Hashing.combine(h, Hashing.hash(parent)));
                    } else {
                        pl.add(pp);
                        if (d == Dimension.EXEC) patternParents.add(e.parents);
                    }
                } else {
                    NetPattern np = (NetPattern) e.compiled;
                    if (np.isExact()) exact[d.ordinal()].add(np.key());
                    else nl.add(np);
                }
            }
            paths.add(pl);
            nets.add(nl);
        }
        return CompiledProfile.of(p.key.key(), p.mode, learning, exact, paths, nets, execParents, patternParents, entries);
    }
}
