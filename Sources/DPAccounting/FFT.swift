import Dispatch
import Foundation
import Synchronization

/// An in-place iterative radix-2 complex FFT on split real/imaginary arrays (the allowed packages
/// have none). Used for convolving privacy loss distributions, so it favours accuracy: twiddle
/// factors come from cos directly (by symmetry), never from a recurrence. For speed, two radix-2
/// stages share each pass over memory, small stages run block by block in cache, and large
/// transforms use two threads (the two halves are independent until the last stage).
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
                        let data = Buffers(re: rp, im: ip, cos: ct, sin: st, n: n, sign: inverse ? -1 : 1)
                        data.bitReverse()
                        if n >= 1 << 15 {
                            DispatchQueue.concurrentPerform(iterations: 2) { half in
                                data.stages(from: half * n / 2, to: (half + 1) * n / 2, upTo: n / 2)
                            }
                            DispatchQueue.concurrentPerform(iterations: 2) { half in
                                data.stage(length: n, start: 0, pFrom: half * n / 4, pTo: (half + 1) * n / 4)
                            }
                        } else {
                            data.stages(from: 0, to: n, upTo: n)
                        }
                        if inverse {
                            let scale = 1 / Double(n)
                            for i in 0..<n {
                                rp[i] *= scale
                                ip[i] *= scale
                            }
                        }
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

    /// Raw views of one transform's data; each thread touches a disjoint index range.
    private struct Buffers: @unchecked Sendable {
        let re: UnsafeMutableBufferPointer<Double>
        let im: UnsafeMutableBufferPointer<Double>
        let cos: UnsafeBufferPointer<Double>
        let sin: UnsafeBufferPointer<Double>
        let n: Int
        let sign: Double

        func bitReverse() {
            var j = 0
            for i in 1..<n {
                var bit = n >> 1
                while j & bit != 0 {
                    j ^= bit
                    bit >>= 1
                }
                j |= bit
                if i < j {
                    re.swapAt(i, j)
                    im.swapAt(i, j)
                }
            }
        }

        /// All stages of length 2...maxLength on [from, to) (aligned to maxLength); stages up to
        /// 2^13 points run block by block so the block stays in cache.
        func stages(from: Int, to: Int, upTo maxLength: Int) {
            let block = min(maxLength, 1 << 13)
            var blockStart = from
            while blockStart < to {
                run(from: blockStart, to: blockStart + block, lengths: 2, upTo: block)
                blockStart += block
            }
            if block < maxLength { run(from: from, to: to, lengths: block << 1, upTo: maxLength) }
        }

        private func run(from: Int, to: Int, lengths first: Int, upTo last: Int) {
            var length = first
            while length <= last {
                if length << 1 <= last {
                    twoStages(from: from, to: to, length: length)
                    length <<= 2
                } else {
                    var start = from
                    while start < to {
                        stage(length: length, start: start, pFrom: 0, pTo: length >> 1)
                        start += length
                    }
                    length <<= 1
                }
            }
        }

        /// One radix-2 stage of `length` on the block at `start`, butterflies pFrom..<pTo.
        @inline(__always)
        func stage(length: Int, start: Int, pFrom: Int, pTo: Int) {
            let half = length >> 1
            let stride = n / length
            for offset in pFrom..<pTo {
                let wr = cos[offset * stride], wi = sign * sin[offset * stride]
                let p = start + offset, q = p + half
                let xr = re[q] * wr - im[q] * wi
                let xi = re[q] * wi + im[q] * wr
                re[q] = re[p] - xr
                im[q] = im[p] - xi
                re[p] += xr
                im[p] += xi
            }
        }

        /// Stages `length` and `2 * length` in one pass (a radix-4 step on blocks of 2 * length).
        @inline(__always)
        func twoStages(from: Int, to: Int, length: Int) {
            let half = length >> 1
            let stride1 = n / length, stride2 = n / (length << 1)
            var start = from
            while start < to {
                for offset in 0..<half {
                    let a = start + offset, b = a + half, c = a + length, d = c + half
                    let w1r = cos[offset * stride1], w1i = sign * sin[offset * stride1]
                    let w2r = cos[offset * stride2], w2i = sign * sin[offset * stride2]
                    let w3r = cos[(offset + half) * stride2], w3i = sign * sin[(offset + half) * stride2]
                    // Stage `length`: (a, b) and (c, d), both with w1.
                    let tbr = re[b] * w1r - im[b] * w1i, tbi = re[b] * w1i + im[b] * w1r
                    let tdr = re[d] * w1r - im[d] * w1i, tdi = re[d] * w1i + im[d] * w1r
                    let a1r = re[a] + tbr, a1i = im[a] + tbi
                    let b1r = re[a] - tbr, b1i = im[a] - tbi
                    let c1r = re[c] + tdr, c1i = im[c] + tdi
                    let d1r = re[c] - tdr, d1i = im[c] - tdi
                    // Stage `2 * length`: (a, c) with w2, (b, d) with w3.
                    let ur = c1r * w2r - c1i * w2i, ui = c1r * w2i + c1i * w2r
                    let vr = d1r * w3r - d1i * w3i, vi = d1r * w3i + d1i * w3r
                    re[a] = a1r + ur; im[a] = a1i + ui
                    re[c] = a1r - ur; im[c] = a1i - ui
                    re[b] = b1r + vr; im[b] = b1i + vi
                    re[d] = b1r - vr; im[d] = b1i - vi
                }
                start += length << 1
            }
        }
    }
}

/// Convolutions of real sequences, two at a time: packing two real inputs into one complex
/// transform halves the work.
enum RealConvolution {
    /// Circular `exponent`-fold self-convolutions of `a` and `b` (each zero-padded to `size`, a power of two).
    static func selfConvolve(_ a: [Double], _ b: [Double], exponent: Int, size: Int) -> ([Double], [Double]) {
        var re = [Double](repeating: 0, count: size), im = [Double](repeating: 0, count: size)
        for (i, v) in a.enumerated() { re[i] = v }
        for (i, v) in b.enumerated() { im[i] = v }
        let fft = FFT(size: size)
        fft.transform(&re, &im)
        var outRe = [Double](repeating: 0, count: size), outIm = [Double](repeating: 0, count: size)
        re.withUnsafeBufferPointer { zr in
            im.withUnsafeBufferPointer { zi in
                outRe.withUnsafeMutableBufferPointer { wr in
                    outIm.withUnsafeMutableBufferPointer { wi in
                        let views = PowerViews(zr: zr, zi: zi, wr: wr, wi: wi, size: size, exponent: exponent)
                        let parts = size >= 1 << 15 ? 2 : 1
                        DispatchQueue.concurrentPerform(iterations: parts) { part in
                            views.run(from: part * size / parts, to: (part + 1) * size / parts)
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
        let zr: UnsafeBufferPointer<Double>
        let zi: UnsafeBufferPointer<Double>
        let wr: UnsafeMutableBufferPointer<Double>
        let wi: UnsafeMutableBufferPointer<Double>
        let size: Int
        let exponent: Int

        func run(from: Int, to: Int) {
            for k in from..<to {
                let m = (size - k) & (size - 1)
                // A = (Z[k] + conj(Z[m])) / 2, B = (Z[k] - conj(Z[m])) / (2i).
                let ar = 0.5 * (zr[k] + zr[m]), ai = 0.5 * (zi[k] - zi[m])
                let br = 0.5 * (zi[k] + zi[m]), bi = -0.5 * (zr[k] - zr[m])
                let (pr, pi) = RealConvolution.power(ar, ai, exponent)
                let (qr, qi) = RealConvolution.power(br, bi, exponent)
                // W = A^T + i B^T.
                wr[k] = pr - qi
                wi[k] = pi + qr
            }
        }
    }

    /// Linear convolution of `a` and `b`.
    static func convolve(_ a: [Double], _ b: [Double]) -> [Double] {
        let outCount = a.count + b.count - 1
        let size = FFT.size(atLeast: outCount)
        var re = [Double](repeating: 0, count: size), im = [Double](repeating: 0, count: size)
        for (i, v) in a.enumerated() { re[i] = v }
        for (i, v) in b.enumerated() { im[i] = v }
        let fft = FFT(size: size)
        fft.transform(&re, &im)
        var outRe = [Double](repeating: 0, count: size), outIm = [Double](repeating: 0, count: size)
        for k in 0..<size {
            let m = (size - k) & (size - 1)
            let ar = 0.5 * (re[k] + re[m]), ai = 0.5 * (im[k] - im[m])
            let br = 0.5 * (im[k] + im[m]), bi = -0.5 * (re[k] - re[m])
            outRe[k] = ar * br - ai * bi
            outIm[k] = ar * bi + ai * br
        }
        fft.transform(&outRe, &outIm, inverse: true)
        return Array(outRe[0..<outCount])
    }

    /// (re + i im)^n by repeated squaring.
    static func power(_ re: Double, _ im: Double, _ n: Int) -> (Double, Double) {
        var rr = 1.0, ri = 0.0, br = re, bi = im, e = n
        while e > 0 {
            if e & 1 == 1 {
                (rr, ri) = (rr * br - ri * bi, rr * bi + ri * br)
            }
            e >>= 1
            if e > 0 { (br, bi) = (br * br - bi * bi, 2 * br * bi) }
        }
        return (rr, ri)
    }
}
