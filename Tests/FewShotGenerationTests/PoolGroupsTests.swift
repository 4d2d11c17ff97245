import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing
@testable import FewShotGeneration

/// Issue 14, pools: `--groups G` splits each label's examples into G disjoint groups and makes one
/// set per group, composed in parallel, so the pool costs what one set costs.
@Suite struct PoolGroupsTests {
    typealias Fixture = PartitionResumeTests

    func spec(_ data: URL, groups: GroupCount?) -> GenerationSpec {
        var spec = Fixture.spec(data)
        spec.groups = groups
        return spec
    }

    func prepare(_ spec: GenerationSpec) throws -> PreparedGeneration {
        try PreparedGeneration.prepare(spec, prompts: Fixture.root.appendingPathComponent("prompts"))
    }

    /// The question numbers in a prompt's examples ("What is question K of DESC?").
    static func questions(_ text: String) -> Set<Int> {
        Set(text.components(separatedBy: "question ").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) })
    }

    @Test func aPoolOfThreeGroupsIsParallelAndCostsOneSet() throws {
        let data = try Fixture.dataFile()
        let pool = try prepare(spec(data, groups: .count(3)))
        #expect(pool.labels == ["DESC", "DESC", "DESC"])
        #expect(pool.settings.groups == 3)
        #expect(pool.plan.plannedDemonstrations().map(\.group) == [0, 1, 2])
        // A group holds 60/3 examples in expectation: q = M*N / 20.
        let q = pool.plan.samplingRate(label: "DESC")
        #expect(abs(q - 6.0 / 20) < 1e-12)
        guard case .parallel(let branches) = try #require(pool.plan.plannedEventsByLabel()["DESC"]) else {
            Issue.record("a pool's label event is parallel over its groups")
            return
        }
        #expect(branches.count == 3 && Set(branches).count == 1)
        let accountant = DefaultAccountant()
        let poolEpsilon = try accountant.epsilon(for: pool.plan.plannedEvent(), delta: pool.delta)
        let oneGroup = try accountant.epsilon(for: branches[0], delta: pool.delta)
        #expect(abs(poolEpsilon - oneGroup) < 1e-9)
        #expect(poolEpsilon <= 4 && poolEpsilon > 3.9, "calibrated to 4 for the whole pool: \(poolEpsilon)")
        #expect(PlanReport(pool).demonstrations == 3 && PlanReport(pool).groups == 3)
    }

    @Test func eachGroupReadsItsOwnDisjointExamples() async throws {
        let data = try Fixture.dataFile()
        let pool = try prepare(spec(data, groups: .count(3)))
        let model = RecordingModel(Fixture.fake(), publicSlot: 6)
        let generation = LedgerGeneration(prepared: pool, ledger: nil)
        let outcome = try await generation.run(try generation.begin(), model: model)
        #expect(outcome.result.demonstrations.count == 3)
        // Split the requests by demonstration: each starts again with an empty continuation.
        var perDemonstration: [Set<Int>] = []
        var previous = -1
        for request in model.requests where request.slot != 6 {
            if request.prompt.continuation.count < previous || perDemonstration.isEmpty { perDemonstration.append([]) }
            previous = request.prompt.continuation.count
            perDemonstration[perDemonstration.count - 1].formUnion(Self.questions(request.prompt.text))
        }
        #expect(perDemonstration.count == 3)
        // Without groups three subsamples at q = 0.3 of the same 60 would share ~5 questions each.
        for i in 0..<3 { for j in (i + 1)..<3 { #expect(perDemonstration[i].isDisjoint(with: perDemonstration[j]), "groups \(i) and \(j) overlap") } }
    }

    @Test func theLedgerChargesAPoolAsOneSetAndTwoPoolsInSequence() async throws {
        let data = try Fixture.dataFile()
        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        let pool = try prepare(spec(data, groups: .count(3)))
        var delta = 0.0
        for round in 0..<2 {
            let generation = LedgerGeneration(prepared: pool, ledger: store)
            let start = try generation.begin()
            delta = start.prepared.delta
            let outcome = try await generation.run(start, model: Fixture.fake())
            #expect(outcome.stored?.demonstrations.count == 3, "the store keeps the pool as one set")
            if round == 0 {
                // Three sets, the label-count release, and still the calibrated 4 of one set.
                let status = try store.budgetStatus(dataset: pool.dataset.fingerprint, accountant: DefaultAccountant(), delta: delta)
                #expect(status.spentEpsilon > 3.9 && status.spentEpsilon <= 4.0001, "spent \(status.spentEpsilon)")
            }
        }
        let status = try store.budgetStatus(dataset: pool.dataset.fingerprint, accountant: DefaultAccountant(), delta: delta)
        // Two pools compose: more than one set's 4, far less than the 6 sets' sequential cost.
        #expect(status.spentEpsilon > 4.5 && status.spentEpsilon < 8, "spent \(status.spentEpsilon)")
    }

    @Test func maxGroupsKeepsTheOneSetPlansExamplesPerGroup() throws {
        let data = try Fixture.dataFile()
        let pool = try prepare(spec(data, groups: .max))
        // M = 6, N = 1 pinned, 60 DESC questions (released count ~60): about 10 groups of 6.
        #expect(pool.settings.groups >= 5 && pool.settings.groups <= 15, "groups \(pool.settings.groups)")
        #expect(pool.labels.count == pool.settings.groups)
        #expect(pool.plan.samplingRate(label: "DESC") <= 1)
    }

    @Test func groupsAreReadFromJSONAndBadValuesAreRefused() throws {
        let decoded = try JSONDecoder().decode(GenerationSpec.self, from: Data(#"{"task": "trec", "data": "d.jsonl", "epsilon": 4, "groups": "max"}"#.utf8))
        #expect(decoded.groups == .max)
        let four = try JSONDecoder().decode(GenerationSpec.self, from: Data(#"{"task": "trec", "data": "d.jsonl", "epsilon": 4, "groups": 4}"#.utf8))
        #expect(four.groups == .count(4))
        #expect(throws: GenerationSpecError.self) {
            try JSONDecoder().decode(GenerationSpec.self, from: Data(#"{"task": "trec", "data": "d.jsonl", "epsilon": 4, "groups": 0}"#.utf8))
        }
        let data = try Fixture.dataFile()
        var exact = spec(data, groups: .count(2))
        exact.generator.subsample = .withoutReplacement
        #expect(throws: (any Error).self) { try prepare(exact) }
    }
}
