#include <math.h>
#include "CPrivacyLossKernels.h"

// Standard C (C99): no fused multiply-add, so results match Swift's, which never contracts.
#pragma STDC FP_CONTRACT OFF

#ifndef M_PI  // POSIX, not ISO C
#define M_PI 3.14159265358979323846
#endif

double plk_normal_cdf(double x) {
    return 0.5 * erfc(-x / sqrt(2.0));
}

double plk_normal_log_cdf(double x) {
    if (x > 6) return log1p(-0.5 * erfc(x / sqrt(2.0)));
    if (x > -35) return log(0.5 * erfc(-x / sqrt(2.0)));
    // Asymptotic expansion of the Mills ratio; at |x| >= 35 the series' terms are < 1e-12.
    const double x2 = x * x;
    double term = 1.0, series = 1.0;
    for (int k = 1; k <= 8; k++) {
        term *= -(double)(2 * k - 1) / x2;
        series += term;
    }
    return -0.5 * x2 - log(-x) - 0.5 * log(2 * M_PI) + log(series);
}
