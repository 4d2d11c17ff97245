import FewShotEval
import Testing

/// `fewshot eval` does not charge the privacy ledger, so it must not read a data set that has a
/// budget with the conditions that read its examples (it used to, whatever the budget said).
@Suite struct BudgetedDataRuleTests {
    struct Ledger: EvalLedger {
        var budgets: [String: (epsilon: Double, delta: Double)]
        func budget(ofFingerprint fingerprint: String) throws -> (epsilon: Double, delta: Double)? { budgets[fingerprint] }
        func publicDatasetID(fingerprint: String) -> String { "pub-" + fingerprint }
    }

    let train = EvalDataFile(path: "/data/trec_train.jsonl", fingerprint: "aaaa1111")
    let test = EvalDataFile(path: "/data/trec_test.jsonl", fingerprint: "bbbb2222")

    func check(_ conditions: [EvalCondition], budgets: [String: (epsilon: Double, delta: Double)]) throws {
        try BudgetedDataRule.check(task: "trec", train: train, test: test, conditions: conditions, ledger: Ledger(budgets: budgets))
    }

    @Test(arguments: [
        [EvalCondition.privateGenerated(epsilon: 4)], [.nonPrivateGenerated], [.realExamples], EvalCondition.standard(),
    ])
    func aBudgetedTrainingSetIsRefusedForConditionsThatReadIt(conditions: [EvalCondition]) {
        let refusal = #expect(throws: BudgetedDataRefusal.self) { try check(conditions, budgets: ["aaaa1111": (8, 1e-5)]) }
        let text = refusal.map { "\($0)" } ?? ""
        #expect(text.contains("/data/trec_train.jsonl"))
        #expect(text.contains("pub-aaaa1111"))
        #expect(text.contains("epsilon 8") && text.contains("delta 1e-05"))
        #expect(text.contains("--conditions zero-shot,eps-0") && text.contains("--store"))
        #expect(!text.contains("zero-shot, ") && !text.contains("eps-0,"), "only the conditions that read the data are named: \(text)")
    }

    @Test func conditionsThatDoNotReadTheTrainingSetRun() throws {
        try check([.zeroShot, .publicOnly], budgets: ["aaaa1111": (8, 1e-5)])
    }

    @Test func withoutBudgetsOrWithoutAStoreEverythingRuns() throws {
        try check(EvalCondition.standard(), budgets: [:])
        try BudgetedDataRule.check(task: "trec", train: train, test: test, conditions: EvalCondition.standard(), ledger: nil)
    }

    @Test func aBudgetedTestSetIsRefusedForEveryCondition() {
        let refusal = #expect(throws: BudgetedDataRefusal.self) { try check([.zeroShot], budgets: ["bbbb2222": (2, 1e-6)]) }
        #expect(refusal?.role == "test")
        #expect(refusal.map { "\($0)".contains("/data/trec_test.jsonl") } == true)
    }
}
