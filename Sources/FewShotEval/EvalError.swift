/// Why an evaluation cannot run. Messages name the file, line, field, label or option to fix.
public enum EvalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A DP condition was asked for but no DP generator was given to the demonstration source.
    case conditionNeedsGenerator(EvalCondition)
    /// A label has no training example, so the real-examples condition cannot pick one.
    case noTrainingExample(label: String)
    /// The model never offers a token that continues a label's word after the answer header.
    case labelWordNotProducible(label: String, word: String, producedSoFar: String, topK: Int)
    case invalidSetting(String)
    case cacheUnreadable(path: String, problem: String)

    public var description: String {
        switch self {
        case .conditionNeedsGenerator(let condition):
            return "condition \(condition.id) needs the DP demonstration generator, which this evaluation was not given"
        case .noTrainingExample(let label):
            return "label '\(label)' has no training example, so real demonstrations cannot be drawn"
        case .labelWordNotProducible(let label, let word, let produced, let topK):
            return "label '\(label)': no token among the model's top \(topK) continues its word '\(word)' after '\(produced)'; use a more common word for this label in the task file"
        case .invalidSetting(let message):
            return message
        case .cacheUnreadable(let path, let problem):
            return "\(path): cached result unreadable (\(problem)); delete the file to recompute it"
        }
    }
}
