import Foundation
import Hummingbird

extension Request {
    /// The JSON body of an admin request (at most 64 KiB) as `T`; a body that is not one throws the
    /// error `refusal` makes of the decoding error (a 400 naming what is expected).
    func adminBody<T: Decodable>(_ type: T.Type, refusal: (any Error) -> OpenAIError) async throws -> T {
        let body = try await self.body.collect(upTo: 64 * 1024)
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw refusal(error)
        }
    }
}
