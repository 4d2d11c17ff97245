import ArgumentParser
import DPAccounting
import Foundation

/// `fewshot-bench accountant`: times the accountants on the paper's AGNews setting and prints the
/// paper cross-check values (sigma -> epsilon, epsilon -> sigma).
struct AccountantBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accountant",
        abstract: "Time PLD/RDP epsilon and sigma calibration on AGNews (q = 20/30000, T = 100, delta = 1/30000).")

    @Option(help: "Timed repetitions per measurement (the minimum and median are printed).")
    var repetitions = 3

    static let samplingRate = 20.0 / 30000
    static let steps = 100
    static let delta = 1.0 / 30000

    static func event(_ sigma: Double) -> PrivacyEvent {
        .selfComposed(event: .poissonSampled(samplingRate: samplingRate, event: .gaussian(noiseMultiplier: sigma)), count: steps)
    }

    /// Wall-clock and process CPU milliseconds of `body` (CPU counts both threads of the PLD).
    static func measure<T>(_ body: () throws -> T) rethrows -> (value: T, wallMs: Double, cpuMs: Double) {
        let c0 = clock()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        let cpu = Double(clock() - c0) / Double(CLOCKS_PER_SEC) * 1000
        return (value, wall, cpu)
    }

    func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        var walls: [Double] = [], cpus: [Double] = []
        var value: T? = nil
        for _ in 0..<max(1, repetitions) {
            let m = try Self.measure(body)
            value = m.value
            walls.append(m.wallMs)
            cpus.append(m.cpuMs)
        }
        walls.sort()
        cpus.sort()
        print(String(format: "%@: wall min %.1f ms, median %.1f ms; cpu min %.1f ms, median %.1f ms (%d runs)",
                     label, walls[0], walls[walls.count / 2], cpus[0], cpus[cpus.count / 2], walls.count))
        return value!
    }

    func run() throws {
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first ?? "?"
        print("AGNews setting: q = 20/30000, T = 100, delta = 1/30000; machine load average \(load), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        // No result cache, so repetitions measure the computation.
        let pld = PLDAccountant(cachesResults: false), rdp = RDPAccountant()
        let fresh = DefaultAccountant(pld: pld, rdp: rdp)
        let e1 = try timed("PLD epsilon (sigma 0.39)") { try pld.epsilon(for: Self.event(0.39), delta: Self.delta) }
        let e2 = try timed("RDP epsilon (sigma 0.39)") { try rdp.epsilon(for: Self.event(0.39), delta: Self.delta) }
        let s = try timed("full calibration (epsilon 4, default accountant)") {
            try Calibration.subsampledGaussianNoiseMultiplier(epsilon: 4, delta: Self.delta, samplingRate: Self.samplingRate,
                                                              steps: Self.steps, accountant: fresh)
        }
        print(String(format: "  -> PLD epsilon %.4f, RDP epsilon %.4f, calibrated sigma %.4f", e1, e2, s))

        print("Paper cross-check, sigma -> epsilon (dp_accounting 0.6.0 PLD: 0.965 / 1.789 / 3.815 / 7.967; RDP: 2.725 / 3.593 / 5.595 / 10.381):")
        for sigma in [0.51, 0.46, 0.39, 0.31] {
            let p = try pld.epsilon(for: Self.event(sigma), delta: Self.delta)
            let r = try rdp.epsilon(for: Self.event(sigma), delta: Self.delta)
            print(String(format: "  sigma %.2f: PLD epsilon %.4f, RDP epsilon %.4f", sigma, p, r))
        }
        print("Paper cross-check, epsilon -> sigma (paper, PRV accountant: 0.51 / 0.46 / 0.39 / 0.31):")
        for target in [1.0, 2, 4, 8] {
            let m = try Self.measure {
                try Calibration.subsampledGaussianNoiseMultiplier(epsilon: target, delta: Self.delta,
                                                                  samplingRate: Self.samplingRate, steps: Self.steps,
                                                                  accountant: fresh)
            }
            let r = try Calibration.subsampledGaussianNoiseMultiplier(epsilon: target, delta: Self.delta,
                                                                      samplingRate: Self.samplingRate, steps: Self.steps,
                                                                      accountant: rdp)
            print(String(format: "  epsilon %.0f: PLD sigma %.4f (%.0f ms wall, %.0f ms cpu), RDP sigma %.4f",
                         target, m.value, m.wallMs, m.cpuMs, r))
        }
    }
}
