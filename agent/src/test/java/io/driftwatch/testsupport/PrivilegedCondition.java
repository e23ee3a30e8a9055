package io.driftwatch.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/** Enables {@link Privileged} tests as root; under CI=true a missing precondition is a failure. */
public final class PrivilegedCondition implements ExecutionCondition {

    public static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    public static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext ctx) {
        List<String> missing = new ArrayList<>();
        Optional<Privileged> ann = ctx.getElement().flatMap(e -> AnnotationSupport.findAnnotation(e, Privileged.class));
        if (ann.isEmpty()) ann = ctx.getTestClass().flatMap(c -> AnnotationSupport.findAnnotation(c, Privileged.class));
        if (!isRoot()) missing.add("root");
        if (ann.isPresent()) {
            for (String t : ann.get().tools()) if (!onPath(t)) missing.add(t + " on PATH");
        }
        if (missing.isEmpty()) return ConditionEvaluationResult.enabled("privileged test: running as root");
        String why = "privileged test needs " + String.join(", ", missing);
        if (inCi()) {
            throw new IllegalStateException(why + " — under CI=true privileged tests must run, not skip"
                    + " (run ./driftwatch test as root; it installs the tools)");
        }
        return ConditionEvaluationResult.disabled(why);
    }
}
