import FewShotStore
import Foundation
import Testing
@testable import FewShotGeneration

/// How a run that throws leaves its generation: failed and resumable, unless a cancel was asked for, when
/// it is abandoned in the same step. (A cancelled job used to be marked failed and then abandoned, and a
/// replica reading it in between saw a cancelled job as failed and resumable.)
@Suite struct StoppedRunTests {
    static func stop(abandoning: Bool) async throws -> (GenerationJobRecord, FewShotStore) {
        let data = try PartitionResumeTests.dataFile()
        let prepared = try PreparedGeneration.prepare(
            PartitionResumeTests.spec(data), prompts: PartitionResumeTests.root.appendingPathComponent("prompts"))
        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        let generation = LedgerGeneration(prepared: prepared, ledger: store)
        let start = try generation.begin(job: "{}")
        let id = try #require(start.reservation?.id)
        let model = RecordingModel(PartitionResumeTests.fake(), failAtStep: 2)
        await #expect(throws: RecordingModel.Failure.self) {
            try await generation.run(start, model: model, abandonWhenStopped: { abandoning })
        }
        return (try store.generationJob(id), store)
    }

    @Test func aRunStoppedWithACancelAskedForIsAbandonedNotFailed() async throws {
        let (job, store) = try await Self.stop(abandoning: true)
        #expect(job.status == .abandoned)
        #expect(job.releasedTokens == 2, "the tokens released before the stop stay recorded")
        #expect(try store.resumable().isEmpty)
    }

    @Test func aRunStoppedOtherwiseIsFailedAndResumable() async throws {
        let (job, store) = try await Self.stop(abandoning: false)
        #expect(job.status == .failed)
        #expect(!job.failureReason.isEmpty)
        #expect(try store.resumable().map(\.reservation.id) == [job.id])
    }
}
