import FewShotGeneration
import FewShotStore
import Foundation
import Hummingbird

/// A generation job as the admin API shows it: the request (paths and settings), state and progress
/// counts. Never holds demonstration or private text; the finished set is read through `/admin/sets`.
struct JobView: ResponseEncodable {
    var id: String
    /// `running`, `completed`, `failed` (resumable) or `cancelled`.
    var status: String
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
        status = switch r.status {
        case "abandoned": "cancelled"
        default: r.status
        }
        resumable = r.status == "failed"
        dataset = r.dataset
        request = try? JSONDecoder().decode(GenerationSpec.self, from: Data(r.request.utf8))
        demonstrations = r.demonstrations
        finishedDemonstrations = r.finishedDemonstrations
        tokensReleased = r.releasedTokens
        tokensPlanned = r.plannedTokens
        self.llmCalls = llmCalls
        failure = r.failureReason.isEmpty ? nil : r.failureReason
        cancelRequested = r.cancelRequested && r.status == "running"
        set = r.status == "completed" ? r.id : nil
        created = r.created
        updated = r.updated
    }
}
