package io.driftwatch.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.container.CgroupPaths.Match;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class CgroupPathsTest {
    static final String ID = "3f1e5c4a9b2d7e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";
    static final String UID = "0b6d5c6e-1c5e-4c1e-9d6f-8a7b6c5d4e3f";
    static final String UID_ = "0b6d5c6e_1c5e_4c1e_9d6f_8a7b6c5d4e3f";

    /** path, id, runtime, pod uid, confirmed — cgroup strings as each runtime writes them. */
    static Stream<Arguments> containers() {
        return Stream.of(
                // docker, systemd driver (v2 and hybrid name=systemd) and cgroupfs driver (v1)
                Arguments.of("/system.slice/docker-" + ID + ".scope", ID, "docker", null, true),
                Arguments.of("/docker/" + ID, ID, "docker", null, true),
                Arguments.of("/system.slice/docker-" + ID + ".scope/init.scope", ID, "docker", null, true),
                // containerd: CRI systemd driver, plain /<namespace>/<id> (ctr, nerdctl, cgroupfs)
                Arguments.of("/system.slice/cri-containerd-" + ID + ".scope", ID, "containerd", null, true),
                Arguments.of("/k8s.io/" + ID, ID, "containerd", null, true),
                Arguments.of("/default/" + ID, ID, "containerd", null, true),
                // CRI-O
                Arguments.of("/machine.slice/crio-" + ID + ".scope", ID, "cri-o", null, true),
                // podman (systemd and cgroupfs managers)
                Arguments.of("/machine.slice/libpod-" + ID + ".scope", ID, "podman", null, true),
                Arguments.of("/libpod_parent/libpod-" + ID, ID, "podman", null, true),
                Arguments.of("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ID + ".scope/container",
                        ID, "podman", null, true),
                // plain runc: the id as the cgroup (this machine), and v1 memory nested under the caller's cgroup
                Arguments.of("/dwp-test", "dwp-test", "runc", null, false),
                Arguments.of("/process_api/01ad716f5555cd83a2d0d7fd6d591b14/c1", "c1", "runc", null, false),
                // Kubernetes, systemd driver: guaranteed, burstable, besteffort
                Arguments.of("/kubepods.slice/kubepods-pod" + UID_ + ".slice/cri-containerd-" + ID + ".scope", ID,
                        "containerd", UID, true),
                Arguments.of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_
                        + ".slice/cri-containerd-" + ID + ".scope", ID, "containerd", UID, true),
                Arguments.of("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + UID_
                        + ".slice/crio-" + ID + ".scope", ID, "cri-o", UID, true),
                Arguments.of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_
                        + ".slice/docker-" + ID + ".scope", ID, "docker", UID, true),
                // Kubernetes, cgroupfs driver (runtime then comes from the state dirs)
                Arguments.of("/kubepods/burstable/pod" + UID + "/" + ID, ID, ContainerInfo.UNKNOWN, UID, true),
                Arguments.of("/kubepods/besteffort/pod" + UID + "/" + ID, ID, ContainerInfo.UNKNOWN, UID, true),
                Arguments.of("/kubepods/pod" + UID + "/" + ID, ID, ContainerInfo.UNKNOWN, UID, true),
                Arguments.of("/kubepods/burstable/pod" + UID + "/crio-" + ID, ID, "cri-o", UID, true),
                // a 64-hex leaf under an unknown parent: candidate only
                Arguments.of("/some/deep/" + ID, ID, ContainerInfo.UNKNOWN, null, false));
    }

    @ParameterizedTest
    @MethodSource("containers")
    void parse_containerPaths(String path, String id, String runtime, String podUid, boolean confirmed) {
        Match m = CgroupPaths.parse(path);
        assertThat(m).as(path).isNotNull();
        assertThat(m.id()).isEqualTo(id);
        assertThat(m.runtime()).isEqualTo(runtime);
        assertThat(m.podUid()).isEqualTo(podUid);
        assertThat(m.confirmed()).isEqualTo(confirmed);
        assertThat(m.path()).isEqualTo(path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "", "/init.scope", "/system.slice/sshd.service", "/user.slice/user-0.slice/session-1.scope",
            "/machine.slice/crio-conmon-" + ID + ".scope", "/machine.slice/libpod-conmon-" + ID + ".scope",
            "/kubepods.slice", "/kubepods.slice/kubepods-burstable.slice",
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice", "/kubepods",
            "/kubepods/burstable", "/kubepods/burstable/pod" + UID, "/system.slice", "/..", "/a/../.."})
    void parse_hostAndExcluded_null(String path) {
        assertThat(CgroupPaths.parse(path)).as(path).isNull();
    }

    @org.junit.jupiter.api.Test
    void parse_hugePath_null() {
        assertThat(CgroupPaths.parse("/" + "a".repeat(5000))).isNull();
    }

    /** /proc/<pid>/cgroup files of v1, v2 and hybrid hosts: the preferred line wins. */
    static Stream<Arguments> files() {
        return Stream.of(
                Arguments.of("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_
                        + ".slice/cri-containerd-" + ID + ".scope\n", ID, "containerd"),
                Arguments.of("12:memory:/docker/" + ID + "\n1:name=systemd:/docker/" + ID + "\n0::/\n", ID, "docker"),
                Arguments.of("9:name=systemd:/dwp-x\n4:memory:/process_api/abc/dwp-x\n0::/dwp-x\n", "dwp-x", "runc"),
                Arguments.of("1:name=systemd:/system.slice/crio-" + ID + ".scope\n4:memory:/kubepods/burstable/pod" + UID
                        + "/crio-" + ID + "\n0::/\n", ID, "cri-o"),
                Arguments.of("4:memory:/process_api/abc\n0::/\n", "abc", "runc"));
    }

    @ParameterizedTest
    @MethodSource("files")
    void best_cgroupFiles(String file, String id, String runtime) {
        List<String> paths = io.driftwatch.proc.CgroupParser.attributionPaths(io.driftwatch.proc.CgroupParser.parse(file));
        Match m = CgroupPaths.best(paths);
        assertThat(m.id()).isEqualTo(id);
        assertThat(m.runtime()).isEqualTo(runtime);
    }
}
