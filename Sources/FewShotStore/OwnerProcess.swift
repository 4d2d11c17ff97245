import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Identifies the process that runs a generation, so that another process can tell whether it is
/// still alive: host name, process id, and (on Linux) the process start time from `/proc`, which
/// guards against a recycled pid. A generation owned by another host is never presumed dead.
package struct OwnerProcess: Sendable, Hashable {
    package var host: String
    package var pid: Int32
    /// Start time in clock ticks since boot (`/proc/<pid>/stat` field 22); empty where unknown.
    package var startTime: String

    package init(host: String, pid: Int32, startTime: String) {
        self.host = host
        self.pid = pid
        self.startTime = startTime
    }

    package static let current: OwnerProcess = {
        let pid = getpid()
        return OwnerProcess(host: currentHost(), pid: pid, startTime: procStat(pid)?.startTime ?? "")
    }()

    /// Whether the process is known to have ended. False when it might still run (other host, no permission to tell).
    package var hasEnded: Bool {
        guard host == OwnerProcess.current.host else { return false }
        if self == OwnerProcess.current { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        #if os(Linux)
        guard let stat = OwnerProcess.procStat(pid) else { return true }
        if stat.state == "Z" || stat.state == "X" { return true }
        if !startTime.isEmpty && stat.startTime != startTime { return true }
        #endif
        return false
    }

    private static func currentHost() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// State letter and start time of `pid` from `/proc/<pid>/stat`; nil if it cannot be read.
    private static func procStat(_ pid: Int32) -> (state: String, startTime: String)? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return (String(fields[0]), String(fields[19]))
        #else
        return nil
        #endif
    }
}
