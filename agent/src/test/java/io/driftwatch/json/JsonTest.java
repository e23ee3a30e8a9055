package io.driftwatch.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class JsonTest {

    @Test
    void write_escapesAndKeepsOrder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", "line\n\"q\"\\\u0001");
        m.put("a", List.of(1, 2.5, true));
        m.put("n", null);
        assertThat(Json.write(m)).isEqualTo("{\"b\":\"line\\n\\\"q\\\"\\\\\\u0001\",\"a\":[1,2.5,true],\"n\":null}");
    }

    @Test
    void write_thenParse_roundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", "/tmp/\u00e9t\u00e9 \t x");
        m.put("count", 42);
        assertThat(Json.parseObject(Json.write(m))).isEqualTo(m);
    }

    @Test
    void parse_rejectsGarbageAndDeepNesting() {
        assertThatThrownBy(() -> Json.parseObject("{\"a\": ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("malformed JSON");
        assertThatThrownBy(() -> Json.parseObject("[1,2]")).hasMessageContaining("expected a JSON object");
        assertThatThrownBy(() -> Json.parse("[".repeat(100) + "]".repeat(100))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.parseObject("{\"a\":1,\"a\":2}")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parse_doesNotConstructArbitraryTypes() {
        assertThatThrownBy(() -> Json.parse("!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://x\"]]]]"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
