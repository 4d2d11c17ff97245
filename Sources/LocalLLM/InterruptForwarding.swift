import Dispatch
import Foundation
import NIOConcurrencyHelpers
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
    private let sources = NIOLockedValueBox<[any DispatchSourceSignal]>([])
    private let received = NIOLockedValueBox<Int32?>(nil)

    init(processGroup: pid_t) {
        for number in Self.signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                self?.received.withLockedValue { $0 = number }
                kill(-processGroup, SIGTERM)
            }
            source.resume()
            sources.withLockedValue { $0.append(source) }
        }
    }

    /// The signal that arrived while active, if any.
    var receivedSignal: Int32? { received.withLockedValue { $0 } }

    func cancel() {
        sources.withLockedValue { sources in
            for source in sources { source.cancel() }
            sources = []
        }
        for number in Self.signals { signal(number, SIG_DFL) }
    }
}
