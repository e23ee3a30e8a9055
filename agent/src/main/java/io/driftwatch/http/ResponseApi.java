package io.driftwatch.http;

import io.driftwatch.detect.Deviation;
import io.driftwatch.pipeline.ContainerResolver;
import io.driftwatch.pipeline.ContainerSnapshot;
import io.driftwatch.respond.ActionExecutor;
import io.driftwatch.respond.RecentDeviations;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The response side of the API: {@code GET /api/v1/deviations} (latest deviation records) and
 * {@code POST /api/v1/containers/{id}/freeze|unfreeze|kill} (operator actions, with the same
 * safety checks as the detector's). Reads snapshots only.
 */
public final class ResponseApi {
    private final String node;
    private final RecentDeviations recent;
    private final ActionExecutor actions;
    private final ContainerResolver resolver;

    public ResponseApi(String node, RecentDeviations recent, ActionExecutor actions, ContainerResolver resolver) {
        this.node = node;
        this.recent = recent;
        this.actions = actions;
        this.resolver = resolver;
    }

    public ResponseApi register(Router router) {
        router.get("/api/v1/deviations", this::deviations);
        router.post("/api/v1/containers/*", this::containerAction);
        return this;
    }

    Response deviations(Request r) {
        int limit = 100;
        String l = r.param("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                throw new ApiException(400, "limit must be an integer from 1 to 1000", "limit");
            }
            if (limit < 1 || limit > 1000) {
                throw new ApiException(400, "limit must be an integer from 1 to 1000", "limit");
            }
        }
        String kind = r.param("kind");
        if (kind != null && !List.of("exec", "file", "listen", "connect", "accept").contains(kind)) {
            throw new ApiException(400, "kind must be one of exec, file, listen, connect, accept", "kind");
        }
        List<Object> out = new ArrayList<>();
        for (Deviation d : recent.latest(limit, r.param("profile"), kind)) out.add(d.toMap());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", node);
        m.put("deviations", out);
        return Response.ok(m);
    }

    /** POST /api/v1/containers/{id}/{freeze|unfreeze|kill}: operator actions, with the same safety checks. */
    Response containerAction(Request r) {
        String rest = r.path().substring("/api/v1/containers/".length());
        int slash = rest.lastIndexOf('/');
        if (slash <= 0) throw new ApiException(404, "expected /api/v1/containers/{id}/{freeze|unfreeze|kill}");
        String id = rest.substring(0, slash);
        String verb = rest.substring(slash + 1);
        ActionExecutor.Action action;
        switch (verb) {
            case "freeze": action = ActionExecutor.Action.FREEZE; break;
            case "unfreeze": action = ActionExecutor.Action.UNFREEZE; break;
            case "kill": action = ActionExecutor.Action.KILL; break;
            default: throw new ApiException(404, "unknown container action '" + verb
                    + "' (freeze, unfreeze, kill)");
        }
        ContainerSnapshot target = null;
        for (ContainerSnapshot c : resolver.snapshot()) {
            if (c.info().id().equals(id) || (id.length() >= 12 && c.info().id().startsWith(id))) target = c;
        }
        if (target == null) throw new ApiException(404, "no running container '" + id + "'");
        ActionExecutor.Result res = actions.execute(new ActionExecutor.Request(action, target.info().id(),
                target.info().cgroupPath(), target.profileKey() == null ? "" : target.profileKey(), "operator request",
                0, r.caller()));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("container_id", target.info().id());
        m.put("action", action.label());
        m.put("result", res.result());
        m.put("detail", res.detail());
        return Response.json("ok".equals(res.result()) || "dry_run".equals(res.result()) ? 200 : 409, m);
    }
}
