import Foundation

/// How fewshot writes an epsilon in JSON, everywhere (store, `fewshot gen` output, admin API): a
/// number when finite, else the string "inf" (the no-noise baseline; JSON has no infinity).
public enum EpsilonJSON {
    public static let encoding = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    public static let decoding = JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    /// One epsilon as a JSON value, for encoders whose float strategy cannot be set (such as a web
    /// framework's response encoder); written as ``EpsilonJSON/encoding`` writes it.
    public struct Value: Encodable, Sendable, Hashable {
        public var value: Double

        public init(_ value: Double) { self.value = value }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            guard case .convertToString(let positive, let negative, let nan) = EpsilonJSON.encoding, !value.isFinite else {
                return try c.encode(value)
            }
            try c.encode(value.isNaN ? nan : (value > 0 ? positive : negative))
        }
    }
}
