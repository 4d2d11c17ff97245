import FewShotCore
import Foundation

/// What `GET /v1/models` says about the first model served (llama.cpp adds `meta.n_vocab`).
struct ServedModel {
    var name: String
    var vocabularySize: Int?

    private struct Body: Decodable {
        struct Model: Decodable {
            struct Meta: Decodable { var n_vocab: Int? }
            var id: String
            var meta: Meta?
        }
        var data: [Model]
    }

    static func fetch(from transport: HTTPTransport, headers: [(String, String)] = []) async throws -> ServedModel {
        let response = try await transport.get("/v1/models", headers: headers)
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: response.body)
        } catch {
            throw BackendError.malformedResponse(url: response.url, reason: "not a model list: \(DecodingErrorDescription.sentence(error))")
        }
        guard let model = body.data.first else {
            throw BackendError.malformedResponse(url: response.url, reason: "the model list is empty")
        }
        return ServedModel(name: model.id, vocabularySize: model.meta?.n_vocab)
    }
}
