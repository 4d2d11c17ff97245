import DPAccounting
import FewShotCore
import FewShotData
import Foundation

/// A ``GenerationSpec`` resolved against the task file and the private data: labels in order, delta,
/// settings with the calibrated noise, the privacy plan and the noise source. Preparing reads the data
/// and runs the calibration but releases nothing and calls no model.
///
/// Guarantee: the settings are valid for the data (enough examples per label for one step), and when
/// epsilon is finite each label's noise multiplier meets it at `delta` under `accountant`, so the
/// run is (epsilon, delta)-DP (labels are disjoint: parallel composition).
public struct PreparedGeneration: Sendable {
    public let spec: GenerationSpec
    public let task: TaskTemplate
    public let dataset: PrivateDataset
    /// One entry per demonstration, in generation order (``TaskTemplate/extractionGroup`` for each
    /// shot of an extraction task).
    public let labels: [String]
    public let delta: Double
    public let settings: GenerationSettings
    /// The noise multiplier of each label (empty without noise).
    public let noiseMultipliers: [String: Double]
    /// The automatic plan that chose M (nil when M was pinned).
    public let batchPlan: BatchPlanner.Plan?
    public let plan: PrivacyPlan
    public let accountant: any PrivacyAccountant
    public private(set) var noise: NoiseSource

    /// The largest noise multiplier of the run (nil without noise), for one-line summaries.
    public var noiseMultiplier: Double? { noiseMultipliers.values.max() }

    /// Resolves `spec`. `prompts` is the directory of task files; `dataFile` is the data file to read
    /// (default: `spec.data` as a path). `labelCounts` as in ``prepare(_:task:dataset:labelCounts:)``.
    public static func prepare(
        _ spec: GenerationSpec, prompts: URL, dataFile: URL? = nil, labelCounts: LabelCountRelease? = nil
    ) throws -> PreparedGeneration {
        try spec.validate()
        let task = try TaskFile.find(spec.task, in: prompts)
        let dataset = try PrivateDataFile.load(dataFile ?? URL(fileURLWithPath: spec.data), task: task)
        return try prepare(spec, task: task, dataset: dataset, labelCounts: labelCounts)
    }

    /// Resolves `spec` for a task and data set already read. `labelCounts` is the data set's released
    /// DP label counts, from which q, the automatic plan and the default delta are computed; nil
    /// plans with a preview of the exact counts (``LabelCountRelease/preview(exact:labels:)``), which
    /// ``LedgerGeneration/begin(resume:job:)`` replaces by the released counts before anything runs.
    public static func prepare(
        _ spec: GenerationSpec, task: TaskTemplate, dataset: PrivateDataset, labelCounts: LabelCountRelease? = nil
    ) throws -> PreparedGeneration {
        let exact = dataset.countsByLabel
        // Poisson sampling (add/remove adjacency): the released DP counts. Without replacement
        // (replace-one adjacency within a label) the counts are public and used exactly: the sample
        // is a fixed M*N of the |D_y| examples, and its accounting needs the true |D_y|.
        let poisson = spec.generator.subsample == .poisson
        let release = poisson ? labelCounts ?? .preview(exact: exact, labels: countedLabels(task)) : nil
        let counts = release?.counts ?? exact
        let oneSet = try labelOrder(spec, task: task)
        let delta = try spec.delta ?? defaultDelta(labels: oneSet, counts: counts, dataset: dataset.source)
        let accountant = spec.generator.accountant.accountant
        let groups = try groupCount(spec, task: task, labels: oneSet, counts: counts)
        let labels = Array(Array(repeating: oneSet, count: groups).joined())
        var (settings, batchPlan) = spec.generator.plannedSettings(
            for: task, labels: labels, privacy: .publicOnly, examplesPerLabel: counts, groups: groups)
        settings.labelCounts = release
        let sigmas = try calibrate(&settings, spec: spec, counts: exact, delta: delta, accountant: accountant)
        try settings.validate(examplesPerLabel: exact)
        return PreparedGeneration(
            spec: spec, task: task, dataset: dataset, labels: labels, delta: delta, settings: settings, noiseMultipliers: sigmas,
            batchPlan: batchPlan, plan: PrivacyPlan(settings: settings, examplesPerLabel: counts), accountant: accountant,
            noise: spec.seed.map(NoiseSource.seeded) ?? .secure())
    }

    /// Whether this generation plans with released DP label counts (Poisson sampling) rather than
    /// the exact, public ones (without replacement).
    public var usesReleasedLabelCounts: Bool { settings.subsampleScheme == .poisson }

    /// This generation prepared again with the data set's released label counts (nil if it already
    /// is, or if it uses the exact counts).
    public func withLabelCounts(_ release: LabelCountRelease) throws -> PreparedGeneration? {
        guard usesReleasedLabelCounts, settings.labelCounts != release else { return nil }
        var prepared = try Self.prepare(spec, task: task, dataset: dataset, labelCounts: release)
        prepared.noise = noise
        return prepared
    }

    /// G for `spec`: 1 without `groups`, the number given, or for `max` the most groups in which every
    /// label used keeps the one-set plan's M*N examples in expectation (from the released counts).
    static func groupCount(_ spec: GenerationSpec, task: TaskTemplate, labels: [String], counts: [String: Int]) throws -> Int {
        switch spec.groups {
        case nil: return 1
        case .count(let g): return g
        case .max:
            let (settings, _) = spec.generator.plannedSettings(for: task, labels: labels, privacy: .publicOnly, examplesPerLabel: counts)
            let fits = Set(labels).map { (counts[$0] ?? 0) / max(1, settings.examplesPerStep(for: $0)) }
            return Swift.max(1, fits.min() ?? 1)
        }
    }

    /// The labels whose counts a data set of `task` releases: the task's labels, or the one example
    /// group of an extraction task.
    public static func countedLabels(_ task: TaskTemplate) -> [String] {
        task.kind == .extraction ? [TaskTemplate.extractionGroup] : task.labels.map(\.name)
    }

    /// ``PrivacyPlan/defaultDelta(labels:examplesPerLabel:)``, its refusal naming the data file and the field.
    static func defaultDelta(labels: [String], counts: [String: Int], dataset: String) throws -> Double {
        do { return try PrivacyPlan.defaultDelta(labels: labels, examplesPerLabel: counts) } catch let error as GenerationError {
            throw GenerationSpecError(field: "delta", problem: "\(dataset): \(error)", cause: error, context: dataset)
        }
    }

    /// The labels to generate for, in order, checked against the task.
    static func labelOrder(_ spec: GenerationSpec, task: TaskTemplate) throws -> [String] {
        if task.kind == .extraction {
            // No labels: every shot reads the whole data set (the one example group).
            guard spec.labels == nil else {
                throw GenerationSpecError(field: "labels", problem: "task '\(task.name)' is an extraction task; it has no labels")
            }
            return Array(repeating: TaskTemplate.extractionGroup, count: spec.shots ?? 4)
        }
        var names = task.labels.map(\.name)
        if let labels = spec.labels {
            names = labels.map { $0.trimmingCharacters(in: .whitespaces) }
            for name in names where task.label(named: name) == nil {
                throw GenerationSpecError(
                    field: "labels", problem: "'\(name)' is not a label of task '\(task.name)' (\(task.labels.map(\.name).joined(separator: ", ")))")
            }
        }
        let count = spec.shots ?? names.count
        return (0..<count).map { names[$0 % names.count] }
    }

    /// Sets the privacy level; returns the noise multiplier of each label (empty without noise):
    /// `--sigma` for every label, or ``PrivacyPlan/calibratedNoiseMultipliers(epsilon:delta:accountant:)``,
    /// the calibration policy `fewshot eval` uses too.
    static func calibrate(
        _ settings: inout GenerationSettings, spec: GenerationSpec, counts: [String: Int], delta: Double, accountant: any PrivacyAccountant
    ) throws -> [String: Double] {
        switch spec.epsilon {
        case .publicOnly:
            settings.privacy = .publicOnly
            return [:]
        case .infinite:
            settings.privacy = .noNoise
            return [:]
        case .epsilon(let target):
            try settings.validate(examplesPerLabel: counts)
            let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
            let sigmas = try spec.sigma.map { sigma in Dictionary(uniqueKeysWithValues: Set(settings.labels).map { ($0, sigma) }) }
                ?? plan.calibratedNoiseMultipliers(epsilon: target, delta: delta, accountant: accountant)
            settings.privacy = .noisy(noiseMultiplierByLabel: sigmas)
            return sigmas
        }
    }
}
