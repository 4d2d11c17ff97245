import Foundation

/// An upstream's JSON error body: OpenAI's `{"error": {"message": ..., "type": ...}}`, or llama.cpp's
/// older `{"error": "text"}`. The one reader of that shape, for the backends (which keep only a known
/// `type`) and the proxy (which relays the `message` to the client that sent the request).
///
/// Guarantees: never logs or keeps the body; the message may echo the request, so a caller that
/// is not relaying it to the request's own sender must not show it.
public struct UpstreamErrorBody: Sendable, Hashable, Decodable {
    public var message: String?
    public var type: String?

    /// The error in `json`; nil when it is not JSON or has no `error`.
    public init?(json: Data) {
        guard let body = try? JSONDecoder().decode(UpstreamErrorBody.self, from: json) else { return nil }
        self = body
    }

    private enum CodingKeys: String, CodingKey { case error }
    private enum DetailKeys: String, CodingKey { case message, type }

    /// Each field is read on its own: a body whose `message` is not a string still gives its `type`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try? c.decode(String.self, forKey: .error) {
            message = text
        } else {
            let detail = try c.nestedContainer(keyedBy: DetailKeys.self, forKey: .error)
            message = try? detail.decode(String.self, forKey: .message)
            type = try? detail.decode(String.self, forKey: .type)
        }
    }
}
