package io.driftwatch.deploy;

import static io.driftwatch.deploy.Repo.at;
import static io.driftwatch.deploy.Repo.list;
import static io.driftwatch.deploy.Repo.map;
import static io.driftwatch.deploy.Repo.maps;
import static io.driftwatch.deploy.Repo.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.driftwatch.Agent;
import io.driftwatch.config.AgentConfig;
import io.driftwatch.testsupport.Procs;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an operator checks before {@code kubectl apply -k deploy/kubernetes}: every document is
 * well formed and consistent with the others, the DaemonSet asks for exactly the documented
 * privileges, and the ConfigMap is a config the agent accepts.
 */
final class ManifestsTest {
    static final String DIR = "deploy/kubernetes";
    static final String NAMESPACE = "driftwatch";
    static final int HTTP_PORT = 9477;
    /** The capabilities docs/deploy.md justifies, one by one. */
    static final Set<String> CAPABILITIES = Set.of("BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE", "DAC_READ_SEARCH",
            "KILL", "SYS_ADMIN");
    /** Runtime API sockets: a hostPath that contains one gives root on the node, read-only or not. */
    static final List<String> RUNTIME_SOCKETS = List.of("/run/containerd/containerd.sock", "/run/crio/crio.sock",
            "/var/run/crio/crio.sock", "/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock",
            "/var/run/containerd/containerd.sock");
    static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding");

    static final Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
    static final List<Map<String, Object>> docs = new ArrayList<>();
    static Map<String, Object> kustomization;

    @BeforeAll
    static void load() {
        for (Path f : Repo.list(DIR, ".yaml")) {
            for (Map<String, Object> d : Repo.yamlDocuments(f)) {
                if (f.getFileName().toString().equals("kustomization.yaml")) {
                    kustomization = d;
                    continue;
                }
                d.put("__file", f.getFileName().toString());
                docs.add(d);
                byKind.merge(String.valueOf(d.get("kind")), d, (a, b) -> {
                    throw new AssertionError("more than one " + d.get("kind") + " (" + a.get("__file") + ", " + b.get("__file")
                            + "); the test expects one of each kind");
                });
            }
        }
        assertThat(kustomization).as("deploy/kubernetes/kustomization.yaml").isNotNull();
    }

    // ---- every document ---------------------------------------------------------------------

    @Test
    void everyDocument_hasApiVersionKindNameAndTheAgentsNamespace() {
        assertThat(byKind.keySet()).containsExactlyInAnyOrder("Namespace", "ServiceAccount", "ClusterRole",
                "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Service", "PodMonitor");
        for (Map<String, Object> d : docs) {
            String what = d.get("__file") + " " + d.get("kind");
            assertThat(str(d, "apiVersion")).as(what + " apiVersion").isNotBlank();
            assertThat(str(d, "metadata", "name")).as(what + " metadata.name").isNotBlank();
            assertThat(str(d, "metadata", "labels", "app.kubernetes.io/name")).as(what + " app label").isEqualTo("driftwatch");
            if (CLUSTER_SCOPED.contains(String.valueOf(d.get("kind")))) {
                assertThat(at(d, "metadata", "namespace")).as(what + " is cluster-scoped").isNull();
            } else {
                assertThat(str(d, "metadata", "namespace")).as(what + " namespace").isEqualTo(NAMESPACE);
            }
        }
        assertThat(str(byKind.get("Namespace"), "metadata", "name")).isEqualTo(NAMESPACE);
        assertThat(str(byKind.get("Namespace"), "metadata", "labels", "pod-security.kubernetes.io/enforce"))
                .as("hostPID, hostPath and added capabilities need the privileged Pod Security level").isEqualTo("privileged");
    }

    @Test
    void kustomization_listsEveryManifestAndNothingElse() {
        assertThat(str(kustomization, "namespace")).isEqualTo(NAMESPACE);
        Set<String> files = new TreeSet<>();
        for (Path f : Repo.list(DIR, ".yaml")) files.add(f.getFileName().toString());
        files.remove("kustomization.yaml");
        Set<String> listed = new TreeSet<>();
        for (Object r : list(kustomization, "resources")) listed.add(String.valueOf(r));
        assertThat(listed).isEqualTo(files);
    }

    @Test
    void image_isTheAgentVersion_inTheDaemonSetAndTheKustomization() {
        String image = str(container(), "image");
        assertThat(image).isEqualTo("driftwatch-agent:" + Agent.VERSION);
        Map<String, Object> entry = maps(kustomization, "images").stream()
                .filter(i -> "driftwatch-agent".equals(i.get("name"))).findFirst().orElseThrow();
        assertThat(str(entry, "newTag")).isEqualTo(Agent.VERSION);
    }

    // ---- DaemonSet --------------------------------------------------------------------------

    @Test
    void daemonSet_selectorMatchesTemplateLabels_andRunsInTheHostPidNamespace() {
        Map<String, Object> ds = byKind.get("DaemonSet");
        Map<String, Object> selector = map(ds, "spec", "selector", "matchLabels");
        assertThat(selector).isNotEmpty();
        assertThat(map(ds, "spec", "template", "metadata", "labels")).containsAllEntriesOf(selector);
        assertThat(at(podSpec(), "hostPID")).isEqualTo(true);
        assertThat(at(podSpec(), "hostNetwork")).as("the agent does not need the host network").isIn(null, false);
        assertThat(str(podSpec(), "serviceAccountName")).isEqualTo(str(byKind.get("ServiceAccount"), "metadata", "name"));
        assertThat(maps(podSpec(), "containers")).hasSize(1);
        assertThat(maps(podSpec(), "initContainers")).isEmpty();
    }

    @Test
    void daemonSet_capabilitiesAreExactlyTheDocumentedSet_andNothingIsPrivileged() {
        Map<String, Object> sc = map(container(), "securityContext");
        assertThat(at(sc, "privileged")).isIn(null, false);
        assertThat(at(podSpec(), "securityContext", "privileged")).isIn(null, false);
        assertThat(list(sc, "capabilities", "drop")).containsExactly("ALL");
        assertThat(new TreeSet<>(strings(list(sc, "capabilities", "add")))).isEqualTo(new TreeSet<>(CAPABILITIES));
        assertThat(list(sc, "capabilities", "add")).doesNotHaveDuplicates();
        assertThat(at(sc, "readOnlyRootFilesystem")).isEqualTo(true);
        String docs = Repo.read("docs/deploy.md");
        for (String cap : CAPABILITIES) {
            assertThat(docs).as("docs/deploy.md justifies CAP_" + cap).contains("`CAP_" + cap + "`");
        }
    }

    @Test
    void daemonSet_portAndProbes_useTheHttpPort() {
        List<Map<String, Object>> ports = maps(container(), "ports");
        assertThat(ports).hasSize(1);
        assertThat(at(ports.get(0), "containerPort")).isEqualTo(HTTP_PORT);
        assertThat(str(ports.get(0), "name")).isEqualTo("metrics");
        Map<String, String> expected = Map.of("livenessProbe", "/healthz", "readinessProbe", "/readyz",
                "startupProbe", "/healthz");
        expected.forEach((probe, path) -> {
            Map<String, Object> get = map(container(), probe, "httpGet");
            assertThat(str(get, "path")).as(probe + " path").isEqualTo(path);
            Object port = get.get("port");
            assertThat(port).as(probe + " port names or numbers the container's port")
                    .isIn(ports.get(0).get("name"), ports.get(0).get("containerPort"));
        });
    }

    @Test
    void daemonSet_configAndToken_comeFromTheConfigMapAndTheSecret() {
        Map<String, Object> vols = volumes();
        Map<String, Object> mounts = mounts();
        // --config FILE points into the ConfigMap volume, at the ConfigMap's key
        List<String> args = strings(list(container(), "args"));
        assertThat(args).hasSize(2).startsWith("--config");
        String configMount = mountPathOf(vol -> at(vol, "configMap") != null);
        assertThat(args.get(1)).isEqualTo(configMount + "/config.yaml");
        String cmName = str(vols.values().stream().filter(v -> at(v, "configMap") != null).findFirst().orElseThrow(),
                "configMap", "name");
        assertThat(cmName).isEqualTo(str(byKind.get("ConfigMap"), "metadata", "name"));
        assertThat(map(byKind.get("ConfigMap"), "data")).containsKey("config.yaml");
        // http.token_file lies in the Secret volume
        String secretMount = mountPathOf(vol -> at(vol, "secret") != null);
        assertThat(config().get(AgentConfig.HTTP_TOKEN_FILE)).isEqualTo(Path.of(secretMount, "token"));
        String secretName = str(vols.values().stream().filter(v -> at(v, "secret") != null).findFirst().orElseThrow(),
                "secret", "secretName");
        assertThat(Repo.read("docs/deploy.md")).as("docs tell how to create the token Secret")
                .contains("create secret generic " + secretName).contains("--from-file=token=");
        // NODE_NAME from the downward API
        Map<String, Object> nodeName = maps(container(), "env").stream().filter(e -> "NODE_NAME".equals(e.get("name")))
                .findFirst().orElseThrow();
        assertThat(str(nodeName, "valueFrom", "fieldRef", "fieldPath")).isEqualTo("spec.nodeName");
        assertThat(mounts).isNotEmpty();
    }

    @Test
    void daemonSet_hostMounts_areTheDocumentedOnes_readOnlyWhereTheAgentOnlyReads() {
        Map<String, Object> vols = volumes();
        Map<String, String> hostToMount = new LinkedHashMap<>();
        Map<String, Boolean> readOnly = new LinkedHashMap<>();
        for (Map<String, Object> m : maps(container(), "volumeMounts")) {
            String vol = str(m, "name");
            assertThat(vols).as("volumeMount " + vol + " has a volume").containsKey(vol);
            String host = str(vols.get(vol), "hostPath", "path");
            if (host == null) continue;
            hostToMount.put(host, str(m, "mountPath"));
            readOnly.put(host, Boolean.TRUE.equals(m.get("readOnly")));
        }
        assertThat(hostToMount).containsEntry("/proc", "/host/proc").containsEntry("/sys/fs/cgroup", "/sys/fs/cgroup")
                .containsEntry("/sys/kernel/tracing", "/sys/kernel/tracing").containsEntry("/sys/fs/bpf", "/sys/fs/bpf")
                .containsEntry("/sys/kernel/btf", "/sys/kernel/btf")
                .containsEntry("/var/lib/driftwatch/profiles", "/var/lib/driftwatch/profiles");
        // the agent writes profiles, cgroup freezer files, bpffs pins and tracefs probe events; it only reads the rest
        Set<String> writable = Set.of("/var/lib/driftwatch/profiles", "/sys/fs/cgroup", "/sys/fs/bpf", "/sys/kernel/tracing");
        readOnly.forEach((host, ro) -> assertThat(ro).as(host + " read-only").isEqualTo(!writable.contains(host)));
        // the config points at the mounts
        AgentConfig c = config();
        assertThat(c.get(AgentConfig.PROCFS_ROOT)).isEqualTo(Path.of(hostToMount.get("/proc")));
        assertThat(c.get(AgentConfig.CGROUP_ROOT)).isEqualTo(Path.of(hostToMount.get("/sys/fs/cgroup")));
        assertThat(c.get(AgentConfig.PROFILES_DIR)).isEqualTo(Path.of(hostToMount.get("/var/lib/driftwatch/profiles")));
        // every runtime state directory the agent reads is mounted, at the same path
        for (String dir : c.get(AgentConfig.RUNTIME_STATE_DIRS).split(",")) {
            assertThat(hostToMount).as("runtime state dir " + dir + " is mounted").containsEntry(dir, dir);
        }
        // no runtime API socket reaches the agent: a read-only bind mount does not stop connect()
        for (String host : hostToMount.keySet()) {
            for (String sock : RUNTIME_SOCKETS) {
                assertThat(sock.startsWith(host.endsWith("/") ? host : host + "/"))
                        .as("hostPath " + host + " exposes " + sock).isFalse();
            }
        }
        String docs = Repo.read("docs/deploy.md");
        for (String host : hostToMount.keySet()) {
            assertThat(docs).as("docs/deploy.md explains the mount of " + host).contains("`" + host + "`");
        }
    }

    @Test
    void daemonSet_resources_requestCpuAndMemory_limitMemoryOnly() {
        Map<String, Object> r = map(container(), "resources");
        assertThat(map(r, "requests")).containsKeys("cpu", "memory");
        assertThat(map(r, "limits")).containsKey("memory").doesNotContainKey("cpu");
    }

    // ---- ConfigMap --------------------------------------------------------------------------

    @Test
    void configMap_isAConfigTheAgentAccepts_listeningOnThePodIpWithAToken() {
        AgentConfig c = config();
        InetSocketAddress listen = c.get(AgentConfig.HTTP_LISTEN);
        assertThat(listen.getHostString()).isEqualTo("0.0.0.0");
        assertThat(listen.getPort()).isEqualTo(HTTP_PORT);
        assertThat(c.get(AgentConfig.HTTP_TOKEN_FILE)).isNotNull();
        assertThat(c.get(AgentConfig.PROCFS_ROOT)).isEqualTo(Path.of("/host/proc"));
        assertThat(c.get(AgentConfig.RESPONSE_DRY_RUN)).as("the shipped config starts in dry-run (rollout step 1)").isTrue();
    }

    // ---- Service and PodMonitor -------------------------------------------------------------

    @Test
    void service_isHeadless_andExposesTheContainerPortAsMetrics() {
        Map<String, Object> svc = byKind.get("Service");
        assertThat(str(svc, "spec", "clusterIP")).isEqualTo("None");
        assertThat(map(byKind.get("DaemonSet"), "spec", "template", "metadata", "labels"))
                .containsAllEntriesOf(map(svc, "spec", "selector"));
        List<Map<String, Object>> ports = maps(svc, "spec", "ports");
        assertThat(ports).hasSize(1);
        assertThat(str(ports.get(0), "name")).isEqualTo("metrics");
        assertThat(at(ports.get(0), "port")).isEqualTo(HTTP_PORT);
        assertThat(at(ports.get(0), "targetPort")).isIn("metrics", HTTP_PORT);
    }

    @Test
    void podMonitor_scrapesOpenMetrics_withJobDriftwatch_andTheAgentsOwnLabels() {
        Map<String, Object> pm = byKind.get("PodMonitor");
        assertThat(str(pm, "apiVersion")).isEqualTo("monitoring.coreos.com/v1");
        Map<String, Object> podLabels = map(byKind.get("DaemonSet"), "spec", "template", "metadata", "labels");
        assertThat(podLabels).containsAllEntriesOf(map(pm, "spec", "selector", "matchLabels"));
        // the alert rules select job="driftwatch": the job is the value of the pod label named by jobLabel
        assertThat(podLabels.get(str(pm, "spec", "jobLabel"))).isEqualTo("driftwatch");
        assertThat(list(pm, "spec", "namespaceSelector", "matchNames")).containsExactly(NAMESPACE);
        List<Map<String, Object>> eps = maps(pm, "spec", "podMetricsEndpoints");
        assertThat(eps).hasSize(1);
        Map<String, Object> ep = eps.get(0);
        assertThat(str(ep, "port")).isEqualTo(str(maps(container(), "ports").get(0), "name"));
        assertThat(str(ep, "path")).isEqualTo("/metrics");
        assertThat(at(ep, "honorLabels")).as("the agent's namespace label names the watched workload").isEqualTo(true);
        assertThat(ep).as("/metrics needs no token").doesNotContainKeys("bearerTokenSecret", "authorization", "basicAuth");
    }

    // ---- RBAC -------------------------------------------------------------------------------

    @Test
    void rbac_onlyReadsPodsAndTheirOwners() {
        Map<String, Set<String>> granted = new LinkedHashMap<>();
        for (Map<String, Object> rule : maps(byKind.get("ClusterRole"), "rules")) {
            assertThat(rule).as("no nonResourceURLs or resourceNames tricks").containsOnlyKeys("apiGroups", "resources", "verbs");
            assertThat(strings(list(rule, "verbs"))).isSubsetOf("get", "list", "watch");
            for (String g : strings(list(rule, "apiGroups"))) {
                for (String r : strings(list(rule, "resources"))) {
                    granted.computeIfAbsent(g, k -> new TreeSet<>()).add(r);
                }
            }
        }
        assertThat(granted).isEqualTo(Map.of("", Set.of("pods"), "apps", Set.of("replicasets"), "batch", Set.of("jobs")));
        Map<String, Object> binding = byKind.get("ClusterRoleBinding");
        assertThat(str(binding, "roleRef", "kind")).isEqualTo("ClusterRole");
        assertThat(str(binding, "roleRef", "name")).isEqualTo(str(byKind.get("ClusterRole"), "metadata", "name"));
        List<Map<String, Object>> subjects = maps(binding, "subjects");
        assertThat(subjects).hasSize(1);
        assertThat(str(subjects.get(0), "kind")).isEqualTo("ServiceAccount");
        assertThat(str(subjects.get(0), "name")).isEqualTo(str(byKind.get("ServiceAccount"), "metadata", "name"));
        assertThat(str(subjects.get(0), "namespace")).isEqualTo(NAMESPACE);
    }

    // ---- kubectl (on machines of this kind from their image; CI=true fails without it) -------

    @Test
    @io.driftwatch.testsupport.Privileged(tools = {"kubectl"})
    void kubectl_kustomizeBuildsEveryDocument() {
        Procs.Result r = Procs.run(60_000, List.of("kubectl", "kustomize", Repo.path(DIR).toString()));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        Set<String> kinds = new LinkedHashSet<>();
        for (Object d : new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(
                new org.yaml.snakeyaml.LoaderOptions())).loadAll(r.stdout())) {
            kinds.add(str(d, "kind"));
        }
        assertThat(kinds).isEqualTo(byKind.keySet());
    }

    // ---- helpers ----------------------------------------------------------------------------

    static Map<String, Object> podSpec() {
        return map(byKind.get("DaemonSet"), "spec", "template", "spec");
    }

    static Map<String, Object> container() {
        return maps(podSpec(), "containers").get(0);
    }

    static AgentConfig config() {
        String text = str(byKind.get("ConfigMap"), "data", "config.yaml");
        assertThat(text).isNotBlank();
        AgentConfig[] c = new AgentConfig[1];
        assertThatCode(() -> c[0] = AgentConfig.builder().yaml(text, "configmap.yaml").build()).doesNotThrowAnyException();
        return c[0];
    }

    static Map<String, Object> volumes() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map<String, Object> v : maps(podSpec(), "volumes")) out.put(str(v, "name"), v);
        return out;
    }

    static Map<String, Object> mounts() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map<String, Object> m : maps(container(), "volumeMounts")) out.put(str(m, "name"), m);
        return out;
    }

    static String mountPathOf(java.util.function.Predicate<Object> volumeKind) {
        Map<String, Object> vols = volumes();
        List<String> paths = new ArrayList<>();
        for (Map<String, Object> m : maps(container(), "volumeMounts")) {
            if (volumeKind.test(vols.get(str(m, "name")))) paths.add(str(m, "mountPath"));
        }
        assertThat(paths).hasSize(1);
        return paths.get(0);
    }

    static List<String> strings(List<Object> l) {
        List<String> out = new ArrayList<>();
        for (Object o : l) out.add(String.valueOf(o));
        return out;
    }
}
