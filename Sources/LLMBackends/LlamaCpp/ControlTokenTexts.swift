import FewShotCore
import Foundation

/// The text of llama.cpp control tokens (end of turn, end of text, ...). Unless started with
/// `--special`, the server lists them in distributions with empty `token` and `bytes`, so they could
/// neither be told apart nor matched against `endOfTextMarkers`. Guarantees: every listed token with an
/// id and no bytes gets the text `POST /detokenize` gives for its id (e.g. `<|im_end|>`), looked up
/// once per id and cached; a failed lookup is an error, never an empty token.
actor ControlTokenTexts {
    private var known: [Int: [UInt8]] = [:]
    private var pending: [Int: Task<[UInt8], any Error>] = [:]

    func filled(
        _ distribution: NextTokenDistribution, using transport: HTTPTransport, headers: [(String, String)] = []
    ) async throws -> NextTokenDistribution {
        let missing = Set(distribution.top.compactMap { $0.token.bytes.isEmpty ? $0.token.id : nil })
        if missing.isEmpty { return distribution }
        // Start every lookup before awaiting any, so a whole-vocabulary answer's ~20 control tokens
        // cost one round trip, not twenty.
        var lookups: [Int: Task<[UInt8], any Error>] = [:]
        for id in missing { lookups[id] = lookup(id, using: transport, headers: headers) }
        var texts: [Int: [UInt8]] = [:]
        for (id, task) in lookups { texts[id] = try await task.value }
        var top = distribution.top
        for i in top.indices where top[i].token.bytes.isEmpty {
            if let id = top[i].token.id, let bytes = texts[id] { top[i].token.bytes = bytes }
        }
        return NextTokenDistribution(top: top)
    }

    /// The cached text, or the running lookup for it, or a new lookup; a failed lookup is forgotten
    /// so that a later request tries again.
    private func lookup(_ id: Int, using transport: HTTPTransport, headers: [(String, String)]) -> Task<[UInt8], any Error> {
        if let bytes = known[id] { return Task { bytes } }
        if let running = pending[id] { return running }
        let task = Task {
            do {
                let bytes = try await Self.detokenize(id, using: transport, headers: headers)
                self.finish(id, with: bytes)
                return bytes
            } catch {
                self.finish(id, with: nil)
                throw error
            }
        }
        pending[id] = task
        return task
    }

    private func finish(_ id: Int, with bytes: [UInt8]?) {
        pending[id] = nil
        if let bytes { known[id] = bytes }
    }

    private struct Answer: Decodable { var content: String }

    private static func detokenize(_ id: Int, using transport: HTTPTransport, headers: [(String, String)]) async throws -> [UInt8] {
        let response = try await transport.post("/detokenize", json: Data(#"{"tokens":[\#(id)]}"#.utf8), headers: headers)
        do {
            return Array(try JSONDecoder().decode(Answer.self, from: response.body).content.utf8)
        } catch {
            throw BackendError.malformedResponse(url: response.url, reason: "not a /detokenize answer: \(DecodingErrorDescription.sentence(error))")
        }
    }
}
