import Foundation

/// Why a file could not be read, in words that say what to do (not a Foundation error number).
enum FileReading {
    static func problem(_ url: URL, _ error: any Error) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            return "no such file; check the path (relative paths start at the current directory)"
        }
        if isDirectory.boolValue { return "is a directory; give the path of a file inside it" }
        if !FileManager.default.isReadableFile(atPath: url.path) { return "cannot be read: permission denied" }
        if (error as? CocoaError)?.code == .fileReadInapplicableStringEncoding { return "invalid UTF-8" }
        return "cannot be read (\((error as NSError).localizedFailureReason ?? "I/O error"))"
    }
}
