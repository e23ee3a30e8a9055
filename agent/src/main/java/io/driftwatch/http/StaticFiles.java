package io.driftwatch.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Serves the review page (GET / and /ui/*) from the jar's {@code ui/} resources: plain HTML,
 * JavaScript and CSS, no CDN, so it works offline. Only flat file names of known types are
 * served (no directories, no dot-dot), each with its content type, {@code nosniff} (set by the
 * server) and a strict Content-Security-Policy: scripts, styles and API calls from this origin
 * only, no inline script or style, no framing, no forms, no plugins.
 */
public final class StaticFiles {
    /** The CSP sent with every page resource. */
    public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}\\.(html|js|css|svg|png)");
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "svg", "image/svg+xml",
            "png", "image/png");

    private final String base;
    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

    /** @param base classpath directory, e.g. "ui" */
    public StaticFiles(String base) {
        this.base = base;
    }

    public StaticFiles register(Router router) {
        router.get("/", r -> serve("index.html"));
        router.get("/ui/*", r -> serve(r.path().substring("/ui/".length())));
        return this;
    }

    Response serve(String name) throws IOException {
        if (!NAME.matcher(name).matches()) return Response.text(404, "not found\n");
        byte[] body = cache.get(name);
        if (body == null) {
            try (InputStream in = StaticFiles.class.getClassLoader().getResourceAsStream(base + "/" + name)) {
                if (in == null) return Response.text(404, "not found\n");
                body = in.readAllBytes();
            }
            cache.put(name, body);
        }
        String ext = name.substring(name.lastIndexOf('.') + 1);
        return new Response(200, TYPES.get(ext), body)
                .withHeader("Content-Security-Policy", CSP)
                .withHeader("X-Frame-Options", "DENY")
                .withHeader("Referrer-Policy", "no-referrer");
    }
}
