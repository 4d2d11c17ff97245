import Crypto
import Foundation

/// SHA-256 of model files, and the one way a downloaded model file is put in place.
public enum ModelChecksum {
    /// Lower-case hex SHA-256 of the file's bytes, read 4 MiB at a time.
    public static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 4 << 20), !block.isEmpty {
            hasher.update(data: block)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// True when `url` exists and its SHA-256 is `expected`.
    public static func matches(_ url: URL, expected: String) -> Bool {
        (try? sha256(of: url)) == expected.lowercased()
    }

    /// Renames `staged` to `destination` if its SHA-256 is the model's; otherwise removes `staged`
    /// and throws `checksumMismatch`, leaving `destination` absent.
    ///
    /// Guarantees: `destination` never holds a file whose checksum was not verified.
    static func moveIntoPlace(staged: URL, destination: URL, model: LocalModel) throws {
        let fm = FileManager.default
        let actual: String
        do {
            actual = try sha256(of: staged)
        } catch {
            try? fm.removeItem(at: staged)
            throw LocalLLMError.modelNotFound(path: staged.path)
        }
        guard actual == model.sha256.lowercased() else {
            try? fm.removeItem(at: staged)
            throw LocalLLMError.checksumMismatch(
                model: model.name, requirements: model.requirements, expected: model.sha256, actual: actual,
                removed: staged.path)
        }
        try? fm.removeItem(at: destination)
        try fm.moveItem(at: staged, to: destination)
    }
}
