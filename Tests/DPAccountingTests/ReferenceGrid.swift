import Foundation
@testable import DPAccounting

/// One (q, sigma, T, delta) setting checked against dp_accounting 0.6.0.
struct ReferenceCase: Codable, Sendable, CustomStringConvertible {
    struct Part: Codable, Sendable {
        var q: Double
        var sigma: Double
        var steps: Int
    }

    var id: String
    var kind: String
    var q: Double?
    var sigma: Double?
    var steps: Int?
    var delta: Double
    var n: Int?
    var m: Int?
    var parts: [Part]?
    /// pld_partition: demonstrations composed (each one Poisson sample and `steps` Gaussian releases).
    var shots: Int?

    var description: String { id }

    /// The same mechanism as a ``PrivacyEvent``.
    var event: PrivacyEvent {
        switch kind {
        case "pld", "rdp_poisson":
            return .selfComposed(event: .poissonSampled(samplingRate: q!, event: .gaussian(noiseMultiplier: sigma!)), count: steps!)
        case "rdp_wor":
            return .selfComposed(event: .sampledWithoutReplacement(sourceSize: n!, sampleSize: m!,
                                                                   event: .gaussian(noiseMultiplier: sigma!)), count: steps!)
        case "gaussian":
            return .selfComposed(event: .gaussian(noiseMultiplier: sigma!), count: steps!)
        case "pld_partition":
            // As fewshot's PrivacyPlan writes an amplified partition-mode demonstration.
            let demonstration = PrivacyEvent.poissonSampled(
                samplingRate: q!, event: .selfComposed(event: .gaussian(noiseMultiplier: sigma!), count: steps!))
            return shots! == 1 ? demonstration : .selfComposed(event: demonstration, count: shots!)
        case "pld_composed":
            return .composed(parts!.map { part in
                let step: PrivacyEvent = part.q < 1
                    ? .poissonSampled(samplingRate: part.q, event: .gaussian(noiseMultiplier: part.sigma))
                    : .gaussian(noiseMultiplier: part.sigma)
                return .selfComposed(event: step, count: part.steps)
            })
        default:
            fatalError("unknown kind \(kind)")
        }
    }
}

/// The grid of reference cases (62 settings) and dp_accounting's answers for them, computed once
/// per test process by one run of Reference/dp_reference.py under `FEWSHOT_TEST_PYTHON`.
enum ReferenceGrid {
    static let agNewsRate = 20.0 / 30000
    static let agNewsDelta = 1.0 / 30000

    static let cases: [ReferenceCase] = {
        var cases: [ReferenceCase] = []
        func add(_ kind: String, q: Double? = nil, sigma: Double? = nil, steps: Int? = nil, delta: Double,
                 n: Int? = nil, m: Int? = nil, parts: [ReferenceCase.Part]? = nil, shots: Int? = nil) {
            cases.append(ReferenceCase(id: "\(kind)-\(cases.count)", kind: kind, q: q, sigma: sigma, steps: steps,
                                       delta: delta, n: n, m: m, parts: parts, shots: shots))
        }
        // PLD: the paper's AGNews setting, then a spread of rates, noise, lengths and deltas.
        for sigma in [0.51, 0.46, 0.39, 0.31] { add("pld", q: agNewsRate, sigma: sigma, steps: 100, delta: agNewsDelta) }
        for sigma in [0.6, 1.0, 2.0] {
            for steps in [10, 100] { add("pld", q: 0.01, sigma: sigma, steps: steps, delta: 1e-5) }
        }
        for sigma in [0.5, 0.8] {
            for steps in [100, 1000] { add("pld", q: 0.001, sigma: sigma, steps: steps, delta: 1e-6) }
        }
        for sigma in [1.0, 3.0] {
            for steps in [1, 50] { add("pld", q: 0.1, sigma: sigma, steps: steps, delta: 1e-5) }
        }
        add("pld", q: 0.5, sigma: 2.0, steps: 10, delta: 1e-5)
        add("pld", q: 0.5, sigma: 5.0, steps: 100, delta: 1e-5)
        add("pld", q: 0.002, sigma: 0.45, steps: 100, delta: 2.5e-5)   // DBPedia-like
        add("pld", q: 0.08, sigma: 0.69, steps: 15, delta: 1e-3)       // TREC-like
        // PLD composition of different mechanisms (FFT convolution of different distributions).
        add("pld_composed", delta: 1e-5, parts: [.init(q: 0.01, sigma: 1.0, steps: 50), .init(q: 0.05, sigma: 2.0, steps: 20)])
        add("pld_composed", delta: agNewsDelta, parts: [.init(q: agNewsRate, sigma: 0.39, steps: 100), .init(q: 1, sigma: 5.0, steps: 3)])
        // Amplified partition mode: PoissonSampled(q, T x Gaussian(sigma)) per demonstration, which
        // dp_accounting takes as PoissonSampled(q, Gaussian(sigma / sqrt(T))); a grid of (q, sigma, T)
        // around algorithm.md's table (AGNews M = 10/200/1000, TREC-like T = 15) and a few shots.
        for (q, sigma) in [(20.0 / 30000, 2.86), (200.0 / 30000, 3.97), (1000.0 / 30000, 5.17), (1000.0 / 30000, 8.41)] {
            add("pld_partition", q: q, sigma: sigma, steps: 100, delta: agNewsDelta, shots: 1)
        }
        for q in [0.01, 0.1, 0.5] {
            for (sigma, steps) in [(1.0, 15), (4.0, 100)] { add("pld_partition", q: q, sigma: sigma, steps: steps, delta: 1e-5, shots: 1) }
        }
        add("pld_partition", q: 0.2, sigma: 2.0, steps: 15, delta: 1e-3, shots: 2)
        add("pld_partition", q: 200.0 / 30000, sigma: 3.0, steps: 100, delta: agNewsDelta, shots: 5)
        // RDP, Poisson sampling.
        for sigma in [0.51, 0.46, 0.39, 0.31] { add("rdp_poisson", q: agNewsRate, sigma: sigma, steps: 100, delta: agNewsDelta) }
        for q in [0.001, 0.01, 0.1, 0.5] {
            for sigma in [0.5, 1.0, 3.0] { add("rdp_poisson", q: q, sigma: sigma, steps: 100, delta: 1e-5) }
        }
        add("rdp_poisson", q: 0.01, sigma: 1.1, steps: 1, delta: 1e-5)
        add("rdp_poisson", q: 0.001, sigma: 0.8, steps: 10000, delta: 1e-6)
        add("rdp_poisson", q: 0.9, sigma: 0.7, steps: 10, delta: 1e-3)
        add("rdp_poisson", q: 0.08, sigma: 0.69, steps: 15, delta: 1e-3)
        // RDP, sampling without replacement (replace-one).
        for sigma in [0.39, 0.51, 1.0] { add("rdp_wor", sigma: sigma, steps: 100, delta: agNewsDelta, n: 30000, m: 20) }
        for sigma in [0.69, 1.5] { add("rdp_wor", sigma: sigma, steps: 15, delta: 1e-3, n: 1000, m: 80) }
        for sigma in [1.0, 2.0, 5.0] {
            for steps in [1, 100] { add("rdp_wor", sigma: sigma, steps: steps, delta: 1e-5, n: 100, m: 10) }
        }
        add("rdp_wor", sigma: 3.0, steps: 10, delta: 1e-5, n: 10, m: 5)
        // Unsampled Gaussian: exact.
        for (sigma, steps, delta) in [(0.5, 1, 1e-5), (1.0, 1, 1e-5), (1.0, 10, 1e-5), (2.0, 100, 1e-6), (5.0, 1, 1e-3), (0.7, 20, 1e-4)] {
            add("gaussian", sigma: sigma, steps: steps, delta: delta)
        }
        return cases
    }()

    static func cases(_ kind: String) -> [ReferenceCase] { cases.filter { $0.kind == kind } }

    struct Failure: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    /// dp_accounting's epsilon for every case id, or why it could not be obtained.
    static let reference: Result<[String: Double], Failure> = run()

    static func epsilon(_ c: ReferenceCase) throws -> Double {
        let all = try reference.get()
        guard let e = all[c.id] else { throw Failure(description: "reference has no result for \(c.id)") }
        return e
    }

    private static func run() -> Result<[String: Double], Failure> {
        guard let python = ProcessInfo.processInfo.environment["FEWSHOT_TEST_PYTHON"], !python.isEmpty else {
            return .failure(Failure(description:
                "FEWSHOT_TEST_PYTHON is not set: run scripts/test, or set it to a Python with dp-accounting==0.6.0 installed"))
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Reference/dp_reference.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
            struct Grid: Encodable { var cases: [ReferenceCase] }
            input.fileHandleForWriting.write(try JSONEncoder().encode(Grid(cases: cases)))
            try input.fileHandleForWriting.close()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                return .failure(Failure(description: "\(python) \(script.path) exited with \(process.terminationStatus): \(errorText)"))
            }
            struct Answer: Decodable { var version: String; var epsilons: [String: Double] }
            let answer = try JSONDecoder().decode(Answer.self, from: data)
            guard answer.version == "0.6.0" else {
                return .failure(Failure(description: "expected dp-accounting 0.6.0 under \(python), found \(answer.version)"))
            }
            return .success(answer.epsilons)
        } catch {
            return .failure(Failure(description: "running \(python) \(script.path) failed: \(error)"))
        }
    }
}
