package io.driftwatch.http;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP request as routes see it.
 *
 * @param method  GET, POST, PUT, DELETE ...
 * @param path    decoded path without the query string
 * @param query   decoded query parameters
 * @param body    request body as UTF-8 text (bounded by the server)
 * @param caller  who is calling: remote address, plus "token" when a bearer token was checked
 * @param rawPath the path as sent (still percent-encoded): routes that take a key containing
 *                slashes as one encoded segment (%2F) parse this, not {@code path}
 * @param headers request headers, names in lower case (first value of each)
 */
public record Request(String method, String path, Map<String, List<String>> query, String body, String caller,
        String rawPath, Map<String, String> headers) {

    public Request(String method, String path, Map<String, List<String>> query, String body, String caller) {
        this(method, path, query, body, caller, path, Map.of());
    }

    public String param(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** A header value, or null (name case-insensitive). */
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** The media type of the body without parameters, lower case ("application/json"), or null. */
    public String mediaType() {
        String ct = header("content-type");
        if (ct == null) return null;
        int semi = ct.indexOf(';');
        return (semi < 0 ? ct : ct.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }
}
