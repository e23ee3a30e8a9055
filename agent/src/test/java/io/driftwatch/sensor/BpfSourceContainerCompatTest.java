package io.driftwatch.sensor;

import io.driftwatch.testsupport.Privileged;

/**
 * {@link BpfSourceContainerTest} on the compat programs (syscall arguments saved at sys_enter
 * for sys_exit), which kernels without bpf_task_pt_regs or bpf_rdonly_cast load instead of the
 * fast ones. This kernel has both, so the compat set is asked for (sources.bpf_compat).
 */
@Privileged(tools = {"runc", "nsenter", "ip"})
final class BpfSourceContainerCompatTest extends BpfSourceContainerTest {
    @Override
    boolean compat() {
        return true;
    }
}
