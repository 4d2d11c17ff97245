import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// While active, turns SIGINT, SIGTERM and SIGHUP sent to this process into SIGTERM for a child's
/// process group. Foundation starts children in their own process group, so without this a Ctrl-C
/// during `install` would leave cmake and its compilers building on in the background.
final class InterruptForwarding: @unchecked Sendable {
    private static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private var received: Int32?

    init(processGroup: pid_t) {
        for number in Self.signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                self?.lock.withLock { self?.received = number }
                kill(-processGroup, SIGTERM)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The signal that arrived while active, if any.
    var receivedSignal: Int32? { lock.withLock { received } }

    func cancel() {
        lock.withLock {
            for source in sources { source.cancel() }
            sources = []
        }
        for number in Self.signals { signal(number, SIG_DFL) }
    }
}
