package io.driftwatch.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

final class PathPatternTest {

    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource(delimiter = '|', value = {
        "/etc/nginx/nginx.conf|/etc/nginx/nginx.conf|true",
        "/etc/nginx/nginx.conf|/etc/nginx/nginx.conf2|false",
        "/proc/[pid]/stat|/proc/1234/stat|true",
        "/proc/[pid]/stat|/proc/self/stat|true",
        "/proc/[pid]/stat|/proc/thread-self/stat|true",
        "/proc/[pid]/stat|/proc/sys/stat|false",
        "/proc/[pid]/stat|/proc//stat|false",
        "/var/lib/redis/temp-[num].rdb|/var/lib/redis/temp-1234.rdb|true",
        "/var/lib/redis/temp-[num].rdb|/var/lib/redis/temp-.rdb|false",
        "/var/lib/redis/temp-[num].rdb|/var/lib/redis/temp-12a.rdb|false",
        "/pg_wal/[hex]|/pg_wal/00000001000000000000000A|true",
        "/pg_wal/[hex]|/pg_wal/0000000G|false",
        "/base/[num]/[num].[num]|/base/16384/16397.1|true",
        "/run/[uuid].sock|/run/6f1c2a9e-3b7d-4c5e-9a8b-0d1e2f3a4b5c.sock|true",
        "/run/[uuid].sock|/run/6f1c2a9e-3b7d-4c5e-9a8b-0d1e2f3a4b5.sock|false",
        "/log/app-[date].log|/log/app-2024-01-31.log|true",
        "/log/app-[date].log|/log/app-2024-01-31T10:11:12.log|true",
        "/log/app-[date].log|/log/app-2024-1-31.log|false",
        "/cache/*/x|/cache/ab/x|true",
        "/cache/*/x|/cache/a/b/x|false",
        "/cache/*|/cache/|true",
        "/a/*.conf|/a/b.conf|true",
        "/a/*.conf|/a/b.confx|false",
        "/usr/share/**|/usr/share/zoneinfo/Europe/Paris|true",
        "/usr/share/**|/usr/share|true",
        "/usr/share/**|/usr/lib/x|false",
        "/a/**/z|/a/z|true",
        "/a/**/z|/a/b/c/z|true",
        "/a/**/z|/a/b/c/y|false",
        "/data/a\\*b|/data/a*b|true",
        "/data/a\\*b|/data/axb|false",
        "/data/\\[num]|/data/[num]|true",
        "/data/\\[num]|/data/12|false",
    })
    void matches_table(String pattern, String path, boolean expected) {
        PathPattern p = PathPattern.compile(pattern);
        assertThat(p.matches(path)).isEqualTo(expected);
        // in place, at an offset inside a larger buffer
        byte[] b = path.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocateDirect(b.length + 20);
        buf.put(7, b);
        assertThat(p.matches(buf, 7, b.length)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "relative/path|must start with '/'",
        "/a/[bogus]|unknown class [bogus]",
        "/a/x**|'**' must be a whole path segment",
        "/a/[num|'[' without ']'",
        "/a/b\\|dangling escape",
    })
    void compile_invalid(String pattern, String message) {
        assertThatThrownBy(() -> PathPattern.compile(pattern)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void escape_roundTripsAnyPathToAnExactPattern() {
        for (String raw : new String[] {"/a/b", "/we[ird]/*star*/back\\slash", "/x/[num]"}) {
            PathPattern p = PathPattern.compile(PathPattern.escape(raw));
            assertThat(p.isLiteral()).isTrue();
            assertThat(p.literalPath()).isEqualTo(raw);
            assertThat(p.matches(raw)).isTrue();
        }
        assertThat(PathPattern.compile("/proc/[pid]/stat").isLiteral()).isFalse();
    }
}
