package io.driftwatch.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A small but real service in a busybox runc container, for learning and detection tests:
 * busybox httpd serves /www on 127.0.0.1:8080 inside the container's own network namespace,
 * and the init script loops reading its config, appending to its log and fetching its own page.
 *
 * <p>The loop also sources {@code /tmp/hook} on every iteration — empty while the service is
 * learned — the test's stand-in for an exploited service ({@link #trigger}): commands put there
 * run once, in the service's own process tree, as an attacker's payload would, not in a
 * {@code runc exec} session. Reading the hook is learned behaviour, so the payload's own actions
 * are the first thing outside the profile.
 */
public final class ServiceWorkload {
    public static final String ENTRYPOINT = """
            #!/bin/sh
            httpd -f -p 127.0.0.1:8080 -h /www &
            while true; do
              cat /etc/app.conf > /dev/null
              echo tick >> /var/log/app.log
              wget -q -O /dev/null http://127.0.0.1:8080/
              . /tmp/hook
              usleep 200000
            done
            """;

    private ServiceWorkload() {}

    /** A builder for the service container with Kubernetes metadata of {@code namespace/workload}. */
    public static RuncContainer.Builder builder(String id, String namespace, String pod, String container, String image) {
        return RuncContainer.builder(id).kubernetes(namespace, pod, container, image)
                .file("/entrypoint.sh", ENTRYPOINT)
                .file("/www/index.html", "<html>hello</html>\n")
                .file("/etc/app.conf", "greeting=hello\n")
                .file("/tmp/hook", "")
                .command("/entrypoint.sh");
    }

    /**
     * Makes the service run {@code script} once (shell syntax, sourced by the service's own loop;
     * the payload empties the hook when it has run — itself a write the profile never saw).
     */
    public static void trigger(RuncContainer c, String script) throws IOException {
        Path dir = c.rootfs().resolve("tmp");
        Path tmp = dir.resolve(".hook.part");
        Files.writeString(tmp, script + "\n: > /tmp/hook\n", StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve("hook"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
