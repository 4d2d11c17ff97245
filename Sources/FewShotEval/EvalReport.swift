import Foundation

/// Every cell of an evaluation, and the summaries built from them (table, CSV, JSON, plot).
///
/// Guarantees: the summaries are computed from `cells` alone, so a report read back from its JSON
/// renders the same table and plot.
public struct EvalReport: Sendable, Hashable, Codable {
    public var model: String
    public var settings: EvalSettings
    public var tasks: [String]
    public var cells: [EvalCellResult]

    public init(model: String, settings: EvalSettings, tasks: [String], cells: [EvalCellResult]) {
        self.model = model
        self.settings = settings
        self.tasks = tasks
        self.cells = cells
    }

    public func cells(task: String, condition: EvalCondition) -> [EvalCellResult] {
        cells.filter { $0.task == task && $0.condition == condition.id }.sorted { $0.seed < $1.seed }
    }

    /// Mean and standard deviation (population, as numpy's default) over seeds; nil when no cell ran.
    public func summary(task: String, condition: EvalCondition, calibrated: Bool) -> AccuracySummary? {
        let values = cells(task: task, condition: condition).map { calibrated ? $0.calibratedAccuracy : $0.accuracy }
        return AccuracySummary(values)
    }

    /// Test examples each task was scored on.
    public func testExamples(task: String) -> Int? { cells.first { $0.task == task }?.testExamples }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func read(json: Data) throws -> EvalReport { try JSONDecoder().decode(EvalReport.self, from: json) }

    /// Writes `table.md`, `results.csv`, `results.json` and one `accuracy-<task>.svg` per task.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [URL] = []
        func put(_ name: String, _ data: Data) throws {
            let url = directory.appendingPathComponent(name)
            try data.write(to: url, options: .atomic)
            written.append(url)
        }
        try put("table.md", Data(markdownTable().utf8))
        try put("results.csv", Data(csv().utf8))
        try put("results.json", jsonData())
        for task in tasks {
            try put("accuracy-\(ResultCache.safeName(task)).svg", Data(accuracyPlotSVG(task: task).utf8))
        }
        return written
    }
}

/// Mean and population standard deviation of accuracies over runs.
public struct AccuracySummary: Sendable, Hashable {
    public var mean: Double
    public var standardDeviation: Double
    public var runs: Int

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        runs = values.count
        mean = values.reduce(0, +) / Double(values.count)
        let m = mean
        standardDeviation = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count)).squareRoot()
    }

    /// "71.3 ± 2.1" in percent.
    public var text: String { String(format: "%.1f ± %.1f", mean * 100, standardDeviation * 100) }
}
