import Testing
@testable import DPAccounting

/// Every printed epsilon, delta or sigma goes through one formatter: unbounded values read "inf"
/// (never a number), a failed computation reads "nan", others keep the caller's digits.
@Suite struct EpsilonTextTests {
    @Test func unboundedAndFailedValuesAreWords() {
        #expect(EpsilonText.format(.infinity) == "inf" && EpsilonText.format(.infinity, "%.3f") == "inf")
        #expect(EpsilonText.format(-.infinity) == "-inf")
        #expect(EpsilonText.format(.nan) == "nan")
    }

    @Test func finiteValuesUseTheCallersFormat() {
        #expect(EpsilonText.format(3.994_61) == "3.995" && EpsilonText.format(3.999_61) == "4")
        #expect(EpsilonText.format(1.0 / 3_000) == "0.0003333")
        #expect(EpsilonText.format(3.999_61, "%.3f") == "4.000")
        #expect(EpsilonText.format(0.613_72, "%.4f") == "0.6137")
    }
}
