package io.driftwatch.http;

import java.util.List;
import java.util.Map;

/**
 * An HTTP request as routes see it.
 *
 * @param method  GET, POST, PUT, DELETE ...
 * @param path    decoded path without the query string
 * @param query   decoded query parameters
 * @param body    request body as UTF-8 text (bounded by the server)
 * @param caller  who is calling: remote address, plus "token" when a bearer token was checked
 */
public record Request(String method, String path, Map<String, List<String>> query, String body, String caller) {
    public String param(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }
}
