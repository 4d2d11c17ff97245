#ifndef C_PRIVACY_LOSS_KERNELS_H
#define C_PRIVACY_LOSS_KERNELS_H

#include <stddef.h>

// DPAccounting's numeric inner loops (FFT convolution), in C so that they run at close
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

/// Permutes `re` and `im` into bit-reversed index order (the first step of an in-place radix-2 FFT).
void plk_fft_bit_reverse(PLKFFTData data);

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

#endif
