import FewShotCore

/// Every vocabulary entry of the served model, by id, with exact bytes. llama.cpp has no endpoint
/// that returns one token's raw bytes (`/detokenize` turns a partial character into U+FFFD), but a
/// whole-vocabulary distribution lists every id with its bytes; so the table is read once from one
/// such request and cached. Guarantees: ids are exactly `0..<count`, each with the bytes the server
/// reports (control tokens with their text); a gap in the ids is an error, not a guess.
actor VocabularyTable {
    private var tokens: [Token]?
    private var loading: Task<[Token], any Error>?

    func token(id: Int, load: @escaping @Sendable () async throws -> NextTokenDistribution) async throws -> Token {
        let all = try await table(load: load)
        guard all.indices.contains(id) else {
            throw BackendError.invalidRequest(reason: "token id \(id) is outside the vocabulary 0..<\(all.count)")
        }
        return all[id]
    }

    private func table(load: @escaping @Sendable () async throws -> NextTokenDistribution) async throws -> [Token] {
        if let tokens { return tokens }
        if let loading { return try await loading.value }
        let task = Task { try Self.byId(try await load()) }
        loading = task
        defer { loading = nil }
        let built = try await task.value
        tokens = built
        return built
    }

    private static func byId(_ distribution: NextTokenDistribution) throws -> [Token] {
        var byId = [Token?](repeating: nil, count: distribution.top.count)
        for entry in distribution.top {
            guard let id = entry.token.id, byId.indices.contains(id), byId[id] == nil else {
                throw BackendError.invalidRequest(
                    reason: "the whole-vocabulary distribution has an unexpected token id \(entry.token.id.map(String.init) ?? "nil") among \(distribution.top.count) entries")
            }
            byId[id] = entry.token
        }
        return byId.map { $0! }
    }
}
