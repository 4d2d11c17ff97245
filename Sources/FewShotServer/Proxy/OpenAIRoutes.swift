import Foundation
import Hummingbird
import NIOCore

/// The OpenAI-compatible routes: `POST /v1/chat/completions`, `POST /v1/completions`,
/// `GET /v1/models`, `GET /v1/models/{id}`.
///
/// Guarantee: a request reaches the upstream only after its body fits `limits.maxBodyBytes`, parses
/// as JSON and names a served model; the upstream then sees the client's body with only `model`
/// and the demonstrations changed (see ``RequestBodyRewriter``). A fixed set's system message is
/// encoded once; a model that selects per request (``ServedModel/selector``) renders its choice for
/// the last user message (chat) or for each prompt (completions).
public struct OpenAIRoutes<Context: RequestContext>: Sendable {
    let configuration: ProxyConfiguration
    let forwarder: UpstreamForwarder
    let systemMessages: [String: [UInt8]]
    let upstreamModelJSON: [String: [UInt8]]
    let created = Int(Date().timeIntervalSince1970)

    public init(configuration: ProxyConfiguration, forwarder: UpstreamForwarder) {
        self.configuration = configuration
        self.forwarder = forwarder
        var messages: [String: [UInt8]] = [:]
        var names: [String: [UInt8]] = [:]
        for model in configuration.models {
            messages[model.name] = RequestBodyRewriter.systemMessage(model.renderedDemonstrations)
            names[model.name] = RequestBodyRewriter.jsonString(model.upstream.model)
        }
        self.systemMessages = messages
        self.upstreamModelJSON = names
    }

    public func add(to group: RouterGroup<Context>) {
        group.post("chat/completions") { request, context in try await self.chat(request, context: context) }
        group.post("completions") { request, context in try await self.completion(request, context: context) }
        group.get("models") { _, _ in self.modelList() }
        group.get("models/{id}") { _, context in try self.modelEntry(context.parameters.require("id")) }
    }

    func chat(_ request: Request, context: Context) async throws -> Response {
        let body = try await collect(request)
        let head = try RequestBodyRewriter.inspectChat(body)
        let model = try servedModel(head.model)
        let systemMessage = model.selector == nil
            ? systemMessages[model.name] ?? []
            : RequestBodyRewriter.systemMessage(model.demonstrationText(for: head.lastUserText))
        let rewritten = try RequestBodyRewriter.spliceChat(
            body, upstreamModelJSON: upstreamModelJSON[model.name] ?? [], systemMessage: systemMessage)
        return try await forwarder.forward(path: "/chat/completions", body: rewritten, model: model, logger: context.logger)
    }

    func completion(_ request: Request, context: Context) async throws -> Response {
        let body = try await collect(request)
        let (head, prompt) = try RequestBodyRewriter.inspectCompletion(body)
        let model = try servedModel(head.model)
        let rewritten = try RequestBodyRewriter.spliceCompletion(
            body, upstreamModelJSON: upstreamModelJSON[model.name] ?? [], prompt: prompt, prefix: model.demonstrationText(for:))
        return try await forwarder.forward(path: "/completions", body: rewritten, model: model, logger: context.logger)
    }

    func collect(_ request: Request) async throws -> [UInt8] {
        let limit = configuration.limits.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw OpenAIError.bodyTooLarge(limit: limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw OpenAIError.bodyTooLarge(limit: limit)
        }
    }

    func servedModel(_ name: String) throws(OpenAIError) -> ServedModel {
        guard let model = configuration.model(named: name) else {
            throw OpenAIError.modelNotFound(name, available: configuration.models.map(\.name))
        }
        return model
    }

    struct ModelEntry: ResponseEncodable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "fewshot"
    }

    struct ModelList: ResponseEncodable {
        var object = "list"
        var data: [ModelEntry]
    }

    func modelList() -> ModelList {
        ModelList(data: configuration.models.map { ModelEntry(id: $0.name, created: created) })
    }

    func modelEntry(_ id: String) throws -> ModelEntry {
        _ = try servedModel(id)
        return ModelEntry(id: id, created: created)
    }
}
