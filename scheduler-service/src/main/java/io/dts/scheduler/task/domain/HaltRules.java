package io.dts.scheduler.task.domain;

import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.dts.model.HaltRule;
import io.dts.model.ShardHalt;

/**
 * Reads a request's halt rule into what workers apply: {@code failures: N} halts at the N-th failed
 * item, {@code "X%"} when failed / itemsTotal reaches X % (so at ceil(X % of the items), and at least 1).
 */
final class HaltRules {

    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,6})?)%");
    private static final String FAILURES = "is a whole number of at least 1, or a percentage over 0 and at most 100 such as \"10%\"";

    private HaltRules() {
    }

    /** @return null for a request without a rule */
    static ShardHalt of(HaltRule rule, long itemsTotal) {
        if (rule == null) {
            return null;
        }
        if (!"soon".equals(rule.when()) && !"now".equals(rule.when())) {
            throw new InvalidTaskException("halt.when", "is \"soon\" (running items finish) or \"now\" (they are killed)");
        }
        String words = rule.when() + ",fail=";
        if (rule.failures() instanceof Integer || rule.failures() instanceof Long) {
            long failures = ((Number) rule.failures()).longValue();
            if (failures < 1) {
                throw new InvalidTaskException("halt.failures", FAILURES);
            }
            return new ShardHalt(words + failures, failures, rule.when().equals("now"));
        }
        Matcher percent = rule.failures() instanceof String text ? PERCENT.matcher(text) : null;
        if (percent == null || !percent.matches()) {
            throw new InvalidTaskException("halt.failures", FAILURES);
        }
        BigDecimal share = new BigDecimal(percent.group(1));
        if (share.signum() <= 0 || share.compareTo(BigDecimal.valueOf(100)) > 0) {
            throw new InvalidTaskException("halt.failures", FAILURES);
        }
        long threshold = Math.max(1, share.multiply(BigDecimal.valueOf(itemsTotal)).divide(BigDecimal.valueOf(100), 0,
                java.math.RoundingMode.CEILING).longValueExact());
        return new ShardHalt(words + rule.failures(), threshold, rule.when().equals("now"));
    }
}
