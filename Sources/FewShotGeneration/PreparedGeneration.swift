import DPAccounting
import FewShotCore
import FewShotData
import Foundation

/// A ``GenerationSpec`` resolved against the task file and the private data: labels in order, delta,
/// settings with the calibrated noise, the privacy plan and the noise source. Preparing reads the data
/// and runs the calibration but releases nothing and calls no model.
///
/// Guarantee: the settings are valid for the data (enough examples per label for one step), and when
/// epsilon is finite each label's noise multiplier meets it at `delta` under `accountant`.
public struct PreparedGeneration: Sendable {
    public let spec: GenerationSpec
    public let task: TaskTemplate
    public let dataset: PrivateDataset
    /// One entry per demonstration, in generation order (``TaskTemplate/extractionGroup`` for each
    /// shot of an extraction task).
    public let labels: [String]
    public let delta: Double
    public let settings: GenerationSettings
    /// The noise multiplier used (nil without noise).
    public let noiseMultiplier: Double?
    public let plan: PrivacyPlan
    public let accountant: any PrivacyAccountant
    public let noise: NoiseSource

    /// Resolves `spec`. `prompts` is the directory of task files; `dataFile` is the data file to read
    /// (default: `spec.data` as a path).
    public static func prepare(_ spec: GenerationSpec, prompts: URL, dataFile: URL? = nil) throws -> PreparedGeneration {
        try spec.validate()
        let task = try TaskFile.find(spec.task, in: prompts)
        let dataset = try PrivateDataFile.load(dataFile ?? URL(fileURLWithPath: spec.data), task: task)
        let counts = dataset.countsByLabel
        let labels = try labelOrder(spec, task: task)
        let delta = spec.delta ?? 1 / Double(labels.map { counts[$0] ?? 0 }.filter { $0 > 0 }.min() ?? 1)
        let accountant = spec.generator.accountant.accountant
        var settings = spec.generator.settings(for: task, labels: labels, privacy: .publicOnly)
        let sigma = try calibrate(&settings, spec: spec, counts: counts, delta: delta, accountant: accountant)
        try settings.validate(examplesPerLabel: counts)
        return PreparedGeneration(
            spec: spec, task: task, dataset: dataset, labels: labels, delta: delta, settings: settings, noiseMultiplier: sigma,
            plan: PrivacyPlan(settings: settings, examplesPerLabel: counts), accountant: accountant,
            noise: spec.seed.map(NoiseSource.seeded) ?? .secure())
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

    /// Sets the privacy level; returns the noise multiplier used (nil without noise). One sigma for
    /// every label: the largest any label needs, so that each label meets the target.
    static func calibrate(
        _ settings: inout GenerationSettings, spec: GenerationSpec, counts: [String: Int], delta: Double, accountant: any PrivacyAccountant
    ) throws -> Double? {
        switch spec.epsilon {
        case .publicOnly:
            settings.privacy = .publicOnly
            return nil
        case .infinite:
            settings.privacy = .noNoise
            return nil
        case .epsilon(let target):
            let labels = Array(Set(settings.labels))
            try settings.validate(examplesPerLabel: counts)
            let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
            let sigma = try spec.sigma ?? labels.map { label in
                try Calibration.noiseMultiplier(epsilon: target, delta: delta, accountant: accountant, event: plan.eventShape(label: label))
            }.max()!
            settings.privacy = .noisy(noiseMultiplierByLabel: Dictionary(uniqueKeysWithValues: labels.map { ($0, sigma) }))
            return sigma
        }
    }
}
