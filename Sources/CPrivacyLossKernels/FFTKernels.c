#include "CPrivacyLossKernels.h"

// Standard C (C99): no fused multiply-add, so results match Swift's, which never contracts.
#pragma STDC FP_CONTRACT OFF

// Two lanes of doubles (GNU vector extension, which clang supports): lane-wise arithmetic is
// exactly the scalar arithmetic, but unoptimised builds then issue one instruction for two
// butterflies. The butterfly loops run on pairs of neighbouring offsets (every stage but the
// first has an even number of butterflies per block).
typedef double double2 __attribute__((vector_size(16)));
// The same for loads and stores at any index: aligned as a double, and allowed to alias doubles.
typedef double double2u __attribute__((vector_size(16), aligned(8), may_alias));

void plk_fft_bit_reverse(PLKFFTData data, ptrdiff_t from, ptrdiff_t to) {
    double *re = data.re, *im = data.im;
    const ptrdiff_t n = data.n;
    // j = the bit reversal of i (log2 n bits), first computed directly, then counted up.
    ptrdiff_t j = 0;
    for (ptrdiff_t bit = 1, reversed = n >> 1; bit < n; bit <<= 1, reversed >>= 1) {
        if (from & bit) j |= reversed;
    }
    for (ptrdiff_t i = from; i < to; i++) {
        if (i < j) {  // Each pair is swapped once, by the range holding its smaller index.
            double t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
        ptrdiff_t bit = n >> 1;
        while (j & bit) {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
    }
}

// Two neighbouring doubles as one vector; macros, not functions, as unoptimised builds do not inline.
#define LOAD2(p) (*(const double2u *)(p))
#define STORE2(p, v) (*(double2u *)(p) = (v))

void plk_fft_stage(PLKFFTData data, ptrdiff_t length, ptrdiff_t start, ptrdiff_t p_from, ptrdiff_t p_to) {
    double *re = data.re, *im = data.im;
    const double *cs = data.cos, *sn = data.sin;
    const double sign = data.sign;
    const ptrdiff_t half = length >> 1, stride = data.n / length;
    const double2 sign2 = {sign, sign};
    ptrdiff_t offset = p_from;
    // Butterflies offset and offset + 1 in the two lanes; a single last one, if any, below.
    for (; offset + 1 < p_to; offset += 2) {
        const double2 wr = {cs[offset * stride], cs[(offset + 1) * stride]};
        const double2 wi = sign2 * (double2){sn[offset * stride], sn[(offset + 1) * stride]};
        double *rp = re + start + offset, *ip = im + start + offset;
        const double2 rq = LOAD2(rp + half), iq = LOAD2(ip + half), rpv = LOAD2(rp), ipv = LOAD2(ip);
        const double2 xr = rq * wr - iq * wi;
        const double2 xi = rq * wi + iq * wr;
        STORE2(rp + half, rpv - xr);
        STORE2(ip + half, ipv - xi);
        STORE2(rp, rpv + xr);
        STORE2(ip, ipv + xi);
    }
    for (; offset < p_to; offset++) {
        const double wr = cs[offset * stride], wi = sign * sn[offset * stride];
        const ptrdiff_t p = start + offset, q = p + half;
        const double xr = re[q] * wr - im[q] * wi;
        const double xi = re[q] * wi + im[q] * wr;
        re[q] = re[p] - xr;
        im[q] = im[p] - xi;
        re[p] += xr;
        im[p] += xi;
    }
}

/// Stages `length` and `2 * length` in one pass (a radix-4 step on blocks of 2 * length).
static void two_stages(const PLKFFTData *data, ptrdiff_t from, ptrdiff_t to, ptrdiff_t length) {
    double *re = data->re, *im = data->im;
    const double *cs = data->cos, *sn = data->sin;
    const double sign = data->sign;
    const ptrdiff_t half = length >> 1, stride1 = data->n / length, stride2 = data->n / (length << 1);
    if (half == 1) {  // One butterfly per block: no pairs.
        for (ptrdiff_t start = from; start < to; start += length << 1) {
            const ptrdiff_t offset = 0;
            const ptrdiff_t a = start + offset, b = a + half, c = a + length, d = c + half;
            const double w1r = cs[offset * stride1], w1i = sign * sn[offset * stride1];
            const double w2r = cs[offset * stride2], w2i = sign * sn[offset * stride2];
            const double w3r = cs[(offset + half) * stride2], w3i = sign * sn[(offset + half) * stride2];
            const double tbr = re[b] * w1r - im[b] * w1i, tbi = re[b] * w1i + im[b] * w1r;
            const double tdr = re[d] * w1r - im[d] * w1i, tdi = re[d] * w1i + im[d] * w1r;
            const double a1r = re[a] + tbr, a1i = im[a] + tbi;
            const double b1r = re[a] - tbr, b1i = im[a] - tbi;
            const double c1r = re[c] + tdr, c1i = im[c] + tdi;
            const double d1r = re[c] - tdr, d1i = im[c] - tdi;
            const double ur = c1r * w2r - c1i * w2i, ui = c1r * w2i + c1i * w2r;
            const double vr = d1r * w3r - d1i * w3i, vi = d1r * w3i + d1i * w3r;
            re[a] = a1r + ur; im[a] = a1i + ui;
            re[c] = a1r - ur; im[c] = a1i - ui;
            re[b] = b1r + vr; im[b] = b1i + vi;
            re[d] = b1r - vr; im[d] = b1i - vi;
        }
        return;
    }
    const double2 sign2 = {sign, sign};
    // Offsets outside, blocks inside, so that each pair of offsets loads its twiddles once (the
    // blocks touch disjoint points, so the order does not change any result).
    for (ptrdiff_t offset = 0; offset < half; offset += 2) {
        const ptrdiff_t i1 = offset * stride1, i2 = offset * stride2, i3 = (offset + half) * stride2;
        const double2 w1r = {cs[i1], cs[i1 + stride1]}, w1i = sign2 * (double2){sn[i1], sn[i1 + stride1]};
        const double2 w2r = {cs[i2], cs[i2 + stride2]}, w2i = sign2 * (double2){sn[i2], sn[i2 + stride2]};
        const double2 w3r = {cs[i3], cs[i3 + stride2]}, w3i = sign2 * (double2){sn[i3], sn[i3 + stride2]};
        // The same butterflies as above for offsets offset and offset + 1 (half is even).
        for (ptrdiff_t start = from; start < to; start += length << 1) {
            double *ra = re + start + offset, *ia = im + start + offset;
            const double2 rav = LOAD2(ra), iav = LOAD2(ia), rbv = LOAD2(ra + half), ibv = LOAD2(ia + half);
            const double2 rcv = LOAD2(ra + length), icv = LOAD2(ia + length);
            const double2 rdv = LOAD2(ra + length + half), idv = LOAD2(ia + length + half);
            // Stage `length`: (a, b) and (c, d), both with w1.
            const double2 tbr = rbv * w1r - ibv * w1i, tbi = rbv * w1i + ibv * w1r;
            const double2 tdr = rdv * w1r - idv * w1i, tdi = rdv * w1i + idv * w1r;
            const double2 a1r = rav + tbr, a1i = iav + tbi;
            const double2 b1r = rav - tbr, b1i = iav - tbi;
            const double2 c1r = rcv + tdr, c1i = icv + tdi;
            const double2 d1r = rcv - tdr, d1i = icv - tdi;
            // Stage `2 * length`: (a, c) with w2, (b, d) with w3.
            const double2 ur = c1r * w2r - c1i * w2i, ui = c1r * w2i + c1i * w2r;
            const double2 vr = d1r * w3r - d1i * w3i, vi = d1r * w3i + d1i * w3r;
            STORE2(ra, a1r + ur); STORE2(ia, a1i + ui);
            STORE2(ra + length, a1r - ur); STORE2(ia + length, a1i - ui);
            STORE2(ra + half, b1r + vr); STORE2(ia + half, b1i + vi);
            STORE2(ra + length + half, b1r - vr); STORE2(ia + length + half, b1i - vi);
        }
    }
}

/// Stages of length `first` ... `last` on [from, to), two at a time while two fit.
static void run_stages(const PLKFFTData *data, ptrdiff_t from, ptrdiff_t to, ptrdiff_t first, ptrdiff_t last) {
    ptrdiff_t length = first;
    while (length <= last) {
        if (length << 1 <= last) {
            two_stages(data, from, to, length);
            length <<= 2;
        } else {
            for (ptrdiff_t start = from; start < to; start += length) {
                plk_fft_stage(*data, length, start, 0, length >> 1);
            }
            length <<= 1;
        }
    }
}

void plk_fft_stages(PLKFFTData data, ptrdiff_t from, ptrdiff_t to, ptrdiff_t max_length) {
    const ptrdiff_t block = max_length < ((ptrdiff_t)1 << 13) ? max_length : ((ptrdiff_t)1 << 13);
    for (ptrdiff_t block_start = from; block_start < to; block_start += block) {
        run_stages(&data, block_start, block_start + block, 2, block);
    }
    if (block < max_length) run_stages(&data, from, to, block << 1, max_length);
}

void plk_scale(double *re, double *im, ptrdiff_t n, double scale) {
    for (ptrdiff_t i = 0; i < n; i++) {
        re[i] *= scale;
        im[i] *= scale;
    }
}
