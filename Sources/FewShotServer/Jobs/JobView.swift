import FewShotGeneration
import FewShotStore
import Foundation
import Hummingbird

/// A generation job as the admin API shows it: the request (paths and settings), state and progress
/// counts. Never holds demonstration or private text; the finished set is read through `/admin/sets`.
struct JobView: ResponseEncodable {
    var id: String
    var status: JobStatus
    var resumable: Bool
    var dataset: String
    var request: GenerationSpec?
    var demonstrations: Int
    var finishedDemonstrations: Int
    var tokensReleased: Int
    var tokensPlanned: Int
    /// Model calls of the current run (running jobs only).
    var llmCalls: Int?
    var failure: String?
    /// A cancel was asked for; the replica that runs the job stops it after its current token.
    var cancelRequested: Bool
    /// The stored demonstration set, once completed.
    var set: String?
    var created: Date
    var updated: Date

    init(_ r: GenerationJobRecord, llmCalls: Int?) {
        id = r.id
        status = JobStatus(r.status)
        resumable = r.status == .failed
        dataset = r.dataset
        request = try? JSONDecoder().decode(GenerationSpec.self, from: Data(r.request.utf8))
        demonstrations = r.demonstrations
        finishedDemonstrations = r.finishedDemonstrations
        tokensReleased = r.releasedTokens
        tokensPlanned = r.plannedTokens
        self.llmCalls = llmCalls
        failure = r.failureReason.isEmpty ? nil : r.failureReason
        cancelRequested = r.cancelRequested && r.status == .running
        set = r.status == .completed ? r.id : nil
        created = r.created
        updated = r.updated
    }
}

/// A job's state in the admin API: the generation's, with `abandoned` said as `cancelled` (the only way
/// a job is abandoned is a cancel). `failed` is resumable.
enum JobStatus: String, Codable, Sendable, CustomStringConvertible {
    case running, completed, failed, cancelled

    init(_ generation: GenerationStatus) {
        switch generation {
        case .running: self = .running
        case .completed: self = .completed
        case .failed: self = .failed
        case .abandoned: self = .cancelled
        }
    }

    var description: String { rawValue }
}
