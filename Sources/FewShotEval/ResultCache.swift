import Foundation

/// Finished cells on disk, one JSON file per (task, condition, seed) under
/// `<directory>/cells/<task>/<condition>/seed-<seed>.json`, so an interrupted evaluation resumes
/// where it stopped. Files are written atomically: a cell is either complete or absent.
public struct ResultCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func url(task: String, condition: EvalCondition, seed: UInt64) -> URL {
        directory.appendingPathComponent("cells")
            .appendingPathComponent(Self.safeName(task))
            .appendingPathComponent(condition.id)
            .appendingPathComponent("seed-\(seed).json")
    }

    /// The cached cell, or nil when there is none.
    public func load(task: String, condition: EvalCondition, seed: UInt64) throws -> EvalCellResult? {
        let file = url(task: task, condition: condition, seed: seed)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do {
            return try JSONDecoder().decode(EvalCellResult.self, from: Data(contentsOf: file))
        } catch {
            throw EvalError.cacheUnreadable(path: file.path, problem: "\(error)")
        }
    }

    public func store(_ cell: EvalCellResult, condition: EvalCondition) throws {
        let file = url(task: cell.task, condition: condition, seed: cell.seed)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(cell).write(to: file, options: .atomic)
    }

    static func safeName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }
}

/// FNV-1a 64-bit, hex: a stable fingerprint of the settings a cell was computed under.
enum Fingerprint {
    static func of(_ parts: [String]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in parts.joined(separator: "\u{1F}").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        return String(hash, radix: 16)
    }
}
