import Foundation

/// How fewshot prints an epsilon (or a delta or noise multiplier) for people, everywhere it prints
/// one: "inf" when unbounded (the no-noise baseline), "nan" if a computation went wrong, else the
/// number in `format` (`%.4g` by default; a one-line summary may ask for fixed digits).
public enum EpsilonText {
    public static func format(_ value: Double, _ format: String = "%.4g") -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: format, value)
    }
}
