import Foundation

/// Renders the prompts of a ``TaskTemplate``. Pure string assembly, shared by the generator, the
/// evaluation harness and the server so that all three show the model the same format.
extension TaskTemplate {
    /// The prompt for one private batch: instruction, the batch's examples, then the label header.
    public func generationPrompt(examples: [LabeledExample], label: TaskLabel) -> String {
        var prompt = generation.instruction
        for example in examples {
            let word = self.label(named: example.label)?.word ?? example.label
            prompt += Self.fill(generation.example, label: word, text: example.text)
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

    /// The classification prompt: instruction, demonstrations, and the query up to the label.
    public func classificationPrompt(demonstrations: [Demonstration], query: String) -> String {
        var prompt = classification.instruction
        for demo in demonstrations {
            let word = label(named: demo.label)?.word ?? demo.label
            prompt += Self.fill(classification.example, label: word, text: demo.text)
        }
        let queryTemplate = Self.prefix(of: classification.example, before: "{label}")
        return prompt + queryTemplate.replacingOccurrences(of: "{text}", with: query)
    }

    /// The demonstrations alone, rendered as classification examples (what the server prepends).
    public func renderedDemonstrations(_ demonstrations: [Demonstration]) -> String {
        var out = classification.instruction
        for demo in demonstrations {
            let word = label(named: demo.label)?.word ?? demo.label
            out += Self.fill(classification.example, label: word, text: demo.text)
        }
        return out
    }

    static func fill(_ template: String, label: String, text: String) -> String {
        // Fill {label} first so a `{text}` typed inside a label word cannot be expanded.
        let parts = template.components(separatedBy: "{text}")
        return parts.map { $0.replacingOccurrences(of: "{label}", with: label) }.joined(separator: text)
    }

    static func prefix(of template: String, before placeholder: String) -> String {
        guard let range = template.range(of: placeholder) else { return template }
        var head = String(template[..<range.lowerBound])
        while head.hasSuffix(" ") { head.removeLast() }
        return head
    }
}
