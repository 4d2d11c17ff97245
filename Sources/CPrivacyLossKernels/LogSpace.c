#include <math.h>
#include "CPrivacyLossKernels.h"

// Standard C (C99): no fused multiply-add, so results match Swift's, which never contracts.
#pragma STDC FP_CONTRACT OFF

double plk_log_add(double a, double b) {
    // Swift's min and max: min(a, b) = b < a ? b : a, max(a, b) = b >= a ? b : a.
    const double lo = b < a ? b : a, hi = b >= a ? b : a;
    if (lo == -INFINITY) return hi;
    return log1p(exp(lo - hi)) + hi;
}

double plk_log_abs_difference(double a, double b) {
    if (a > b) return a + log1p(-exp(b - a));
    if (a < b) return b + log1p(-exp(a - b));
    return -INFINITY;
}
