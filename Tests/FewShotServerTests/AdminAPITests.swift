import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
@testable import FewShotServer

/// The admin API over a real store file: key refusals, sets listed, shown and deleted (spending
/// stays), budgets shown and set, and epsilon spent exported as a metric.
@Suite struct AdminAPITests {
    static let adminKey = "adm-key-5d21e0"

    struct Fixture {
        let directory: URL
        let store: FewShotStore
        let fingerprint: String
        let privateSet: String
        let seededSet: String
    }

    /// Stores a completed no-noise (`--epsilon inf`) set of the fixture's data set; returns its id.
    static func infiniteEpsilonSet(_ f: Fixture) throws -> String {
        let plan = GenerationPlan(demonstrations: [.init(label: "pos", tokenEvent: .nonPrivate, maxTokens: 2)], summary: "no noise")
        let reservation = try f.store.reserve(dataset: f.fingerprint, plan: plan, accountant: DefaultAccountant())
        try f.store.checkpoint(reservation, demonstration: 0, released: [Token(text: "Copied.")], finished: true)
        let record = DemonstrationSetRecord(
            task: "sentiment", labels: ["pos"], demonstrations: [.init(label: "pos", text: "Copied.")],
            epsilon: .infinity, delta: 1e-5, sigma: 0, mechanism: .gaussian, sampling: SetSampling(mode: .subsample, scheme: .poisson),
            batches: 10, examplesPerBatch: 2, maxTokens: 2, model: "fake", seeded: false)
        return try f.store.complete(reservation, demonstrations: record).id
    }

    static func fixture() throws -> Fixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try FewShotStore(path: directory.appendingPathComponent("store.sqlite").path)
        let fingerprint = (0..<32).map { String(format: "%02x", ($0 * 37 + 11) % 256) }.joined()
        _ = try store.registerDataset(fingerprint: fingerprint, name: "reviews", labelCounts: ["pos": 40, "neg": 40])
        func generate(seeded: Bool, text: String) throws -> String {
            let event = PrivacyEvent.poissonSampled(samplingRate: 0.05, event: .gaussian(noiseMultiplier: 1.2))
            let plan = GenerationPlan(demonstrations: [.init(label: "pos", tokenEvent: event, maxTokens: 3)], summary: "admin test")
            let reservation = try store.reserve(dataset: fingerprint, plan: plan, accountant: DefaultAccountant())
            try store.checkpoint(reservation, demonstration: 0, released: [Token(text: text)], finished: true)
            let record = DemonstrationSetRecord(
                task: "sentiment", labels: ["pos"], demonstrations: [.init(label: "pos", text: text)],
                epsilon: 1, delta: 1e-5, sigma: 1.2, mechanism: .gaussian, sampling: SetSampling(mode: .subsample, scheme: .poisson),
                batches: 10, examplesPerBatch: 2, maxTokens: 3, model: "fake", seeded: seeded)
            return try store.complete(reservation, demonstrations: record).id
        }
        return Fixture(
            directory: directory, store: store, fingerprint: fingerprint,
            privateSet: try generate(seeded: false, text: "Lovely."), seededSet: try generate(seeded: true, text: "Fine."))
    }

    static func run(store: FewShotStore?, _ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        let configuration = ProxyConfiguration(
            port: 0, clientKeys: [ProxyHarness.clientKey], adminKey: adminKey,
            models: [ProxyHarness.served("demo", urls: ["http://127.0.0.1:1/v1"])])
        let logs = LogCapture()
        let server = ProxyServer(configuration: configuration, logger: Logger(label: "admin-test") { _ in logs.handler }, store: store)
        try await server.makeApplication().test(.live, body)
        #expect(!logs.text.contains(adminKey))
    }

    static let admin: HTTPFields = [.authorization: "Bearer \(adminKey)"]

    func json(_ response: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
    }

    @Test func refusesWithoutTheAdminKey() async throws {
        let f = try Self.fixture()
        try await Self.run(store: f.store) { client in
            #expect(try await client.execute(uri: "/admin/sets", method: .get).status == .unauthorized)
            let clientKey = try await client.execute(uri: "/admin/sets", method: .get, headers: [.authorization: "Bearer \(ProxyHarness.clientKey)"])
            #expect(clientKey.status == .unauthorized)
            let delete = try await client.execute(uri: "/admin/sets/\(f.privateSet)", method: .delete, headers: [.authorization: "Bearer nope"])
            #expect(delete.status == .unauthorized)
            // The admin key does not open the OpenAI routes either.
            #expect(try await client.execute(uri: "/v1/models", method: .get, headers: Self.admin).status == .unauthorized)
        }
        #expect(try f.store.demonstrationSets().count == 2)
    }

    @Test func withoutAStoreEveryAdminCallIsForbidden() async throws {
        try await Self.run(store: nil) { client in
            let response = try await client.execute(uri: "/admin/sets", method: .get, headers: Self.admin)
            #expect(response.status == .forbidden)
            #expect(String(buffer: response.body).contains("disabled"))
        }
    }

    @Test func listsShowsAndDeletesSetsWhileSpendingStays() async throws {
        let f = try Self.fixture()
        let spentBefore = try f.store.budgetStatus(dataset: f.fingerprint, accountant: DefaultAccountant()).spentEpsilon
        #expect(spentBefore > 0)
        try await Self.run(store: f.store) { client in
            let list = try #require(try json(try await client.execute(uri: "/admin/sets", method: .get, headers: Self.admin)) as? [[String: Any]])
            #expect(Set(list.compactMap { $0["id"] as? String }) == [f.privateSet, f.seededSet])
            let seeded = try #require(list.first { $0["id"] as? String == f.seededSet })
            #expect(seeded["private"] as? Bool == false)
            // Typed in the response, written as the strings the store and demonstration files use.
            #expect(seeded["mechanism"] as? String == "gaussian" && seeded["sampling"] as? String == "subsample/poisson")
            #expect(list.allSatisfy { $0["items"] == nil })

            let detail = try #require(try json(try await client.execute(uri: "/admin/sets/\(f.privateSet.prefix(8))", method: .get, headers: Self.admin)) as? [String: Any])
            #expect((detail["items"] as? [[String: Any]])?.first?["text"] as? String == "Lovely.")

            let deleted = try await client.execute(uri: "/admin/sets/\(f.privateSet)", method: .delete, headers: Self.admin)
            #expect(deleted.status == .ok)
            #expect(try await client.execute(uri: "/admin/sets/\(f.privateSet)", method: .get, headers: Self.admin).status == .notFound)
            #expect(try await client.execute(uri: "/admin/sets/\(f.privateSet)", method: .delete, headers: Self.admin).status == .notFound)
        }
        #expect(try f.store.demonstrationSets().map(\.id) == [f.seededSet])
        #expect(try f.store.budgetStatus(dataset: f.fingerprint, accountant: DefaultAccountant()).spentEpsilon == spentBefore)
    }

    /// A set generated without noise can copy private text: it is listed as not private.
    @Test func aSetWithAnInfiniteEpsilonIsListedAsNotPrivate() async throws {
        let f = try Self.fixture()
        let infinite = try Self.infiniteEpsilonSet(f)
        try await Self.run(store: f.store) { client in
            let list = try #require(try json(try await client.execute(uri: "/admin/sets", method: .get, headers: Self.admin)) as? [[String: Any]])
            let privacy = Dictionary(uniqueKeysWithValues: list.map { ($0["id"] as? String ?? "", $0["private"] as? Bool) })
            #expect(privacy == [f.privateSet: true, f.seededSet: false, infinite: false])
            let detail = try #require(try json(try await client.execute(uri: "/admin/sets/\(infinite)", method: .get, headers: Self.admin)) as? [String: Any])
            #expect((detail["set"] as? [String: Any])?["private"] as? Bool == false)
            #expect((detail["set"] as? [String: Any])?["epsilon"] as? String == "inf")
        }
    }

    /// The admin API names data sets by their public id (a keyed hash) and refuses the content
    /// fingerprint as a reference: a caller could test guesses of a data set's content against it.
    @Test func dataSetsAreNamedByPublicIDAndTheFingerprintIsNotAccepted() async throws {
        let f = try Self.fixture()
        let publicID = f.store.publicDatasetID(fingerprint: f.fingerprint)
        try await Self.run(store: f.store) { client in
            #expect(try await client.execute(uri: "/admin/budgets/\(f.fingerprint)", method: .get, headers: Self.admin).status == .notFound)
            #expect(try await client.execute(uri: "/admin/budgets/\(f.fingerprint.prefix(10))", method: .get, headers: Self.admin).status == .notFound)
            let put = try await client.execute(
                uri: "/admin/budgets/\(f.fingerprint)", method: .put, headers: Self.admin, body: ByteBuffer(string: #"{"epsilon": 8, "delta": 0.00001}"#))
            #expect(put.status == .notFound)
            let byPrefix = try await client.execute(uri: "/admin/budgets/\(publicID.prefix(10))", method: .get, headers: Self.admin)
            #expect(byPrefix.status == .ok)
            var bodies = [String(buffer: byPrefix.body)]
            for uri in ["/admin/budgets", "/admin/sets", "/admin/sets/\(f.privateSet)", "/metrics"] {
                bodies.append(String(buffer: try await client.execute(uri: uri, method: .get, headers: Self.admin).body))
            }
            #expect(bodies[0].contains(publicID) && bodies[2].contains(publicID))
            #expect(bodies.allSatisfy { !$0.contains(f.fingerprint.prefix(12)) }, "\(bodies)")
        }
        #expect(try f.store.budget(fingerprint: f.fingerprint) == nil)
    }

    @Test func showsAndSetsBudgetsAndExportsEpsilonSpent() async throws {
        let f = try Self.fixture()
        let expected = try f.store.budgetStatus(dataset: f.fingerprint, accountant: DefaultAccountant()).spentEpsilon
        let publicID = f.store.publicDatasetID(fingerprint: f.fingerprint)
        try await Self.run(store: f.store) { client in
            let shown = try #require(try json(try await client.execute(uri: "/admin/budgets/\(publicID)", method: .get, headers: Self.admin)) as? [String: Any])
            #expect(shown["name"] as? String == "reviews")
            #expect(shown["dataset"] as? String == publicID)
            #expect(shown["budget_epsilon"] == nil)
            let spent = try #require(shown["spent_epsilon"] as? Double)
            #expect(abs(spent - expected) <= 1e-12 * max(1, expected))

            let set = try await client.execute(uri: "/admin/budgets/reviews", method: .put, headers: Self.admin, body: ByteBuffer(string: #"{"epsilon": 8, "delta": 0.00001}"#))
            #expect(set.status == .ok)
            let after = try #require(try json(set) as? [String: Any])
            #expect(after["budget_epsilon"] as? Double == 8)
            #expect(after["remaining_epsilon"] as? Double ?? -1 > 0)

            let bad = try await client.execute(uri: "/admin/budgets/reviews", method: .put, headers: Self.admin, body: ByteBuffer(string: #"{"epsilon": -1, "delta": 0.5}"#))
            #expect(bad.status == .badRequest)
            let unknown = try await client.execute(uri: "/admin/budgets/nosuchdataset", method: .get, headers: Self.admin)
            #expect(unknown.status == .notFound)

            let all = try #require(try json(try await client.execute(uri: "/admin/budgets", method: .get, headers: Self.admin)) as? [[String: Any]])
            #expect(all.count == 1)

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"fewshot_epsilon_spent{dataset="\#(publicID.prefix(16))"}"#))
            #expect(!metrics.contains("Lovely.") && !metrics.contains("reviews"))
        }
        #expect(try f.store.budget(dataset: f.fingerprint) == PrivacyBudget(epsilon: 8, delta: 0.00001))
    }
}
