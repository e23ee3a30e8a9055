package io.driftwatch.testsupport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that needs root and the real kernel (eBPF, fanotify, runc, cgroups). It runs as
 * root; elsewhere it is skipped — except under {@code CI=true}, where a privileged test that
 * would skip fails instead, so CI can never go green without running it. {@link #tools()}
 * names executables that must be on the PATH.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("privileged")
@ExtendWith(PrivilegedCondition.class)
public @interface Privileged {
    String[] tools() default {};
}
