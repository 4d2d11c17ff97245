import Foundation

/// An executable of this package (`fewshot`, `FewShotStoreProbe`) that `swift build` put next to the
/// test bundle, for tests that run real processes.
public enum BuiltExecutable {
    public static func find(_ name: String) throws -> URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = Bundle.main.bundleURL
        if FileManager.default.fileExists(atPath: executable.path) { directory = executable.deletingLastPathComponent() }
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw Missing(name: name)
    }

    public struct Missing: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "\(name) is not next to the test bundle; build it (swift build --build-tests) before the tests" }
    }
}
