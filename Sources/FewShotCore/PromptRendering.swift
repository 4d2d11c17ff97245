import Foundation

/// Renders the prompts of a ``TaskTemplate``. Pure string assembly, shared by the generator, the
/// evaluation harness and the server so that all three show the model the same format.
extension TaskTemplate {
    /// The prompt for one private batch: instruction, the batch's examples, then the label header.
    public func generationPrompt(examples: [LabeledExample], label: TaskLabel) -> String {
        var prompt = generation.instruction
        for example in examples {
            let word = self.label(named: example.label)?.word ?? example.label
            prompt += Self.fill(generation.example, text: example.text, placeholder: "{label}", with: word)
        }
        return prompt + generationHeader(label: label)
    }

    /// The public prompt: instruction and label header, with no private example.
    public func publicGenerationPrompt(label: TaskLabel) -> String {
        generation.instruction + generationHeader(label: label)
    }

    /// `generation.example` up to `{text}`, with the label filled in and trailing spaces removed.
    public func generationHeader(label: TaskLabel) -> String {
        Self.prefix(of: generation.example, before: "{text}").replacingOccurrences(of: "{label}", with: label.word)
    }

    /// The classification prompt: instruction, demonstrations, and the query up to the label (for an
    /// extraction task: up to the answer).
    public func classificationPrompt(demonstrations: [Demonstration], query: String) -> String {
        let prompt = renderedDemonstrations(demonstrations)
        let queryTemplate = Self.prefix(of: classification.example, before: kind == .extraction ? "{answer}" : "{label}")
        return prompt + queryTemplate.replacingOccurrences(of: "{text}", with: query)
    }

    /// The demonstrations alone, rendered as classification (or extraction) examples: what the server
    /// prepends.
    public func renderedDemonstrations(_ demonstrations: [Demonstration]) -> String {
        var out = classification.instruction
        for demo in demonstrations {
            if kind == .extraction {
                out += Self.fill(classification.example, text: demo.text, placeholder: "{answer}", with: demo.answer ?? "")
            } else {
                let word = label(named: demo.label)?.word ?? demo.label
                out += Self.fill(classification.example, text: demo.text, placeholder: "{label}", with: word)
            }
        }
        return out
    }

    // MARK: Extraction generation

    /// The prompt for one private batch of an extraction task: instruction, the batch's examples in
    /// full (sentence and answer), then the sentence header.
    public func extractionGenerationPrompt(examples: [LabeledExample]) -> String {
        var prompt = generation.instruction
        for example in examples {
            prompt += Self.fill(generation.example, text: example.text, placeholder: "{answer}", with: example.answer ?? "")
        }
        return prompt + sentenceHeader
    }

    /// The public prompt of an extraction task: instruction and sentence header, no private example.
    public var publicExtractionGenerationPrompt: String { generation.instruction + sentenceHeader }

    /// `generation.example` up to `{text}`, trailing spaces removed (e.g. "Sentence:").
    public var sentenceHeader: String { Self.prefix(of: generation.example, before: "{text}") }

    /// The text between `{text}` and `{answer}` in `generation.example`, trailing spaces removed
    /// (e.g. "\nGenre:"): what follows a released sentence before its answer is generated.
    public var answerHeader: String {
        guard let text = generation.example.range(of: "{text}") else { return "" }
        return Self.prefix(of: String(generation.example[text.upperBound...]), before: "{answer}")
    }

    /// Fills `{text}` and `placeholder` (`{label}` or `{answer}`) in one pass over the template: the
    /// template is split at `{text}` before anything is inserted, so neither value can be expanded.
    static func fill(_ template: String, text: String, placeholder: String, with value: String) -> String {
        let parts = template.components(separatedBy: "{text}")
        return parts.map { $0.replacingOccurrences(of: placeholder, with: value) }.joined(separator: text)
    }

    static func prefix(of template: String, before placeholder: String) -> String {
        guard let range = template.range(of: placeholder) else { return template }
        var head = String(template[..<range.lowerBound])
        while head.hasSuffix(" ") { head.removeLast() }
        return head
    }
}
