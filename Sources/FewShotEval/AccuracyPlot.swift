import Foundation

extension EvalReport {
    /// A self-contained SVG of accuracy against epsilon for one task: two panels (raw and with
    /// contextual calibration), the generated-demonstration conditions (ε = 0, the DP epsilons, ε = ∞)
    /// as a line with ±std bars, and 0-shot, real-example and chance accuracy as horizontal lines.
    public func accuracyPlotSVG(task: String) -> String {
        AccuracyPlot(report: self, task: task).svg()
    }
}

/// Hand-written SVG (no plotting package is available): fixed layout, categorical epsilon axis.
struct AccuracyPlot {
    let report: EvalReport
    let task: String

    let width = 1060.0, height = 530.0
    let top = 100.0, bottom = 390.0, panelWidth = 360.0
    let panelLefts = [80.0, 600.0]

    static let seriesColor = "#1f77b4", zeroShotColor = "#555555", realColor = "#2ca02c", chanceColor = "#d62728"

    var epsilonConditions: [EvalCondition] { report.settings.conditions.filter { $0.epsilon != nil } }

    func svg() -> String {
        let range = yRange()
        var out: [String] = []
        out.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#)
        out.append(#"<rect width="100%" height="100%" fill="white"/>"#)
        out.append(text(width / 2, 32, "\(task): accuracy against privacy budget ε", size: 20, anchor: "middle", weight: "bold"))
        let n = report.testExamples(task: task).map(String.init) ?? "?"
        let seeds = report.settings.seeds.count
        out.append(text(width / 2, 56, "model \(report.model); \(n) test examples; mean ± std over \(seeds) seed\(seeds == 1 ? "" : "s")", size: 13, anchor: "middle", color: "#333"))
        for (panel, calibrated) in [false, true].enumerated() {
            out.append(contentsOf: drawPanel(left: panelLefts[panel], calibrated: calibrated, range: range))
        }
        out.append(contentsOf: legend())
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    func drawPanel(left: Double, calibrated: Bool, range: (Double, Double)) -> [String] {
        var out: [String] = []
        let right = left + panelWidth
        func y(_ value: Double) -> Double { bottom - (value - range.0) / (range.1 - range.0) * (bottom - top) }
        out.append(text(left + panelWidth / 2, top - 14, calibrated ? "with contextual calibration" : "raw", size: 15, anchor: "middle", weight: "bold"))
        let step = range.1 - range.0 > 0.35 ? 0.1 : 0.05
        var tick = (range.0 / step).rounded(.up) * step
        while tick <= range.1 + 1e-9 {
            out.append(line(left, y(tick), right, y(tick), color: "#e5e5e5"))
            out.append(text(left - 8, y(tick) + 4, String(format: "%.0f", tick * 100), size: 12, anchor: "end"))
            tick += step
        }
        out.append(line(left, bottom, right, bottom, color: "#000"))
        out.append(line(left, top, left, bottom, color: "#000"))
        out.append(#"<text x="\#(fmt(left - 48))" y="\#(fmt((top + bottom) / 2))" font-size="13" text-anchor="middle" transform="rotate(-90 \#(fmt(left - 48)) \#(fmt((top + bottom) / 2)))">accuracy (%)</text>"#)
        out.append(text(left + panelWidth / 2, bottom + 44, "privacy budget ε  (ε=0: public prompt only; ε=∞: no noise)", size: 12, anchor: "middle"))

        let conditions = epsilonConditions
        let slot = panelWidth / Double(max(conditions.count, 1))
        func x(_ index: Int) -> Double { left + slot * (Double(index) + 0.5) }
        for (index, condition) in conditions.enumerated() {
            out.append(line(x(index), bottom, x(index), bottom + 5, color: "#000"))
            out.append(text(x(index), bottom + 20, condition.title, size: 13, anchor: "middle"))
        }

        let references: [(EvalCondition, String, String, String)] = [
            (.zeroShot, Self.zeroShotColor, "6,4", "0-shot"),
            (.realExamples, Self.realColor, "10,3,2,3", "real"),
        ]
        for (condition, color, dash, name) in references {
            guard let summary = report.summary(task: task, condition: condition, calibrated: calibrated) else { continue }
            out.append(line(left, y(summary.mean), right, y(summary.mean), color: color, width: 2, dash: dash))
            // Beside the panel, so it never covers a point's label.
            out.append(text(right + 5, y(summary.mean) + 4, "\(name) \(String(format: "%.1f", summary.mean * 100))", size: 11, anchor: "start", color: color))
        }
        if let labels = chanceLevel() {
            out.append(line(left, y(labels), right, y(labels), color: Self.chanceColor, width: 1, dash: "2,3"))
            out.append(text(left + 4, y(labels) - 4, "chance", size: 11, anchor: "start", color: Self.chanceColor))
        }

        var points: [(Double, Double)] = []
        for (index, condition) in conditions.enumerated() {
            guard let summary = report.summary(task: task, condition: condition, calibrated: calibrated) else { continue }
            let px = x(index), py = y(summary.mean)
            points.append((px, py))
            if summary.standardDeviation > 0 {
                let lo = y(summary.mean - summary.standardDeviation), hi = y(summary.mean + summary.standardDeviation)
                out.append(line(px, lo, px, hi, color: Self.seriesColor, width: 1.5))
                out.append(line(px - 5, lo, px + 5, lo, color: Self.seriesColor, width: 1.5))
                out.append(line(px - 5, hi, px + 5, hi, color: Self.seriesColor, width: 1.5))
            }
            out.append(text(px + 7, py - 7, String(format: "%.1f", summary.mean * 100), size: 11, anchor: "start", color: Self.seriesColor, halo: true))
        }
        if points.count > 1 {
            let path = points.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
            out.append(#"<polyline points="\#(path)" fill="none" stroke="\#(Self.seriesColor)" stroke-width="2.5"/>"#)
        }
        for (px, py) in points {
            out.append(#"<circle cx="\#(fmt(px))" cy="\#(fmt(py))" r="4.5" fill="\#(Self.seriesColor)"/>"#)
        }
        return out
    }

    func legend() -> [String] {
        let items: [(String, String, String?)] = [
            (Self.seriesColor, "generated demonstrations (ε=0 public, DP ε, ε=∞), ±std", nil),
            (Self.zeroShotColor, "0-shot (no demonstrations)", "6,4"),
            (Self.realColor, "real training examples (non-private)", "10,3,2,3"),
            (Self.chanceColor, "chance (1 / labels)", "2,3"),
        ]
        var out: [String] = []
        for (index, (color, label, dash)) in items.enumerated() {
            let x = index % 2 == 0 ? 80.0 : 600.0
            let y = height - 58 + Double(index / 2) * 24
            out.append(line(x, y, x + 30, y, color: color, width: dash == nil ? 2.5 : 2, dash: dash))
            out.append(text(x + 36, y + 4, label, size: 12, anchor: "start"))
        }
        return out
    }

    func chanceLevel() -> Double? {
        guard let labels = report.cells.first(where: { $0.task == task })?.contentFreeProbabilities.count, labels > 0 else { return nil }
        return 1 / Double(labels)
    }

    func yRange() -> (Double, Double) {
        var values: [Double] = []
        for condition in report.settings.conditions {
            for calibrated in [false, true] {
                guard let s = report.summary(task: task, condition: condition, calibrated: calibrated) else { continue }
                values += [s.mean - s.standardDeviation, s.mean + s.standardDeviation]
            }
        }
        if let chance = chanceLevel() { values.append(chance) }
        guard let low = values.min(), let high = values.max() else { return (0, 1) }
        var lo = max(0, ((low - 0.03) * 10).rounded(.down) / 10)
        var hi = min(1, ((high + 0.03) * 10).rounded(.up) / 10)
        if hi - lo < 0.2 { lo = max(0, lo - 0.1); hi = min(1, hi + 0.1) }
        return (lo, hi)
    }

    func text(_ x: Double, _ y: Double, _ content: String, size: Int, anchor: String, color: String = "#000", weight: String = "normal", halo: Bool = false) -> String {
        // A white outline painted under the glyphs keeps a value readable where it crosses a line.
        let outline = halo ? #" stroke="white" stroke-width="3" paint-order="stroke""# : ""
        return #"<text x="\#(fmt(x))" y="\#(fmt(y))" font-size="\#(size)" text-anchor="\#(anchor)" fill="\#(color)" font-weight="\#(weight)"\#(outline)>\#(escape(content))</text>"#
    }

    func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, color: String, width: Double = 1, dash: String? = nil) -> String {
        let dashAttribute = dash.map { #" stroke-dasharray="\#($0)""# } ?? ""
        return #"<line x1="\#(fmt(x1))" y1="\#(fmt(y1))" x2="\#(fmt(x2))" y2="\#(fmt(y2))" stroke="\#(color)" stroke-width="\#(fmt(width))"\#(dashAttribute)/>"#
    }

    func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
