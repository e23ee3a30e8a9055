package io.driftwatch.http;

/** Handles requests for one path (or path prefix). Runs on an HTTP worker thread. */
@FunctionalInterface
public interface Route {
    Response handle(Request request) throws Exception;
}
