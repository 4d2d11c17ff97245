import DPAccounting
import Foundation
import Testing

/// `fewshot account` as a user runs it: the mechanism and accountant options it shares with `gen`,
/// the JSON it prints (the names `gen` and the store use), and the accountant's own numbers.
@Suite struct AccountCommandTests {
    /// The `--json` object, decoded by field (JSONSerialization on Linux can round a double's last bit).
    struct Output: Decodable {
        var epsilon: Double
        var delta: Double
        var sigma: Double
        var steps: Int
        var sampling_rate: Double
        var sampling: String
        var mechanism: String
        var accountant: String
    }

    static func account(_ arguments: [String]) async throws -> Output {
        let result = try await ChildProcess.run(["account"] + arguments + ["--json"])
        try #require(result.status == 0, "fewshot account \(arguments.joined(separator: " ")): \(result.stderr)")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = EpsilonJSON.decoding
        return try decoder.decode(Output.self, from: Data(result.stdout.utf8))
    }

    @Test func epsilonForASigmaIsThePLDAccountantsAndNamesWhatItPriced() async throws {
        let output = try await Self.account(["--sigma", "1", "--sampling-rate", "0.01", "--steps", "100", "--delta", "1e-5"])
        let event = PrivacyEvent.selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1)), count: 100)
        #expect(output.epsilon == (try PLDAccountant().epsilon(for: event, delta: 1e-5)))
        #expect(output.mechanism == "gaussian" && output.sampling == "poisson" && output.accountant == "pld")
        #expect(output.sampling_rate == 0.01 && output.steps == 100 && output.sigma == 1 && output.delta == 1e-5)
    }

    @Test func theSharedOptionsReachTheEventAndTheOutput() async throws {
        let output = try await Self.account([
            "--epsilon", "2", "--dataset-size", "1000", "--sample-size", "10", "--sampling", "without-replacement",
            "--steps", "10", "--accountant", "rdp", "--mechanism", "exponential",
        ])
        #expect(output.mechanism == "exponential" && output.sampling == "without-replacement")
        #expect(output.accountant == "rdp" && output.delta == 1e-3)
        let event = PrivacyEvent.selfComposed(
            event: .sampledWithoutReplacement(sourceSize: 1000, sampleSize: 10, event: ExponentialMechanism.event(noiseMultiplier: output.sigma)),
            count: 10)
        let epsilon = try RDPAccountant().epsilon(for: event, delta: 1e-3)
        #expect(epsilon <= 2 && epsilon == output.epsilon)
    }

    /// A noise multiplier too small to be noise: epsilon is unbounded, and the JSON says "inf" (it
    /// used to print 0 for an unsampled Gaussian, and to fail to encode an infinite epsilon).
    @Test func noNoiseIsAnInfiniteEpsilonInJSON() async throws {
        for accountant in ["pld", "rdp", "auto"] {
            let output = try await Self.account(["--sigma", "1e-200", "--sampling", "none", "--steps", "3", "--delta", "1e-5", "--accountant", accountant])
            #expect(output.epsilon == .infinity, "\(accountant)")
        }
    }

    /// The exponential mechanism at a small noise multiplier: 40 per step used to trap the process in
    /// PLD; beyond PLD's grid, auto answers with RDP, as the default accountant does for gen.
    @Test func largePureEpsilonsAreAnsweredNotCrashedOn() async throws {
        let forty = try await Self.account(["--sigma", "0.05", "--mechanism", "exponential", "--sampling", "none", "--steps", "1", "--delta", "1e-5", "--accountant", "pld"])
        #expect(abs(forty.epsilon - 40) < 2e-4 && forty.accountant == "pld")
        let huge = try await Self.account(["--sigma", "1e-5", "--mechanism", "exponential", "--sampling", "none", "--steps", "1", "--delta", "1e-5"])
        #expect(huge.accountant == "rdp" && huge.epsilon >= 2e5 * (1 - 1e-9))
    }
}
