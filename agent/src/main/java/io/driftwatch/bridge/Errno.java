package io.driftwatch.bridge;

/** Names of the errno values the bridge returns (negated), for error messages. */
final class Errno {
    private Errno() {}

    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EINPROGRESS = 115;

    static String describe(int errno) {
        String s;
        switch (errno) {
            case 1: s = "EPERM (operation not permitted)"; break;
            case 2: s = "ENOENT (no such file, process or entry)"; break;
            case 3: s = "ESRCH (no such process)"; break;
            case 4: s = "EINTR (interrupted)"; break;
            case 9: s = "EBADF (bad file descriptor)"; break;
            case 11: s = "EAGAIN (try again)"; break;
            case 12: s = "ENOMEM (out of memory)"; break;
            case 13: s = "EACCES (permission denied)"; break;
            case 19: s = "ENODEV (source not running)"; break;
            case 20: s = "ENOTDIR (not a directory)"; break;
            case 22: s = "EINVAL (invalid argument)"; break;
            case 24: s = "EMFILE (too many open files)"; break;
            case 7: s = "E2BIG (argument list too long)"; break;
            case 17: s = "EEXIST (already exists)"; break;
            case 28: s = "ENOSPC (table full)"; break;
            case 71: s = "EPROTO (ABI version mismatch)"; break;
            case 95: s = "EOPNOTSUPP (not supported)"; break;
            default: s = "errno " + errno;
        }
        return s;
    }
}
