package io.driftwatch.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.bridge.EventView;
import io.driftwatch.detect.Deviation;
import io.driftwatch.json.Json;
import io.driftwatch.pipeline.ContainerResolver;
import io.driftwatch.pipeline.ContainerSnapshot;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.respond.ActionExecutor;
import io.driftwatch.respond.CgroupControl;
import io.driftwatch.respond.RecentDeviations;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Contract of GET /api/v1/deviations and POST /api/v1/containers/{id}/{action}, hostile input included. */
final class ResponseApiTest {
    private final RecentDeviations recent = new RecentDeviations(10);
    private final ActionExecutor actions = new ActionExecutor(new CgroupControl(Path.of("/nonexistent-cgroup-root")),
            false, 6, new SimpleMeterRegistry(), System::currentTimeMillis);
    private final ResponseApi api = new ResponseApi("node-1", recent, actions, new ContainerResolver() {
        @Override public ContainerState resolve(EventView event) { return null; }
        @Override public List<ContainerSnapshot> snapshot() { return List.of(); }
    });

    @AfterEach
    void close() {
        actions.close();
    }

    private static Request get(String path, Map<String, List<String>> query) {
        return new Request("GET", path, query, "", "test");
    }

    private static Deviation deviation(String kind, String value) {
        Instant t = Instant.parse("2026-11-29T10:00:00Z");
        return new Deviation(t, "node-1", "c1", "shop", "web-1", "web", "web", "img", kind, value, 7, "sh", "/bin/sh",
                "/bin/busybox", "monitor", "alert", "shop/web/web", Map.of(), 1, t);
    }

    @Test
    void deviations_newestFirst_filteredByKindAndLimited() {
        recent.emit(deviation("file", "/etc/shadow"));
        recent.emit(deviation("exec", "/bin/sh"));
        recent.emit(deviation("exec", "/bin/nc"));
        Response r = api.deviations(get("/api/v1/deviations", Map.of("kind", List.of("exec"), "limit", List.of("1"))));
        assertThat(r.status()).isEqualTo(200);
        Map<String, Object> body = Json.parseObject(new String(r.body(), StandardCharsets.UTF_8));
        assertThat(body).containsEntry("node", "node-1");
        assertThat((List<?>) body.get("deviations")).hasSize(1).first().asString().contains("/bin/nc");
    }

    @Test
    void deviations_badLimitOrKind_is400NamingTheField() {
        for (String limit : List.of("0", "1001", "ten", "-1")) {
            assertThatThrownBy(() -> api.deviations(get("/api/v1/deviations", Map.of("limit", List.of(limit)))))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.field()).isEqualTo("limit");
                    });
        }
        assertThatThrownBy(() -> api.deviations(get("/api/v1/deviations", Map.of("kind", List.of("<script>")))))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.field()).isEqualTo("kind"));
    }

    @Test
    void containerAction_unknownContainerOrVerb_is404_andNothingIsDone() {
        assertThatThrownBy(() -> api.containerAction(new Request("POST", "/api/v1/containers/nope/kill", Map.of(), "", "t")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404))
                .hasMessageContaining("no running container 'nope'");
        assertThatThrownBy(() -> api.containerAction(new Request("POST", "/api/v1/containers/c1/explode", Map.of(), "", "t")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404))
                .hasMessageContaining("freeze, unfreeze, kill");
        assertThatThrownBy(() -> api.containerAction(new Request("POST", "/api/v1/containers/kill", Map.of(), "", "t")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404));
        assertThat(actions.history()).isEmpty();
    }
}
