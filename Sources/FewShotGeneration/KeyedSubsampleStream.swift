import Crypto
import FewShotCore
import Foundation

/// The random stream from which one demonstration draws its partition-mode subsample: HMAC-SHA256
/// in counter mode under the generation's secret key (kept in the store with its reservation),
/// over (demonstration index, block counter). A resumed demonstration therefore draws exactly the
/// subsample its first part used, so the whole demonstration stays one Poisson-subsampled
/// mechanism (algorithm.md).
///
/// Why this is as private as the system generator: the key is 256 bits from the system's secure
/// generator and never leaves the store but to the generator, and HMAC-SHA256 is a pseudorandom
/// function, so the stream cannot be told from uniform bits by anyone without the key; the system
/// generator itself (getrandom) is a ChaCha20 stream of the same computational kind.
struct KeyedSubsampleStream: RandomNumberGenerator, Sendable {
    private let key: SymmetricKey
    private let demonstration: UInt64
    private var counter: UInt64 = 0
    private var buffer: [UInt64] = []

    init(key: SymmetricKey, demonstration: Int) {
        self.key = key
        self.demonstration = UInt64(demonstration)
    }

    mutating func next() -> UInt64 {
        if buffer.isEmpty {
            var message = Data("fewshot partition subsample".utf8)
            withUnsafeBytes(of: demonstration.bigEndian) { message.append(contentsOf: $0) }
            withUnsafeBytes(of: counter.bigEndian) { message.append(contentsOf: $0) }
            counter += 1
            let block = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            buffer = stride(from: 0, to: 32, by: 8).map { i in block[i..<i + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        }
        return buffer.removeLast()
    }

    /// Demonstration `i`'s subsample randomness under `key`, as the generator takes it.
    static func randomness(key: SymmetricKey) -> @Sendable (Int) -> NoiseSource {
        { index in .stream(KeyedSubsampleStream(key: key, demonstration: index), isPrivate: true) }
    }
}
