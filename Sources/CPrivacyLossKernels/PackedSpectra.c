#include "CPrivacyLossKernels.h"

// Standard C (C99): no fused multiply-add, so results match Swift's, which never contracts.
#pragma STDC FP_CONTRACT OFF

// Two lanes of doubles (GNU vector extension, which clang supports): A and B are raised to the
// power side by side, with exactly the scalar operations, one instruction for both.
typedef double double2 __attribute__((vector_size(16)));

void plk_packed_powers(const double *zr, const double *zi, double *wr, double *wi,
                       ptrdiff_t size, ptrdiff_t exponent, ptrdiff_t from, ptrdiff_t to) {
    const double2 two = {2, 2}, one = {1, 1}, zero = {0, 0};
    for (ptrdiff_t k = from; k < to; k++) {
        const ptrdiff_t m = (size - k) & (size - 1);
        // Lane 0: A = (Z[k] + conj(Z[m])) / 2; lane 1: B = (Z[k] - conj(Z[m])) / (2i).
        double2 br = {0.5 * (zr[k] + zr[m]), 0.5 * (zi[k] + zi[m])};
        double2 bi = {0.5 * (zi[k] - zi[m]), -0.5 * (zr[k] - zr[m])};
        // (rr, ri) = (A, B)^exponent by repeated squaring of (br, bi).
        double2 rr = one, ri = zero;
        for (ptrdiff_t e = exponent; e > 0;) {
            if (e & 1) {
                const double2 nr = rr * br - ri * bi;
                ri = rr * bi + ri * br;
                rr = nr;
            }
            e >>= 1;
            if (e > 0) {
                const double2 sr = br * br - bi * bi;
                bi = two * br * bi;
                br = sr;
            }
        }
        // W = A^T + i B^T.
        wr[k] = rr[0] - ri[1];
        wi[k] = ri[0] + rr[1];
    }
}

void plk_packed_product(const double *zr, const double *zi, double *wr, double *wi, ptrdiff_t size) {
    for (ptrdiff_t k = 0; k < size; k++) {
        const ptrdiff_t m = (size - k) & (size - 1);
        const double ar = 0.5 * (zr[k] + zr[m]), ai = 0.5 * (zi[k] - zi[m]);
        const double br = 0.5 * (zi[k] + zi[m]), bi = -0.5 * (zr[k] - zr[m]);
        wr[k] = ar * br - ai * bi;
        wi[k] = ar * bi + ai * br;
    }
}
