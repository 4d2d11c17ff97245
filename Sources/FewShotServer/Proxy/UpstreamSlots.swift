import NIOConcurrencyHelpers

/// A counting semaphore for upstream requests with a bounded, first-come-first-served wait.
///
/// Guarantee: at most `limit` leases exist at once; `acquire` returns within `maxWait` (or at once
/// when cancelled) — `nil` meaning "no slot". A lease is returned exactly once, on `release()` or
/// when it is deallocated, so a response that is dropped unwritten cannot leak a slot.
public final class UpstreamSlots: Sendable {
    public let limit: Int
    private let state = NIOLockedValueBox(State())

    private struct State {
        var inUse = 0
        var nextWaiterID: UInt64 = 0
        var waiters: [Waiter] = []
    }

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
    public var busy: Int { state.withLockedValue { $0.inUse } }

    public func acquire(maxWait: Duration) async -> SlotLease? {
        let limit = self.limit
        let immediate: Bool = state.withLockedValue { state in
            guard state.inUse < limit else { return false }
            state.inUse += 1
            return true
        }
        if immediate { return SlotLease(self) }
        guard maxWait > .zero, !Task.isCancelled else { return nil }

        let id: UInt64 = state.withLockedValue { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let grantedNow: Bool = state.withLockedValue { state in
                    if state.inUse < limit {
                        state.inUse += 1
                        return true
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation, timer: nil))
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
                let stillWaiting: Bool = state.withLockedValue { state in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return false }
                    state.waiters[index].timer = timer
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
        let waiter: Waiter? = state.withLockedValue { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume(returning: false)
    }

    fileprivate func release() {
        // A waiting request takes the slot over directly, so `inUse` stays the same.
        let next: Waiter? = state.withLockedValue { state in
            if state.waiters.isEmpty {
                state.inUse -= 1
                return nil
            }
            return state.waiters.removeFirst()
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
