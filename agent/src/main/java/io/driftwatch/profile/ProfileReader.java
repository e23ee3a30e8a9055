package io.driftwatch.profile;

import java.io.StringReader;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Stage 1 of loading a profile (Reader → {@link ProfileValidator} → {@link ProfileCompiler}):
 * parses YAML text into a node tree with line marks, using snakeyaml's safe constructor only
 * (profiles come from operators and the review API: CVE-2022-1471). Syntax errors carry the
 * line and column of snakeyaml's problem mark.
 */
final class ProfileReader {
    /** Largest profile accepted (characters). */
    static final int MAX_CHARS = 32 << 20;

    private ProfileReader() {}

    static Node read(String text, String origin) throws ProfileFormatException {
        if (text.length() > MAX_CHARS) throw new ProfileFormatException(origin, 0, 0, "file larger than " + MAX_CHARS + " characters");
        LoaderOptions opts = new LoaderOptions();
        opts.setMaxAliasesForCollections(0);
        opts.setAllowRecursiveKeys(false);
        opts.setNestingDepthLimit(16);
        opts.setCodePointLimit(MAX_CHARS);
        opts.setProcessComments(false);
        Yaml yaml = new Yaml(new SafeConstructor(opts));
        try (StringReader r = new StringReader(text)) {
            Node n = yaml.compose(r);
            if (n == null) throw new ProfileFormatException(origin, 1, 1, "empty file (expected schema_version: 1 and a profile)");
            return n;
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            if (e.getContext() != null) problem = e.getContext() + ": " + problem;
            throw new ProfileFormatException(origin, m == null ? 0 : m.getLine() + 1, m == null ? 0 : m.getColumn() + 1,
                    "malformed YAML: " + problem.replace('\n', ' '));
        } catch (YAMLException e) {
            String msg = String.valueOf(e.getMessage());
            throw new ProfileFormatException(origin, 0, 0, "malformed YAML: " + msg.lines().findFirst().orElse(msg));
        }
    }
}
