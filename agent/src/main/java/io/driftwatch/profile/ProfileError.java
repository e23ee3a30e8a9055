package io.driftwatch.profile;

import java.util.LinkedHashMap;
import java.util.Map;

/** A profile file that was rejected (or could not be written): the previous version stays in force. */
public record ProfileError(String file, int line, int column, String problem, long timeMs) {
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", file);
        if (line > 0) {
            m.put("line", line);
            m.put("column", column);
        }
        m.put("problem", problem);
        m.put("time", ProfileWriter.formatTime(timeMs));
        return m;
    }
}
