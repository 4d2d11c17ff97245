/// How a stored demonstration set's private examples were sampled: the mode and, where one was
/// recorded, the subsample scheme. Written and read as one string, `mode` or `mode/scheme`
/// (`partition/poisson`), as every stored set and demonstration file has it.
public struct SetSampling: Sendable, Hashable, Codable, CustomStringConvertible {
    public var mode: SamplingMode
    public var scheme: SubsampleScheme?

    public init(mode: SamplingMode, scheme: SubsampleScheme?) {
        self.mode = mode
        self.scheme = scheme
    }

    /// Reads `mode` or `mode/scheme`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), let mode = SamplingMode(rawValue: parts[0]) else { return nil }
        var scheme: SubsampleScheme?
        if parts.count == 2 {
            guard let named = SubsampleScheme(rawValue: parts[1]) else { return nil }
            scheme = named
        }
        self.init(mode: mode, scheme: scheme)
    }

    public var description: String { mode.rawValue + (scheme.map { "/\($0.rawValue)" } ?? "") }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let sampling = SetSampling(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a sampling: expected subsample or partition, optionally /poisson or /without-replacement")
        }
        self = sampling
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
