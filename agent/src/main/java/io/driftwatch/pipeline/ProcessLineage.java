package io.driftwatch.pipeline;

/**
 * Process facts the learner and detector need about the process of an event, kept by the
 * process table (fed by exec/fork/exit events and /proc). Called on the pipeline thread.
 */
public interface ProcessLineage {

    /**
     * True when process {@code tgid} descends from the container's init process (pid 1 inside),
     * false for processes entered from outside (kubectl exec, runc exec) and their children.
     * Unknown processes are resolved through /proc; when even that fails, returns true only if
     * {@code ppid} is itself a known init descendant.
     */
    boolean isInitDescendant(ContainerState container, int tgid, int ppid);

    /** Executable path of a process as last exec'd (inside the container's view), or null. */
    String exe(int tgid);

    /** Executable path of the parent of {@code tgid}, or null. */
    String parentExe(int tgid);

    /** A lineage that knows nothing: every process counts as an init descendant. */
    ProcessLineage TRUSTING = new ProcessLineage() {
        @Override
        public boolean isInitDescendant(ContainerState container, int tgid, int ppid) {
            return true;
        }

        @Override
        public String exe(int tgid) {
            return null;
        }

        @Override
        public String parentExe(int tgid) {
            return null;
        }
    };
}
