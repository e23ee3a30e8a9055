package io.driftwatch.learn;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.Dispatcher;
import io.driftwatch.pipeline.ProcessLineage;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.ProfileStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pipeline level: a batch of wire records written with EventWriter, decoded and dispatched by op. */
final class LearningHandlerTest {
    @TempDir Path dir;

    @Test
    void dispatch_batchOfRecords_learnsPerWorkloadAndFlushes() throws Exception {
        long[] now = {1_767_225_600_000L};
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ProfileStore store = new ProfileStore(dir, "workload", registry, () -> now[0]);
        store.load();
        BaselineLearner learner = new BaselineLearner(store, GeneralisationRules.defaults(),
                new LearningSettings(0, 0, 1000, 0, 0, true, false, 16), ProcessLineage.TRUSTING, () -> now[0], registry);
        Dispatcher dispatcher = new Dispatcher();
        new LearningHandler(learner).register(dispatcher);

        ContainerState r1 = TestEvents.container(11, TestEvents.k8s("r1", "cache", "redis", "redis-0", "redis", "redis:7.2", "sha256:r"), 0);
        ContainerState r2 = TestEvents.container(12, TestEvents.k8s("r2", "cache", "redis", "redis-1", "redis", "redis:7.2", "sha256:r"), 0);

        ByteBuffer batch = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
        EventWriter w = new EventWriter(batch);
        w.header(SRC_BPF, 1, 11, 0, 50, 1, 999, "redis-server");
        w.exec("/usr/local/bin/redis-server", List.of("redis-server", "/etc/redis.conf"), 0);
        w.open("/data/temp-27.rdb", 01 | 0100, ACC_WRITE | ACC_CREATE, 5, 0, 0);
        w.net(OP_LISTEN, 2, PROTO_TCP, 0, new byte[4], 6379, new byte[4], 0);
        w.header(SRC_BPF, 2, 12, 0, 51, 1, 999, "redis-server");
        w.open("/data/temp-31.rdb", 01 | 0100, ACC_WRITE | ACC_CREATE, 5, 0, 0);
        w.net(OP_ACCEPT, 2, PROTO_TCP, 0, new byte[] {10, 0, 0, 2}, 6379, new byte[] {10, 0, 0, 3}, 48712);
        w.exit(0);
        w.fork(52);

        EventView view = new EventView();
        for (int off = 0; off < w.position(); ) {
            view.wrap(batch, off);
            assertThat(view.check(w.position())).isNull();
            dispatcher.dispatch(view, view.cgroupId() == 11 ? r1 : r2);
            off += view.size();
        }
        var p = store.profile("cache/redis/redis");
        assertThat(store.profiles()).hasSize(1); // two replicas, one profile
        assertThat(p.dim(Dimension.FILE_WRITE).entry("/data/temp-[num].rdb").count()).isEqualTo(2);
        assertThat(p.dim(Dimension.EXEC).entry("/usr/local/bin/redis-server")).isNotNull();
        assertThat(p.dim(Dimension.LISTEN).entry("tcp:6379")).isNotNull();
        assertThat(p.dim(Dimension.ACCEPT).entry("tcp:6379")).isNotNull();
        learner.tick();
        assertThat(p.mode().text()).isEqualTo("monitor");
        store.close();
        String yaml = Files.readString(store.file("cache/redis/redis"));
        assertThat(yaml).contains("value: /data/temp-[num].rdb").contains("- /data/temp-27.rdb").contains("digest: sha256:r");
    }
}
