package io.driftwatch.http;

import io.driftwatch.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** An HTTP response produced by a route; {@code headers} are extra response headers. */
public record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    public Response(int status, String contentType, byte[] body) {
        this(status, contentType, body, Map.of());
    }

    /** This response with one more header. */
    public Response withHeader(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new Response(status, contentType, body, h);
    }

    public static Response json(int status, Object value) {
        return new Response(status, "application/json", (Json.write(value) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public static Response ok(Object value) {
        return json(200, value);
    }

    public static Response text(int status, String text) {
        return new Response(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    /** A JSON error body {"error": message[, "field": field]}. */
    public static Response error(int status, String message, String field) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        if (field != null) m.put("field", field);
        return json(status, m);
    }

    public static Response error(int status, String message) {
        return error(status, message, null);
    }
}
