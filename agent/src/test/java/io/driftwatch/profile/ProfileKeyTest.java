package io.driftwatch.profile;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.container.ContainerInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class ProfileKeyTest {
    static ContainerInfo info(String id, String ns, String pod, String container, String image, String workload) {
        return new ContainerInfo(id, "containerd", "/x", ns, pod, "uid", container, image, "sha256:1", workload, "Deployment", "/b");
    }

    @Test
    void of_kubernetesWorkload_sharedByReplicasAndRestarts() {
        ProfileKey a = ProfileKey.of(info("aaa", "shop", "web-7d4b9c-x2x", "nginx", "nginx:1.25", "web"), "workload");
        ProfileKey b = ProfileKey.of(info("bbb", "shop", "web-7d4b9c-q9z", "nginx", "nginx:1.26@sha256:ff", "web"), "workload");
        assertThat(a).isEqualTo(b);
        assertThat(a.key()).isEqualTo("shop/web/nginx");
        assertThat(a.namespace()).isEqualTo("shop");
        assertThat(a.workload()).isEqualTo("web");
        assertThat(a.container()).isEqualTo("nginx");
    }

    @Test
    void of_outsideKubernetes_imageRepositoryAndName() {
        ContainerInfo i = info("ccc", "unknown", "unknown", "cache", "registry.local:5000/team/redis:7.2@sha256:abc", "unknown");
        assertThat(ProfileKey.of(i, "workload").key()).isEqualTo("registry.local:5000/team/redis:cache");
        assertThat(ProfileKey.of(i, "image").key()).isEqualTo("registry.local:5000/team/redis:cache");
        assertThat(ProfileKey.of(i, "container").key()).isEqualTo("ccc");
    }

    @Test
    void of_unknownImageOutsideKubernetes_fallsBackToContainerId() {
        ContainerInfo i = info("ddd", "unknown", "unknown", "unknown", "unknown", "unknown");
        assertThat(ProfileKey.of(i, "workload").key()).isEqualTo("ddd");
    }

    @Test
    void of_kubernetesWithoutOwner_usesPodName() {
        assertThat(ProfileKey.of(info("e", "ops", "debug-pod", "sh", "busybox", "unknown"), "workload").key())
                .isEqualTo("ops/debug-pod/sh");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../etc/passwd", "..", ".hidden", "a/../../b", "nul\0byte/x", "new\nline", "/abs/path",
            "C:\\windows", "ü/ñ/ж", "*?<>|\"'", " "})
    void fileName_hostileKeys_areSafe(String key) {
        String f = new ProfileKey(key, "", "w", "c").fileName();
        assertSafe(f);
    }

    @Test
    void fileName_longKeyIsBoundedAndDistinct() {
        String k1 = "a".repeat(4096), k2 = "a".repeat(4095) + "b";
        ProfileKey p1 = new ProfileKey(k1, "", "w", "c"), p2 = new ProfileKey(k2, "", "w", "c");
        assertThat(p1.key().length()).isLessThanOrEqualTo(ProfileKey.MAX_KEY);
        assertThat(p1.key()).isNotEqualTo(p2.key());
        assertSafe(p1.fileName());
        assertThat(p1.fileName()).isNotEqualTo(p2.fileName());
    }

    @Test
    void fileName_readableAndDistinctForSimilarKeys() {
        String a = new ProfileKey("shop/web/nginx", "shop", "web", "nginx").fileName();
        String b = new ProfileKey("shop_web/nginx", "shop", "web", "nginx").fileName();
        assertThat(a).startsWith("shop_web_nginx-").endsWith(".yaml");
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void key_controlCharactersAreReplaced() {
        assertThat(new ProfileKey("a\0b\nc", "", "", "").key()).isEqualTo("a?b?c");
    }

    private static void assertSafe(String f) {
        assertThat(f).doesNotContain("/", "\\", "..", "\0").doesNotStartWith(".").endsWith(".yaml");
        assertThat(f.length()).isLessThanOrEqualTo(100);
        assertThat(f).matches("[A-Za-z0-9._-]+");
    }
}
