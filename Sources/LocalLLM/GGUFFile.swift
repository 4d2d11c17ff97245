import Foundation

/// Checks that a path is a GGUF model file before a server is pointed at it.
public enum GGUFFile {
    /// Throws `modelNotFound` or `notAGGUFFile`; reads only the first four bytes.
    public static func check(_ url: URL) throws {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw LocalLLMError.modelNotFound(path: url.path)
        }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        guard magic == Data("GGUF".utf8) else { throw LocalLLMError.notAGGUFFile(path: url.path) }
    }
}
