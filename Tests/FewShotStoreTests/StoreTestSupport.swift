import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing

/// A fresh directory per test, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("fewshot-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A random SHA-256-shaped fingerprint (the store only checks its shape).
func randomFingerprint() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
}

/// Basic composition that takes a few milliseconds per answer, like a real accountant, so that a
/// ledger which did not serialize check-and-record would let racing reservations interleave.
struct SlowBasicCompositionAccountant: PrivacyAccountant {
    var name: String { "basic-pure" }
    func supports(_ event: PrivacyEvent) -> Bool { BasicCompositionAccountant().supports(event) }
    func epsilon(for event: PrivacyEvent, delta: Double) throws -> Double {
        usleep(3000)
        return try BasicCompositionAccountant().epsilon(for: event, delta: delta)
    }
}

/// A plan of one demonstration per label, each `tokens` tokens of `.pureDP(perToken)`.
func purePlan(labels: [String?], tokens: Int, perToken: Double) -> GenerationPlan {
    GenerationPlan(demonstrations: labels.map { .init(label: $0, tokenEvent: .pureDP(epsilon: perToken), maxTokens: tokens) })
}

func tokens(_ count: Int) -> [Token] {
    (0..<count).map { Token(id: $0, text: "t\($0) ") }
}

func demonstrationSet(labels: [String], texts: [String], seeded: Bool = false) -> DemonstrationSetRecord {
    DemonstrationSetRecord(
        task: "agnews", labels: labels,
        demonstrations: zip(labels, texts).map { .init(label: $0, text: $1) },
        epsilon: 4, delta: 1e-5, sigma: 0.39, mechanism: .gaussian, sampling: SetSampling(mode: .partition, scheme: .poisson),
        batches: 10, examplesPerBatch: 2, maxTokens: 100, model: "smollm2-135m", seeded: seeded)
}


/// A running probe process whose stdout is read line by line.
final class ProbeProcess {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private var buffer = Data()

    init(_ arguments: [String]) throws {
        process.executableURL = try BuiltExecutable.find("FewShotStoreProbe")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    /// Blocks until a line satisfying `predicate` appears; nil if the output ends first.
    func waitForLine(_ predicate: (String) -> Bool) -> String? {
        while true {
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                if predicate(line) { return line }
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func finish() -> (status: Int32, errors: String) {
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
