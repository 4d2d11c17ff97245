/// A problem in a file the user gave (a private data file, a demonstration file, a task file, the serve
/// configuration): the file, the line and column where known, the field (a dotted path) where there is
/// one, and what is wrong. The one error type for all of them, so every such message reads alike:
/// `file:line:column: field 'x': problem`. Never quotes private example text.
public struct FileProblem: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var problem: String

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.problem = problem
    }

    /// A problem a document reader found (``DocumentProblem``), placed in `file`.
    public init(file: String, problem: DocumentProblem) {
        self.init(file: file, line: problem.line, column: problem.column, field: problem.field, problem: problem.problem)
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        if let field { return "\(location): field '\(field)': \(problem)" }
        return "\(location): \(problem)"
    }
}
