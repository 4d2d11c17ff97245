#include <math.h>
#include "CPrivacyLossKernels.h"

// Standard C (C99): no fused multiply-add, so results match Swift's, which never contracts.
#pragma STDC FP_CONTRACT OFF

// Swift's min(x, y) and max(x, y) (the same picks for equal values, NaN and signed zeros); macros,
// as unoptimised builds do not inline. Arguments are evaluated twice: pass plain values.
#define SWIFT_MIN(x, y) ((y) < (x) ? (y) : (x))
#define SWIFT_MAX(x, y) ((y) >= (x) ? (y) : (x))

/// Whether a and b agree to a relative 1e-9.
static int is_close(double a, double b) {
    const double fa = fabs(a), fb = fabs(b);
    return fabs(a - b) <= 1e-9 * SWIFT_MAX(fa, fb);
}

/// The largest x whose privacy loss under `g` is at least `loss`.
static double inverse_loss(PLKSubsampledGaussian g, double loss) {
    const double s2 = g.sigma * g.sigma;
    if (!g.add) {
        if (g.q == 1) return -0.5 - loss * s2;
        if (is_close(loss, g.log1m_q)) return INFINITY;
        // log(e^loss / q - (1/q - 1)).
        const double base = plk_log_abs_difference(loss - g.log_q, g.log_odds_inverse);
        return -0.5 - base * s2;
    }
    if (g.q == 1) return 1 + (-0.5 - loss * s2);
    if (is_close(loss, -g.log1m_q)) return -INFINITY;
    const double base = -plk_log_abs_difference(-loss - g.log_q, g.log_odds_inverse);
    return 1 + (-0.5 - base * s2);
}

/// The upper distribution's CDF at x and the log of the lower one's; Phi(x / sigma), needed by
/// both, is computed once.
static void cdfs(PLKSubsampledGaussian g, double x, double *upper, double *lower_log) {
    const double z = x * g.inverse_sigma;
    if (g.q == 1) {
        if (!g.add) {
            *upper = plk_normal_cdf(z + g.inverse_sigma);
            *lower_log = plk_normal_log_cdf(z);
        } else {
            *upper = plk_normal_cdf(z);
            *lower_log = plk_normal_log_cdf(z - g.inverse_sigma);
        }
        return;
    }
    const double phi = plk_normal_cdf(z);
    // log Phi(z) from phi where that is accurate; the tails need the log-CDF's own branches.
    const double log_phi = z > -35 && z <= 6 ? log(phi) : plk_normal_log_cdf(z);
    if (!g.add) {
        *upper = (1 - g.q) * phi + g.q * plk_normal_cdf(z + g.inverse_sigma);
        *lower_log = log_phi;
    } else {
        *upper = phi;
        *lower_log = plk_log_add(g.log1m_q + log_phi, g.log_q + plk_normal_log_cdf(z - g.inverse_sigma));
    }
}

/// The exact hockey-stick divergence of `g` at `epsilon`, clipped to [0, 1].
static double delta(PLKSubsampledGaussian g, double epsilon) {
    if (g.q < 1) {
        if (g.add && epsilon >= -g.log1m_q) return 0;
        if (!g.add && epsilon <= g.log1m_q) {
            const double d = -expm1(epsilon), clipped = SWIFT_MAX(0.0, d);
            return SWIFT_MIN(1.0, clipped);
        }
    }
    double upper, lower_log;
    cdfs(g, inverse_loss(g, epsilon), &upper, &lower_log);
    const double d = upper - exp(epsilon + lower_log), clipped = SWIFT_MAX(0.0, d);
    return SWIFT_MIN(1.0, clipped);
}

void plk_subsampled_gaussian_deltas(PLKSubsampledGaussian g, ptrdiff_t first, ptrdiff_t count,
                                    double interval, double *deltas) {
    for (ptrdiff_t i = 0; i < count; i++) {
        deltas[i] = delta(g, (double)(first + i) * interval);
    }
}

void plk_connect_the_dots(double *deltas, ptrdiff_t count, double interval, double *probabilities) {
    for (ptrdiff_t i = 1; i < count; i++) {
        if (deltas[i] > deltas[i - 1]) deltas[i] = deltas[i - 1];
    }
    const double em1 = expm1(interval), e = exp(interval), emm1 = expm1(-interval);
    double *probs = probabilities;
    probs[0] = 1 - deltas[0] + (deltas[1] - deltas[0]) / em1;
    for (ptrdiff_t i = 1; i < count - 1; i++) {
        const double next = deltas[i + 1] - deltas[i], previous = deltas[i] - deltas[i - 1];
        probs[i] = (next - previous * e) / em1;
    }
    probs[count - 1] = (deltas[count - 1] - deltas[count - 2]) / emm1;
    for (ptrdiff_t i = 0; i < count; i++) {
        if (probs[i] < 0) probs[i] = 0;
    }
}
