/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator for the harness's reproducible choices
/// (test subset, real demonstrations). Never used for privacy noise.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// `stream` separates independent uses of one seed (subset vs. demonstrations).
    init(seed: UInt64, stream: UInt64 = 0) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ stream &* 0xD1B5_4A32_D192_ED03
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
