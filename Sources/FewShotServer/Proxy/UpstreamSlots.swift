import Foundation
import NIOConcurrencyHelpers

/// A counting semaphore for upstream requests with a bounded, first-come-first-served wait.
///
/// Guarantee: at most `limit` leases exist at once; `acquire` returns within `maxWait` (or at once
/// when cancelled) — `nil` meaning "no slot". A lease is returned exactly once, on `release()` or
/// when it is deallocated, so a response that is dropped unwritten cannot leak a slot.
public final class UpstreamSlots: @unchecked Sendable {
    public let limit: Int
    private let lock = NSLock()
    private var inUse = 0
    private var nextWaiterID: UInt64 = 0
    private var waiters: [Waiter] = []

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
        var timer: Task<Void, Never>?
    }

    public init(limit: Int) {
        precondition(limit > 0, "limit must be positive")
        self.limit = limit
    }

    /// Slots in use now (for metrics and tests).
    public var busy: Int { lock.withLock { inUse } }

    public func acquire(maxWait: Duration) async -> SlotLease? {
        let immediate: Bool = lock.withLock {
            guard inUse < limit else { return false }
            inUse += 1
            return true
        }
        if immediate { return SlotLease(self) }
        guard maxWait > .zero, !Task.isCancelled else { return nil }

        let id: UInt64 = lock.withLock {
            nextWaiterID += 1
            return nextWaiterID
        }
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let grantedNow: Bool = lock.withLock {
                    if inUse < limit {
                        inUse += 1
                        return true
                    }
                    waiters.append(Waiter(id: id, continuation: continuation, timer: nil))
                    return false
                }
                if grantedNow {
                    continuation.resume(returning: true)
                    return
                }
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: maxWait)
                    if !Task.isCancelled { self?.abandon(id) }
                }
                let stillWaiting: Bool = lock.withLock {
                    guard let index = waiters.firstIndex(where: { $0.id == id }) else { return false }
                    waiters[index].timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            self.abandon(id)
        }
        return granted ? SlotLease(self) : nil
    }

    private func abandon(_ id: UInt64) {
        let waiter: Waiter? = lock.withLock {
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index)
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume(returning: false)
    }

    fileprivate func release() {
        // A waiting request takes the slot over directly, so `inUse` stays the same.
        let next: Waiter? = lock.withLock {
            if waiters.isEmpty {
                inUse -= 1
                return nil
            }
            return waiters.removeFirst()
        }
        next?.timer?.cancel()
        next?.continuation.resume(returning: true)
    }
}

/// One upstream slot, held from before the upstream call until the response body has been relayed.
public final class SlotLease: Sendable {
    private let slots: UpstreamSlots
    private let released = NIOLockedValueBox(false)

    fileprivate init(_ slots: UpstreamSlots) { self.slots = slots }

    public func release() {
        let first: Bool = released.withLockedValue { released in
            defer { released = true }
            return !released
        }
        if first { slots.release() }
    }

    deinit { release() }
}
