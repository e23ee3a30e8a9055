package io.driftwatch.profile;

/**
 * What a profile does with deviations. {@code learning} never alerts; {@code monitor} alerts;
 * {@code enforce} lets the responder act. learning → monitor happens automatically on convergence
 * when {@code learning.auto_promote} is on; monitor → enforce only by an operator.
 */
public enum Mode {
    LEARNING, MONITOR, ENFORCE;

    public String text() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Mode parse(String s) {
        if (s == null) return null;
        for (Mode m : values()) if (m.text().equals(s)) return m;
        return null;
    }
}
