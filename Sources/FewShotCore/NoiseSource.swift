import Foundation
import Synchronization

/// Where noise randomness comes from. Production runs use ``NoiseSource/secure()``, backed by the
/// system's cryptographically secure generator (getrandom on Linux). A seeded source exists only for
/// tests and reproducible experiments, and ``isPrivate`` then says the output is not private.
public struct NoiseSource: Sendable {
    public let isPrivate: Bool
    public let seed: UInt64?
    private let generator: LockedGenerator

    public static func secure() -> NoiseSource { NoiseSource(isPrivate: true, seed: nil, generator: LockedGenerator(.system)) }

    /// Reproducible noise. Anything generated with it is NOT differentially private.
    public static func seeded(_ seed: UInt64) -> NoiseSource {
        NoiseSource(isPrivate: false, seed: seed, generator: LockedGenerator(.splitMix(SplitMix64(seed: seed))))
    }

    /// Randomness from `generator`, a deterministic stream that the caller keeps secret (for example
    /// the store's keyed generator that lets a resumed demonstration draw the same subsample).
    /// `isPrivate` says whether the stream is secret and cryptographically strong.
    public static func stream(_ generator: some RandomNumberGenerator & Sendable, isPrivate: Bool) -> NoiseSource {
        NoiseSource(isPrivate: isPrivate, seed: nil, generator: LockedGenerator(.stream(generator)))
    }

    /// A uniform double in the open interval (0, 1), with 53 random bits.
    public func uniformOpen() -> Double {
        while true {
            let bits = generator.next() >> 11
            if bits != 0 { return Double(bits) * 0x1p-53 }
        }
    }

    /// A uniform integer in 0..<upperBound.
    public func uniformInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0)
        return Int(generator.next(below: UInt64(upperBound)))
    }

    /// A standard normal draw (Box-Muller on two 53-bit uniforms).
    ///
    /// Floating-point samplers can leak through the low bits of a released noisy value (Mironov
    /// 2012). Here noisy values are never released: only the index of the noisy maximum is, which
    /// is the setting in which this sampler's privacy analysis is made.
    public func standardNormal() -> Double {
        let u1 = uniformOpen(), u2 = uniformOpen()
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A standard Gumbel draw: -log(-log U).
    public func standardGumbel() -> Double { -Foundation.log(-Foundation.log(uniformOpen())) }

    /// Bernoulli(p).
    public func bernoulli(_ p: Double) -> Bool { p >= 1 || uniformOpen() < p }
}

/// Serialises access to the underlying generator so one source can be shared by concurrent tasks.
final class LockedGenerator: Sendable {
    enum Kind: Sendable {
        case system
        case splitMix(SplitMix64)
        case stream(any RandomNumberGenerator & Sendable)
    }

    private let kind: Mutex<Kind>

    init(_ kind: Kind) { self.kind = Mutex(kind) }

    func next() -> UInt64 {
        kind.withLock { kind in
            switch kind {
            case .system:
                var system = SystemRandomNumberGenerator()
                return system.next()
            case .splitMix(var g):
                let value = g.next()
                kind = .splitMix(g)
                return value
            case .stream(var g):
                let value = g.next()
                kind = .stream(g)
                return value
            }
        }
    }

    func next(below upperBound: UInt64) -> UInt64 {
        // Lemire's rejection keeps the draw exactly uniform.
        while true {
            let x = next()
            let (high, low) = x.multipliedFullWidth(by: upperBound)
            if low >= (0 &- upperBound) % upperBound { return high }
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, well-mixed, seedable generator for reproducible
/// experiments (seeded noise, the eval harness's test subsets and real demonstrations). Not
/// cryptographically secure; never used when privacy is claimed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// `stream` separates independent uses of one seed (the harness's subset vs. demonstrations).
    public init(seed: UInt64, stream: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ stream &* 0xD1B5_4A32_D192_ED03
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
