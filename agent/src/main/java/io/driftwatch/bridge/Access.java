package io.driftwatch.bridge;

import static io.driftwatch.bridge.EventLayout.*;

/** Names of dw_file.access bits, and their derivation from open(2) flags. */
public final class Access {
    private static final int O_ACCMODE = 3, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_TRUNC = 01000,
            O_APPEND = 02000, O_DIRECTORY = 0200000;

    private Access() {}

    /** The DW_ACC_* bits implied by open(2) flags. */
    public static int fromOpenFlags(int flags) {
        int acc;
        switch (flags & O_ACCMODE) {
            case O_WRONLY: acc = ACC_WRITE; break;
            case O_RDWR: acc = ACC_READ | ACC_WRITE; break;
            default: acc = ACC_READ;
        }
        if ((flags & O_CREAT) != 0) acc |= ACC_CREATE;
        if ((flags & O_TRUNC) != 0) acc |= ACC_TRUNC;
        if ((flags & O_APPEND) != 0) acc |= ACC_APPEND;
        if ((flags & O_DIRECTORY) != 0) acc |= ACC_DIRECTORY;
        return acc;
    }

    public static boolean isWrite(int access) {
        return (access & (ACC_WRITE | ACC_CREATE | ACC_TRUNC | ACC_APPEND)) != 0;
    }

    public static String describe(int access) {
        StringBuilder sb = new StringBuilder();
        if ((access & ACC_READ) != 0) sb.append('r');
        if ((access & ACC_WRITE) != 0) sb.append('w');
        if ((access & ACC_CREATE) != 0) sb.append('c');
        if ((access & ACC_TRUNC) != 0) sb.append('t');
        if ((access & ACC_APPEND) != 0) sb.append('a');
        if ((access & ACC_EXEC) != 0) sb.append('x');
        if ((access & ACC_DIRECTORY) != 0) sb.append('d');
        return sb.toString();
    }
}
