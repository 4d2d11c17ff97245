import FewShotCore
import Foundation
import Testing
@testable import FewShotEval
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct EvalReportTests {
    func cell(_ task: String, _ condition: EvalCondition, seed: UInt64, correct: Int, calibrated: Int, of total: Int = 10) -> EvalCellResult {
        EvalCellResult(
            task: task, condition: condition.id, epsilon: condition.epsilon.map { $0.isInfinite ? "inf" : EvalCondition.format($0) },
            seed: seed, testExamples: total, correct: correct, correctCalibrated: calibrated,
            contentFreeProbabilities: [0.5, 0.25, 0.25], demonstrations: nil, notes: [:], seconds: 1.5, classificationSeconds: 1.3, classifications: 13, fingerprint: "f")
    }

    var report: EvalReport {
        let conditions = EvalCondition.standard(epsilons: [1, 8])
        var cells: [EvalCellResult] = []
        for task in ["TREC", "AGNews"] {
            cells.append(cell(task, .zeroShot, seed: 0, correct: 3, calibrated: 4))
            cells.append(cell(task, .publicOnly, seed: 0, correct: 4, calibrated: 5))
            for condition in [EvalCondition.privateGenerated(epsilon: 1), .privateGenerated(epsilon: 8), .nonPrivateGenerated, .realExamples] {
                cells.append(cell(task, condition, seed: 0, correct: 5, calibrated: 6))
                cells.append(cell(task, condition, seed: 1, correct: 7, calibrated: 6))
            }
        }
        return EvalReport(model: "fake", settings: EvalSettings(conditions: conditions, seeds: [0, 1], testCount: 10), tasks: ["TREC", "AGNews"], cells: cells)
    }

    @Test func summaryIsMeanAndPopulationStd() throws {
        let summary = try #require(report.summary(task: "TREC", condition: .privateGenerated(epsilon: 1), calibrated: false))
        #expect(abs(summary.mean - 0.6) < 1e-12 && abs(summary.standardDeviation - 0.1) < 1e-12 && summary.runs == 2)
        #expect(summary.text == "60.0 ± 10.0")
        #expect(report.summary(task: "TREC", condition: .privateGenerated(epsilon: 2), calibrated: false) == nil)
    }

    @Test func markdownTableHasATaskRowPerCalibrationAndAColumnPerCondition() {
        let lines = report.markdownTable().split(separator: "\n").map(String.init)
        let tableLines = lines.filter { $0.hasPrefix("|") }
        #expect(tableLines.count == 2 + 4)
        #expect(tableLines[0] == "| Task | 0-shot | ε=0 | ε=1 | ε=8 | ε=∞ | real (non-private) |")
        #expect(tableLines[2] == "| TREC | 30.0 ± 0.0 | 40.0 ± 0.0 | 60.0 ± 10.0 | 60.0 ± 10.0 | 60.0 ± 10.0 | 60.0 ± 10.0 |")
        #expect(tableLines[3].hasPrefix("| TREC (calibrated) | 40.0 ± 0.0 | 50.0 ± 0.0 | 60.0 ± 0.0 |"))
        #expect(tableLines.allSatisfy { $0.filter { $0 == "|" }.count == 8 })
    }

    @Test func csvHasOneRowPerCell() {
        let rows = report.csv().split(separator: "\n").map(String.init)
        #expect(rows.count == 1 + report.cells.count)
        #expect(rows[0] == "task,condition,epsilon,seed,test_examples,correct,accuracy,correct_calibrated,calibrated_accuracy,seconds,seconds_per_classification")
        #expect(rows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 11 })
        #expect(rows.contains("TREC,eps-inf,inf,1,10,7,0.7000,6,0.6000,1.5,0.1000"))
        #expect(rows.contains("AGNews,zero-shot,,0,10,3,0.3000,4,0.4000,1.5,0.1000"))
    }

    @Test func jsonRoundTrips() throws {
        let data = try report.jsonData()
        #expect(try EvalReport.read(json: data) == report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((object["cells"] as? [Any])?.count == report.cells.count)
    }

    @Test func svgIsWellFormedAndLabelled() throws {
        let svg = report.accuracyPlotSVG(task: "TREC")
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        for text in ["TREC: accuracy against privacy budget ε", "accuracy (%)", "privacy budget ε", "ε=0", "ε=1", "ε=8", "ε=∞",
                     "0-shot 30.0", "real 60.0", "chance", "with contextual calibration", "real training examples (non-private)"] {
            #expect(svg.contains(text), "missing \(text)")
        }
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2 * 4)
    }

    @Test func writeProducesAllFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-report-\(UUID().uuidString)")
        let urls = try report.write(to: directory)
        #expect(Set(urls.map(\.lastPathComponent)) == ["table.md", "results.csv", "results.json", "accuracy-TREC.svg", "accuracy-AGNews.svg"])
    }
}
