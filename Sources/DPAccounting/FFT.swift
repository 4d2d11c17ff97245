import CPrivacyLossKernels
import Dispatch
import Foundation
import Synchronization

/// An in-place iterative radix-2 complex FFT on split real/imaginary arrays (the allowed packages
/// have none). Used for convolving privacy loss distributions, so it favours accuracy: twiddle
/// factors come from cos directly (by symmetry), never from a recurrence. For speed, two radix-2
/// stages share each pass over memory, small stages run block by block in cache, and large
/// transforms use two threads (for the bit-reversal permutation, then for the two halves, which are
/// independent until the last stage). The loops are in C (CPrivacyLossKernels, FFTKernels.c), so
/// that debug builds run them near full speed.
struct FFT {
    let size: Int
    private let tables: Twiddles

    /// `size` must be a power of two.
    init(size: Int) {
        precondition(size > 0 && size & (size - 1) == 0, "FFT size must be a power of two")
        self.size = size
        tables = Twiddles.cached(size: size)
    }

    /// The smallest power of two >= n.
    static func size(atLeast n: Int) -> Int {
        var s = 1
        while s < n { s <<= 1 }
        return s
    }

    /// X[k] = sum_j x[j] exp(-2 pi i j k / N), or with +i and a 1/N factor when `inverse`.
    func transform(_ re: inout [Double], _ im: inout [Double], inverse: Bool = false) {
        precondition(re.count == size && im.count == size)
        let n = size
        if n == 1 { return }
        re.withUnsafeMutableBufferPointer { rp in
            im.withUnsafeMutableBufferPointer { ip in
                tables.cos.withUnsafeBufferPointer { ct in
                    tables.sin.withUnsafeBufferPointer { st in
                        let data = Buffers(raw: PLKFFTData(re: rp.baseAddress, im: ip.baseAddress, cos: ct.baseAddress,
                                                           sin: st.baseAddress, n: n, sign: inverse ? -1 : 1))
                        if n >= 1 << 15 {
                            DispatchQueue.concurrentPerform(iterations: 2) { half in
                                plk_fft_bit_reverse(data.raw, half * n / 2, (half + 1) * n / 2)
                            }
                            DispatchQueue.concurrentPerform(iterations: 2) { half in
                                plk_fft_stages(data.raw, half * n / 2, (half + 1) * n / 2, n / 2)
                            }
                            DispatchQueue.concurrentPerform(iterations: 2) { half in
                                plk_fft_stage(data.raw, n, 0, half * n / 4, (half + 1) * n / 4)
                            }
                        } else {
                            plk_fft_bit_reverse(data.raw, 0, n)
                            plk_fft_stages(data.raw, 0, n, n)
                        }
                        if inverse { plk_scale(rp.baseAddress, ip.baseAddress, n, 1 / Double(n)) }
                    }
                }
            }
        }
    }

    /// cos and -sin of 2 pi k / n for k < n / 2, shared between transforms of the same size.
    final class Twiddles: @unchecked Sendable {
        let cos: [Double]
        let sin: [Double]

        init(size n: Int) {
            let half = max(n / 2, 1)
            var c = [Double](repeating: 1, count: half), s = [Double](repeating: 0, count: half)
            if n >= 4 {
                let quarter = n / 4
                let base = (0...quarter).map { Foundation.cos(2 * Double.pi * Double($0) / Double(n)) }
                for k in 0..<half {
                    if k <= quarter {
                        c[k] = base[k]
                        s[k] = -base[quarter - k]
                    } else {
                        c[k] = -base[2 * quarter - k]
                        s[k] = -base[k - quarter]
                    }
                }
            }
            cos = c
            sin = s
        }

        private static let recent = Mutex<[Int: Twiddles]>([:])

        static func cached(size: Int) -> Twiddles {
            recent.withLock { recent in
                if let t = recent[size] { return t }
                let t = Twiddles(size: size)
                if recent.count >= 4 { recent.removeAll() }
                recent[size] = t
                return t
            }
        }
    }

    /// Raw views of one transform's data (the kernels are in CPrivacyLossKernels); each thread
    /// touches a disjoint index range.
    private struct Buffers: @unchecked Sendable {
        let raw: PLKFFTData
    }
}

/// Convolutions of real sequences, two at a time: packing two real inputs into one complex
/// transform halves the work. The pointwise work on the spectra is in CPrivacyLossKernels.
enum RealConvolution {
    /// Circular `exponent`-fold self-convolutions of `a` and `b` (each zero-padded to `size`, a power of two).
    static func selfConvolve(_ a: [Double], _ b: [Double], exponent: Int, size: Int) -> ([Double], [Double]) {
        var re = zeroPadded(a, to: size), im = zeroPadded(b, to: size)
        let fft = FFT(size: size)
        fft.transform(&re, &im)
        var outRe = [Double](repeating: 0, count: size), outIm = [Double](repeating: 0, count: size)
        re.withUnsafeBufferPointer { zr in
            im.withUnsafeBufferPointer { zi in
                outRe.withUnsafeMutableBufferPointer { wr in
                    outIm.withUnsafeMutableBufferPointer { wi in
                        let views = PowerViews(zr: zr.baseAddress!, zi: zi.baseAddress!, wr: wr.baseAddress!, wi: wi.baseAddress!)
                        let parts = size >= 1 << 15 ? 2 : 1
                        DispatchQueue.concurrentPerform(iterations: parts) { part in
                            plk_packed_powers(views.zr, views.zi, views.wr, views.wi, size, exponent,
                                              part * size / parts, (part + 1) * size / parts)
                        }
                    }
                }
            }
        }
        fft.transform(&outRe, &outIm, inverse: true)
        return (outRe, outIm)
    }

    /// Raw views for the pointwise powers; each thread writes a disjoint range of `wr`/`wi`.
    private struct PowerViews: @unchecked Sendable {
        let zr: UnsafePointer<Double>
        let zi: UnsafePointer<Double>
        let wr: UnsafeMutablePointer<Double>
        let wi: UnsafeMutablePointer<Double>
    }

    /// `values` followed by zeros up to `size` (>= values.count) points; a byte copy, not an
    /// element loop, so it is fast in debug builds too.
    private static func zeroPadded(_ values: [Double], to size: Int) -> [Double] {
        var out = [Double](repeating: 0, count: size)
        values.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { $0.copyMemory(from: source) }
        }
        return out
    }

    /// Linear convolution of `a` and `b`.
    static func convolve(_ a: [Double], _ b: [Double]) -> [Double] {
        let outCount = a.count + b.count - 1
        let size = FFT.size(atLeast: outCount)
        var re = zeroPadded(a, to: size), im = zeroPadded(b, to: size)
        let fft = FFT(size: size)
        fft.transform(&re, &im)
        var outRe = [Double](repeating: 0, count: size), outIm = [Double](repeating: 0, count: size)
        plk_packed_product(re, im, &outRe, &outIm, size)
        fft.transform(&outRe, &outIm, inverse: true)
        return Array(outRe[0..<outCount])
    }
}
