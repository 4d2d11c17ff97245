import Foundation

extension EvalReport {
    /// A markdown table shaped like the paper's Table 3: one row per task (and one more with
    /// contextual calibration), one column per condition, accuracy in % as mean ± std over seeds.
    public func markdownTable() -> String {
        let conditions = settings.conditions
        var lines: [String] = []
        let seeds = settings.seeds.map(String.init).joined(separator: ", ")
        lines.append("Model: \(model). Accuracy (%), mean ± std over seeds \(seeds); deterministic conditions (0-shot, ε=0) run once.")
        let sizes = tasks.map { "\($0): \(testExamples(task: $0).map(String.init) ?? "?") test examples" }
        lines.append("Test subsets (seed \(settings.subsetSeed)): \(sizes.joined(separator: ", ")). Prompt cache: \(settings.cachePrompt ? "on" : "off").")
        lines.append("")
        lines.append("| Task | " + conditions.map(\.title).joined(separator: " | ") + " |")
        lines.append("|---|" + conditions.map { _ in "---|" }.joined())
        for task in tasks {
            for calibrated in [false, true] {
                let name = calibrated ? "\(task) (calibrated)" : task
                let values = conditions.map { summary(task: task, condition: $0, calibrated: calibrated)?.text ?? "–" }
                lines.append("| \(name) | " + values.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per (task, condition, seed) with every number of the cell.
    public func csv() -> String {
        var lines = ["task,condition,epsilon,seed,test_examples,correct,accuracy,correct_calibrated,calibrated_accuracy,seconds,seconds_per_classification"]
        for cell in cells {
            let fields: [String] = [
                Self.csvField(cell.task), cell.condition, cell.epsilon ?? "", String(cell.seed), String(cell.testExamples),
                String(cell.correct), String(format: "%.4f", cell.accuracy), String(cell.correctCalibrated),
                String(format: "%.4f", cell.calibratedAccuracy), String(format: "%.1f", cell.seconds),
                String(format: "%.4f", cell.classifications > 0 ? cell.classificationSeconds / Double(cell.classifications) : 0),
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
