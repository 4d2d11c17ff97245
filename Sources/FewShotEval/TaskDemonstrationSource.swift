import FewShotCore

/// The demonstrations of every evaluation condition for one task.
///
/// - zero-shot: none.
/// - epsilon = 0: one demonstration per label, generated greedily from the task's public prompt
///   (`publicGenerationPrompt(label:)`, which holds no private text), stopping at a newline, the
///   task's end markers or `publicMaxTokens`. Greedy decoding makes it the same for every seed.
/// - real examples: `shotsPerLabel` real training examples per label, drawn uniformly with the seed.
///   Their text is private: it is marked so and never written to the output.
/// - DP epsilons and epsilon = infinity: delegated to `generator`; without one they throw
///   ``EvalError/conditionNeedsGenerator(_:)``.
public struct TaskDemonstrationSource: DemonstrationSource {
    public let task: TaskTemplate
    public let model: any LanguageModel
    public let shotsPerLabel: Int
    public let publicMaxTokens: Int
    public let generator: (any DemonstrationSource)?
    private let trainByLabel: [String: [LabeledExample]]

    public init(
        task: TaskTemplate, train: [LabeledExample], model: any LanguageModel, shotsPerLabel: Int = 1,
        publicMaxTokens: Int? = nil, generator: (any DemonstrationSource)? = nil
    ) {
        self.task = task
        self.model = model
        self.shotsPerLabel = shotsPerLabel
        self.publicMaxTokens = publicMaxTokens ?? task.defaults.maxTokens
        self.generator = generator
        self.trainByLabel = Dictionary(grouping: train, by: \.label)
    }

    public var cacheKey: String {
        "shots=\(shotsPerLabel);publicT=\(publicMaxTokens);train=\(trainByLabel.mapValues(\.count).sorted { $0.key < $1.key });gen=\(generator?.cacheKey ?? "none")"
    }

    public func demonstrations(for condition: EvalCondition, seed: UInt64) async throws -> EvalDemonstrations {
        switch condition {
        case .zeroShot:
            return EvalDemonstrations(demonstrations: [])
        case .publicOnly:
            return try await publicDemonstrations()
        case .realExamples:
            return try realDemonstrations(seed: seed)
        case .privateGenerated, .nonPrivateGenerated, .poolSelected, .poolRandom:
            guard let generator else { throw EvalError.conditionNeedsGenerator(condition) }
            return try await generator.demonstrations(for: condition, seed: seed)
        }
    }

    func publicDemonstrations() async throws -> EvalDemonstrations {
        var demonstrations: [Demonstration] = []
        for label in task.labels {
            let request = GenerationRequest(
                prompt: ModelPrompt(text: task.publicGenerationPrompt(label: label)),
                maxTokens: publicMaxTokens, stop: ["\n"] + task.endMarkers + model.endOfTextMarkers
            )
            let text = try await model.generate(request)
            demonstrations.append(Demonstration(label: label.name, text: text.trimmingWhitespace()))
        }
        return EvalDemonstrations(demonstrations: demonstrations, notes: ["generation": "greedy from the public prompt, T=\(publicMaxTokens)"])
    }

    func realDemonstrations(seed: UInt64) throws -> EvalDemonstrations {
        var random = SplitMix64(seed: seed, stream: 2)
        var demonstrations: [Demonstration] = []
        for label in task.labels {
            guard let pool = trainByLabel[label.name], !pool.isEmpty else { throw EvalError.noTrainingExample(label: label.name) }
            for example in pool.sample(shotsPerLabel, using: &random) {
                demonstrations.append(Demonstration(label: label.name, text: example.text))
            }
        }
        return EvalDemonstrations(demonstrations: demonstrations, containsPrivateText: true, notes: ["privacy": "real training examples: not private"])
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}

extension Array {
    /// `count` distinct elements chosen uniformly (all of them, shuffled, when there are fewer),
    /// by a partial Fisher-Yates shuffle of the indices.
    func sample<G: RandomNumberGenerator>(_ count: Int, using random: inout G) -> [Element] {
        var indices = Array<Int>(self.indices)
        let take = Swift.min(count, indices.count)
        for i in 0..<take {
            let j = i + Int(random.next(upperBound: UInt64(indices.count - i)))
            indices.swapAt(i, j)
        }
        return indices.prefix(take).map { self[$0] }
    }
}
