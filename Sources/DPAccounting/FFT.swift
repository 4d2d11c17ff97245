import Foundation

/// An in-place iterative radix-2 complex FFT on split real/imaginary arrays (the allowed packages
/// have none). Used for convolving privacy loss distributions, so it favours accuracy: twiddle
/// factors are computed directly with cos/sin, never by recurrence.
struct FFT {
    let size: Int
    private let cosTable: [Double]
    private let sinTable: [Double]

    /// `size` must be a power of two.
    init(size: Int) {
        precondition(size > 0 && size & (size - 1) == 0, "FFT size must be a power of two")
        self.size = size
        let half = max(size / 2, 1)
        var c = [Double](repeating: 0, count: half), s = [Double](repeating: 0, count: half)
        for k in 0..<half {
            let angle = -2 * Double.pi * Double(k) / Double(size)
            c[k] = cos(angle)
            s[k] = sin(angle)
        }
        cosTable = c
        sinTable = s
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
                cosTable.withUnsafeBufferPointer { ct in
                    sinTable.withUnsafeBufferPointer { st in
                        Self.run(rp, ip, ct, st, n: n, inverse: inverse)
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func butterflies(_ re: UnsafeMutableBufferPointer<Double>, _ im: UnsafeMutableBufferPointer<Double>,
                                    _ ct: UnsafeBufferPointer<Double>, _ st: UnsafeBufferPointer<Double>,
                                    from: Int, to: Int, length: Int, n: Int, sign: Double) {
        let half = length >> 1
        let stride = n / length
        var start = from
        while start < to {
            var k = 0
            for p in start..<(start + half) {
                let wr = ct[k], wi = sign * st[k]
                let q = p + half
                let xr = re[q] * wr - im[q] * wi
                let xi = re[q] * wi + im[q] * wr
                re[q] = re[p] - xr
                im[q] = im[p] - xi
                re[p] += xr
                im[p] += xi
                k += stride
            }
            start += length
        }
    }

    private static func run(_ re: UnsafeMutableBufferPointer<Double>, _ im: UnsafeMutableBufferPointer<Double>,
                            _ ct: UnsafeBufferPointer<Double>, _ st: UnsafeBufferPointer<Double>,
                            n: Int, inverse: Bool) {
        // Bit-reversal permutation.
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
        let sign: Double = inverse ? -1 : 1
        // Stages up to `block` points run block by block while the block is in cache.
        let block = min(n, 1 << 13)
        var blockStart = 0
        while blockStart < n {
            var length = 2
            while length <= block {
                butterflies(re, im, ct, st, from: blockStart, to: blockStart + block, length: length, n: n, sign: sign)
                length <<= 1
            }
            blockStart += block
        }
        var length = block << 1
        while length <= n {
            butterflies(re, im, ct, st, from: 0, to: n, length: length, n: n, sign: sign)
            length <<= 1
        }
        if inverse {
            let scale = 1 / Double(n)
            for i in 0..<n {
                re[i] *= scale
                im[i] *= scale
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
        for k in 0..<size {
            let m = (size - k) & (size - 1)
            // A = (Z[k] + conj(Z[m])) / 2, B = (Z[k] - conj(Z[m])) / (2i).
            let ar = 0.5 * (re[k] + re[m]), ai = 0.5 * (im[k] - im[m])
            let br = 0.5 * (im[k] + im[m]), bi = -0.5 * (re[k] - re[m])
            let (pr, pi) = power(ar, ai, exponent)
            let (qr, qi) = power(br, bi, exponent)
            // W = A^T + i B^T.
            outRe[k] = pr - qi
            outIm[k] = pi + qr
        }
        fft.transform(&outRe, &outIm, inverse: true)
        return (outRe, outIm)
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
