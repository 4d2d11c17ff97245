import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the operating system says about a PID, read from /proc (Linux).
enum ProcessTable {
    /// The process's argv joined by spaces; nil if there is no such live process
    /// (a zombie has an empty command line and counts as gone).
    static func commandLine(of pid: Int32) -> String? {
        guard pid > 0,
              let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              !data.isEmpty
        else { return nil }
        let parts = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return parts.joined(separator: " ")
    }

    static func isAlive(_ pid: Int32) -> Bool { commandLine(of: pid) != nil }

    /// True when the process's program (argv[0]) is named llama-server.
    static func isLlamaServer(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              let first = data.split(separator: 0).first
        else { return false }
        let program = String(decoding: first, as: UTF8.self)
        return (program as NSString).lastPathComponent == "llama-server"
    }

    static func signal(_ pid: Int32, _ signal: Int32) {
        _ = kill(pid, signal)
    }
}
