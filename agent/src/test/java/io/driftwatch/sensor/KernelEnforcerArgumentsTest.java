package io.driftwatch.sensor;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.bridge.BridgeLayout;
import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Java side's argument checks of KernelEnforcer and NetGuard: no bridge, no privileges. */
final class KernelEnforcerArgumentsTest {
    @ParameterizedTest
    @CsvSource({"10.0.0.1, 33, 80, 6, prefix length 33 out of 0..32", "::1, 129, 80, 6, prefix length 129 out of 0..128",
            "10.0.0.1, -1, 80, 6, prefix length -1", "10.0.0.1, 32, 65536, 6, port 65536 out of 0..65535",
            "10.0.0.1, 32, -1, 6, port -1", "10.0.0.1, 32, 80, 1, protocol 1 is not TCP"})
    void checkConnect_rejects(String addr, int prefix, int port, int proto, String message) throws Exception {
        InetAddress a = InetAddress.getByName(addr);
        assertThatThrownBy(() -> NetGuard.checkConnect(a, prefix, port, proto)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @ParameterizedTest
    @CsvSource({"10.0.0.0, 8, 0, 0", "10.0.0.1, 32, 65535, 17", "::, 0, 443, 6", "fd00::1, 128, 53, 17", "0.0.0.0, 0, 0, 6"})
    void checkConnect_accepts(String addr, int prefix, int port, int proto) throws Exception {
        InetAddress a = InetAddress.getByName(addr);
        assertThatCode(() -> NetGuard.checkConnect(a, prefix, port, proto)).doesNotThrowAnyException();
    }

    @Test
    void checkConnect_null_address() {
        assertThatThrownBy(() -> NetGuard.checkConnect(null, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("null");
    }

    @Test
    void checkFlags_unknown_bits() {
        assertThatCode(() -> NetGuard.checkFlags(BridgeLayout.NET_ALL | BridgeLayout.NET_ALLOW_LOOPBACK)).doesNotThrowAnyException();
        assertThatCode(() -> NetGuard.checkFlags(0)).doesNotThrowAnyException();
        assertThatThrownBy(() -> NetGuard.checkFlags(1 << 20)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void checkCgroup_refuses_root_zero_and_self() {
        assertThatThrownBy(() -> KernelEnforcer.checkCgroup(0, 4242)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KernelEnforcer.checkCgroup(1, 4242)).hasMessageContaining("root cgroup");
        assertThatThrownBy(() -> KernelEnforcer.checkCgroup(4242, 4242)).hasMessageContaining("agent's own cgroup");
        assertThatCode(() -> KernelEnforcer.checkCgroup(4243, 4242)).doesNotThrowAnyException();
        assertThatCode(() -> KernelEnforcer.checkCgroup(44, -1)).doesNotThrowAnyException();
    }

    @Test
    void checkFile_refuses_inode_zero_and_negative_dev() {
        assertThatThrownBy(() -> KernelEnforcer.checkFile(0x800001, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KernelEnforcer.checkFile(-1, 12)).isInstanceOf(IllegalArgumentException.class);
        assertThatCode(() -> KernelEnforcer.checkFile(0, 12)).doesNotThrowAnyException();
    }

    @Test
    void checkCgroupDir_needs_an_existing_absolute_directory(@TempDir Path tmp) {
        assertThatThrownBy(() -> KernelEnforcer.checkCgroupDir(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KernelEnforcer.checkCgroupDir(Path.of("relative/dir"))).hasMessageContaining("absolute");
        assertThatThrownBy(() -> KernelEnforcer.checkCgroupDir(tmp.resolve("missing"))).hasMessageContaining("does not exist");
        assertThatCode(() -> KernelEnforcer.checkCgroupDir(tmp)).doesNotThrowAnyException();
    }
}
