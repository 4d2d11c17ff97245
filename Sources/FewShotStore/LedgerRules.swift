import Foundation

// The ledger's rules about who may change a generation and what a checkpoint may record, in one
// place: both backends enforce exactly these, each inside its own transaction.

extension GenerationRow {
    /// Refuses an `operation` this process may not do to the generation, naming the generation and why:
    /// a running one only by the process that runs it (`ours`); a failed one only where `failedToo`
    /// (abandoning it; any process may); a completed or abandoned one never.
    package func permit(_ operation: String, ours: Bool, failedToo: Bool = false) throws {
        switch status {
        case .running:
            guard ours else { throw StoreError.generationOwnedByLiveProcess(id: id, host: owner.host, pid: owner.pid) }
        case .failed where failedToo:
            return
        case .failed, .completed, .abandoned:
            throw StoreError.generationNotActive(id: id, status: status, operation: operation)
        }
    }

    /// Refuses to resume anything but a failed generation: a running one is still run by a live
    /// process (this one too: a process does not resume what it runs).
    package func permitResume() throws { try permit("resume", ours: false, failedToo: true) }
}

extension FewShotStore {
    /// The state of a demonstration slot that a checkpoint reads.
    package typealias CheckpointedSlot = (maxTokens: Int, releasedCount: Int, finished: Bool)

    /// Refuses a checkpoint of `count` released tokens for demonstration `position` of generation
    /// `id` that the slot (nil: no such demonstration) cannot take: one after it finished, one that
    /// would take back released tokens, or more tokens than were planned (and charged).
    package static func validateCheckpoint(_ slot: CheckpointedSlot?, generation id: String, position: Int, count: Int) throws {
        guard let slot else { throw StoreError.invalidCheckpoint("generation \(id) has no demonstration \(position)") }
        guard !slot.finished else {
            throw StoreError.invalidCheckpoint("demonstration \(position) of generation \(id) already finished")
        }
        guard count >= slot.releasedCount else {
            throw StoreError.invalidCheckpoint("demonstration \(position) already released \(slot.releasedCount) tokens; a checkpoint of \(count) would take some back")
        }
        guard count <= slot.maxTokens else {
            throw StoreError.invalidCheckpoint("demonstration \(position) planned at most \(slot.maxTokens) tokens, got \(count)")
        }
    }
}
