import Foundation
import Logging
import Synchronization

/// Collects every log line of a logger in memory, so tests can check what was (and was not) logged.
public final class LogCapture: Sendable {
    public init() {}
    private let lines = Mutex<[String]>([])

    public func append(_ line: String) { lines.withLock { $0.append(line) } }
    public var text: String { lines.withLock { $0.joined(separator: "\n") } }

    public var handler: CapturingLogHandler { CapturingLogHandler(sink: self) }
}

public struct CapturingLogHandler: LogHandler {
    let sink: LogCapture
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append("\(event.level) \(event.message) \(merged)")
    }
}

