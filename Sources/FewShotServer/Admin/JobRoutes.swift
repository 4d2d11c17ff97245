import FewShotCore
import FewShotData
import FewShotGeneration
import Foundation
import Hummingbird

/// The admin API's generation jobs, mounted under `/admin` behind the admin key:
///
/// - `POST /admin/jobs` with a ``GenerationSpec`` as JSON (`{"task": "trec", "data": "trec.jsonl",
///   "epsilon": 4, ...}`; `data` relative to the jobs data directory) — reserves the cost and starts
///   the job: 202 with the job, 409 when the budget does not fit, 400 for bad input (naming the file,
///   line and field), 403 for a path outside the data directory, 503 when the LLM is unreachable.
/// - `GET /admin/jobs`, `GET /admin/jobs/{id}` — state and progress.
/// - `POST /admin/jobs/{id}/cancel` — stop and abandon the rest (every started demonstration stays charged in full).
/// - `POST /admin/jobs/{id}/resume` — continue a failed job (e.g. one stopped by a restart).
struct JobRoutes<Context: RequestContext>: Sendable {
    let jobs: GenerationJobs?

    func add(to group: RouterGroup<Context>) {
        group.post("jobs") { request, _ in
            let spec = try await request.adminBody(GenerationSpec.self) { error in
                OpenAIError.invalidRequest("body must be a generation request {\"task\", \"data\", \"epsilon\", ...}: \(Self.describe(error))", code: "invalid_job")
            }
            let view = try await AdminRoutes<Context>.mappingStoreErrors { try await requireJobs().start(spec) }
            return EditedResponse(status: .accepted, response: view)
        }
        group.get("jobs") { _, _ in
            try await AdminRoutes<Context>.mappingStoreErrors { try await requireJobs().list() }
        }
        group.get("jobs/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await AdminRoutes<Context>.mappingStoreErrors { try await requireJobs().view(id) }
        }
        group.post("jobs/{id}/cancel") { _, context in
            let id = try context.parameters.require("id")
            return try await AdminRoutes<Context>.mappingStoreErrors { try await requireJobs().cancel(id) }
        }
        group.post("jobs/{id}/resume") { _, context in
            let id = try context.parameters.require("id")
            let view = try await AdminRoutes<Context>.mappingStoreErrors { try await requireJobs().resume(id) }
            return EditedResponse(status: .accepted, response: view)
        }
    }

    private func requireJobs() throws -> GenerationJobs {
        guard let jobs else {
            throw OpenAIError(status: .notFound, message: "generation jobs are not configured (add a 'jobs' section to the configuration file)",
                              type: "invalid_request_error", code: "jobs_disabled")
        }
        return jobs
    }

    /// A decoding error as "field: problem", without echoing the body.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as GenerationSpecError:
            return error.description
        case let error as DecodingError:
            return DecodingErrorDescription.sentence(error)
        default:
            return "not valid JSON"
        }
    }
}
