import DPAccounting
import Foundation
import Hummingbird

/// The request context of every fewshot route: Hummingbird's basic context with the JSON fewshot
/// answers in. Response types name their fields in Swift's camelCase and carry epsilons as plain
/// `Double`s; this context's encoder writes them the way the API is documented.
///
/// Guarantees: response keys are snake_case (`spentEpsilon` -> `spent_epsilon`; explicit coding keys
/// that are already snake_case stay as they are), dates are ISO 8601, and a non-finite epsilon is the
/// string "inf" as ``EpsilonJSON`` writes it everywhere else (JSON has no infinity). Requests are
/// decoded as Hummingbird decodes them (ISO 8601 dates, keys as written).
public struct FewShotRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    public var responseEncoder: JSONEncoder { Self.responseEncoder() }

    /// The encoder of every JSON response.
    static func responseEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = EpsilonJSON.encoding
        return encoder
    }
}
