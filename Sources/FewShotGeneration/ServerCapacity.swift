import FewShotCore

/// Whether the LLM server can run a partition-mode plan at speed: one slot per batch plus one for
/// the public prompt (each keeps its prompt in the server's KV cache), each slot with room for a
/// batch prompt and the demonstration. Checked before anything is reserved.
public enum ServerCapacity {
    /// Throws ``CapacityError`` naming what is missing and the `fewshot llm start` command that fits
    /// the plan. Servers that do not report slots or context (other OpenAI-compatible backends) pass.
    public static func check(_ prepared: PreparedGeneration, report: PlanReport, model: any LanguageModel) async throws {
        let settings = prepared.settings
        guard settings.sampling == .partition, settings.privacy != .publicOnly, let server = report.server else { return }
        let needed = settings.largestBatchCount + 1
        if let slots = try await model.slotCount(), slots < needed {
            throw CapacityError(
                problem: "the LLM server has \(slots) slots, but this plan keeps \(needed) prompts cached (M = \(settings.largestBatchCount) batches + the public prompt); without a slot each, every step re-reads every prompt",
                fix: "restart it for the plan: `fewshot llm stop && \(server.command)`, or pin fewer batches with --batches")
        }
        // A hard floor (the example limit and the demonstration alone); the estimate adds the templates.
        let floor = settings.batchSize * (settings.maxExampleTokens ?? BatchPlanner.assumedExampleTokens) + settings.tokensPerDemonstration
        if let context = try await model.contextPerSlot(), context < floor {
            throw CapacityError(
                problem: "each LLM server slot has \(context) tokens of context, but a batch prompt with its demonstration needs about \(server.ctxSize / needed)",
                fix: "restart it for the plan: `fewshot llm stop && \(server.command)`, or lower --max-example-tokens")
        }
    }
}

/// The LLM server cannot run the plan as sized; says what is missing and how to fix it.
public struct CapacityError: Error, Sendable, CustomStringConvertible {
    public var problem: String
    public var fix: String
    public var description: String { "\(problem); \(fix)" }
}
