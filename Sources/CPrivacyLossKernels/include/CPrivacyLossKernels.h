#ifndef C_PRIVACY_LOSS_KERNELS_H
#define C_PRIVACY_LOSS_KERNELS_H

#include <stddef.h>

// DPAccounting's numeric inner loops (FFT convolution, the subsampled Gaussian's discretisation
// and the normal-distribution and log-space arithmetic they use), in C so that they run at close
// to full speed in debug builds too: SwiftPM compiles debug builds unoptimised, and unoptimised
// Swift runs such loops 5-10x slower than optimised (subscripts, generic min/max/abs and swaps are
// calls), unoptimised C about 2-3x.
//
// Every function computes exactly what the Swift it replaced did, operation for operation, with
// floating-point contraction off (no fused multiply-add), so results are bit-identical whatever
// the optimisation level or CPU. Callers split work into disjoint index ranges for threads.

/// One complex FFT's data: split real and imaginary arrays of `n` points (a power of two, >= 2),
/// and the twiddle tables cos(2 pi k / n) and -sin(2 pi k / n) for k < n / 2. `sign` is 1 for the
/// forward transform (exp(-i ...)) and -1 for the inverse.
typedef struct {
    double *re;
    double *im;
    const double *cos;
    const double *sin;
    ptrdiff_t n;
    double sign;
} PLKFFTData;

/// Permutes `re` and `im` into bit-reversed index order (the first step of an in-place radix-2 FFT):
/// swaps each pair (i, reversed i) whose smaller index is in [from, to). Calls on disjoint ranges
/// touch disjoint points, so together they make the whole permutation.
void plk_fft_bit_reverse(PLKFFTData data, ptrdiff_t from, ptrdiff_t to);

/// All radix-2 stages of length 2 ... `max_length` on the points [from, to) (aligned to
/// `max_length`); stages up to 2^13 points run block by block, so each block stays in cache, and
/// pairs of stages share one pass over memory.
void plk_fft_stages(PLKFFTData data, ptrdiff_t from, ptrdiff_t to, ptrdiff_t max_length);

/// The butterflies `p_from ..< p_to` of one radix-2 stage of `length` on the block at `start`.
void plk_fft_stage(PLKFFTData data, ptrdiff_t length, ptrdiff_t start, ptrdiff_t p_from, ptrdiff_t p_to);

/// Multiplies re[0 ..< n] and im[0 ..< n] by `scale`.
void plk_scale(double *re, double *im, ptrdiff_t n, double scale);

/// For k in [from, to): unpacks the transforms A, B of two real sequences packed as Z = A + i B
/// (size points), and writes W[k] = A[k]^exponent + i B[k]^exponent (powers by repeated squaring).
void plk_packed_powers(const double *zr, const double *zi, double *wr, double *wi,
                       ptrdiff_t size, ptrdiff_t exponent, ptrdiff_t from, ptrdiff_t to);

/// For k in [0, size): unpacks A, B from Z = A + i B as `plk_packed_powers` and writes W[k] = A[k] B[k].
void plk_packed_product(const double *zr, const double *zi, double *wr, double *wi, ptrdiff_t size);

/// P(Z <= x) for a standard normal Z.
double plk_normal_cdf(double x);

/// log P(Z <= x), without underflow for very negative x (as scipy's `log_ndtr`).
double plk_normal_log_cdf(double x);

/// log(exp(a) + exp(b)).
double plk_log_add(double a, double b);

/// log |exp(a) - exp(b)| (-infinity when a == b).
double plk_log_abs_difference(double a, double b);

/// The privacy loss of the Poisson-subsampled Gaussian mechanism for one direction (see
/// SubsampledGaussianLoss.swift), with the constants of its hot loop.
typedef struct {
    double sigma;
    double q;
    /// 0 for the remove direction, 1 for add.
    int add;
    double log_q;             // log q
    double log1m_q;           // log(1 - q)
    double log_odds_inverse;  // log(1/q - 1)
    double inverse_sigma;     // 1 / sigma
} PLKSubsampledGaussian;

/// deltas[i] = the exact hockey-stick divergence of `g` at epsilon = (first + i) * interval, clipped
/// to [0, 1], for i < count.
void plk_subsampled_gaussian_deltas(PLKSubsampledGaussian g, ptrdiff_t first, ptrdiff_t count,
                                    double interval, double *deltas);

/// Pessimistic "connect the dots" probabilities (Doroshenko et al. 2022) on the grid `interval * k`
/// from the hockey-stick divergences `deltas` at `count` >= 2 consecutive grid points: first makes
/// `deltas` non-increasing (each at most the one before), then writes `probabilities[0 ..< count]`
/// (negative ones, from rounding, as 0). The mass above the last point is deltas[count - 1].
void plk_connect_the_dots(double *deltas, ptrdiff_t count, double interval, double *probabilities);

#endif
