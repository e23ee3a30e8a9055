package io.driftwatch.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java constants cannot drift from the C header: {@code make layout-check} passes on the
 * committed files and fails on a header whose layout changed; and an independent C program
 * (offsetof/sizeof, written here, not by layoutgen) agrees with {@link EventLayout}.
 * Needs make and a C compiler, not root.
 */
@Privileged(tools = {"make", "cc"})
final class LayoutCheckTest {
    private static final Path NATIVE = NativeBuild.repo().resolve("native");

    @Test
    void layoutCheck_passes_on_the_committed_files() {
        Procs.Result r = Procs.run(120_000, List.of("make", "-s", "-C", NATIVE.toString(), "layout-check"));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
    }

    @Test
    void layoutCheck_fails_when_the_header_changes(@TempDir Path tmp) throws Exception {
        Path inc = tmp.resolve("include");
        Files.createDirectories(inc);
        try (Stream<Path> s = Files.list(NATIVE.resolve("include"))) {
            for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, inc.resolve(p.getFileName()));
        }
        // swap two fields of the same size: every size (and _Static_assert) stays, two offsets move
        Path h = inc.resolve("dw_event.h");
        String src = Files.readString(h);
        String swapped = src.replace("\t__u32 pid;           /* thread id */\n\t__u32 tgid;          /* process id */\n",
                "\t__u32 tgid;          /* process id */\n\t__u32 pid;           /* thread id */\n");
        assertThat(swapped).as("test edit applied").isNotEqualTo(src);
        Files.writeString(h, swapped);

        Procs.Result r = Procs.run(120_000, List.of("make", "-s", "-C", NATIVE.toString(), "layout-check",
                "INCLUDE=" + inc, "OUTPUT=" + tmp.resolve("out")));
        assertThat(r.exitCode()).as("layout-check on a changed header").isNotZero();
        assertThat(r.stderr()).contains("EventLayout.java is out of date");
        Procs.Result gen = Procs.run(10_000, List.of(tmp.resolve("out/layoutgen").toString(), "event"));
        assertThat(gen.stdout()).contains("HDR_PID = " + EventLayout.HDR_TGID + ";");
    }

    @Test
    void independent_offsetof_program_agrees_with_EventLayout(@TempDir Path tmp) throws Exception {
        Map<String, String> expr = new LinkedHashMap<>();
        String[][] structs = {{"HDR", "dw_hdr"}, {"EXEC", "dw_exec"}, {"EXIT", "dw_exit"}, {"FORK", "dw_fork"},
                {"FILE", "dw_file"}, {"NET", "dw_net"}};
        for (String[] s : structs) expr.put(s[0] + "_SIZE", "sizeof(struct " + s[1] + ")");
        String[][] fields = {{"HDR_OP", "dw_hdr", "op"}, {"HDR_FLAGS", "dw_hdr", "flags"}, {"HDR_RECORD_SIZE", "dw_hdr", "size"},
                {"HDR_KTIME_NS", "dw_hdr", "ktime_ns"}, {"HDR_CGROUP_ID", "dw_hdr", "cgroup_id"},
                {"HDR_CGROUP_V1_ID", "dw_hdr", "cgroup_v1_id"}, {"HDR_PID", "dw_hdr", "pid"}, {"HDR_TGID", "dw_hdr", "tgid"},
                {"HDR_PPID", "dw_hdr", "ppid"}, {"HDR_CPU", "dw_hdr", "cpu"}, {"HDR_SEQ", "dw_hdr", "seq"},
                {"HDR_COMM", "dw_hdr", "comm"}, {"EXEC_FILENAME_LEN", "dw_exec", "filename_len"},
                {"EXEC_ARGV_LEN", "dw_exec", "argv_len"}, {"EXEC_EXE_INO", "dw_exec", "exe_ino"},
                {"EXEC_EXE_DEV", "dw_exec", "exe_dev"}, {"EXEC_DATA", "dw_exec", "data"}, {"EXIT_CODE", "dw_exit", "exit_code"},
                {"FORK_CHILD_TGID", "dw_fork", "child_tgid"}, {"FILE_RET", "dw_file", "ret"}, {"FILE_ACCESS", "dw_file", "access"},
                {"FILE_PATH_LEN", "dw_file", "path_len"}, {"FILE_DEV", "dw_file", "dev"}, {"FILE_INO", "dw_file", "ino"},
                {"FILE_PATH", "dw_file", "path"}, {"NET_FAMILY", "dw_net", "family"}, {"NET_PROTO", "dw_net", "proto"},
                {"NET_LPORT", "dw_net", "lport"}, {"NET_RPORT", "dw_net", "rport"}, {"NET_LADDR", "dw_net", "laddr"},
                {"NET_RADDR", "dw_net", "raddr"}, {"SUPP_K0", "dw_supp_key", "k0"}, {"SUPP_K2", "dw_supp_key", "k2"}};
        for (String[] f : fields) expr.put(f[0], "offsetof(struct " + f[1] + ", " + f[2] + ")");
        StringBuilder c = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include \"dw_event.h\"\nint main(void){\n");
        for (Map.Entry<String, String> e : expr.entrySet()) {
            c.append("printf(\"%s=%zu\\n\", \"").append(e.getKey()).append("\", (size_t)(").append(e.getValue()).append("));\n");
        }
        c.append("return 0;}\n");
        Path src = tmp.resolve("offsets.c");
        Files.writeString(src, c.toString());
        Procs.run(60_000, List.of("cc", "-I" + NATIVE.resolve("include"), "-o", tmp.resolve("offsets").toString(),
                src.toString())).orThrow();
        String out = Procs.run(10_000, List.of(tmp.resolve("offsets").toString())).orThrow().stdout();
        List<String> mismatches = new ArrayList<>();
        for (String line : out.strip().split("\n")) {
            String[] kv = line.split("=");
            int java = EventLayout.class.getField(kv[0]).getInt(null);
            if (java != Integer.parseInt(kv[1])) mismatches.add(kv[0] + ": C " + kv[1] + ", Java " + java);
        }
        assertThat(out.strip().split("\n")).hasSize(expr.size());
        assertThat(mismatches).isEmpty();
    }
}
