import FewShotCore
import Foundation
import Yams

/// Reads a task template from a YAML (or JSON, which is YAML) file in `prompts/`.
///
/// The file's keys: optional `kind` (`classification`, the default, or `extraction`), `name`, `labels`
/// (list of `{name, word}`), `generation` and `classification` (each `{instruction, example}`;
/// examples hold `{label}` and `{text}`), optional `end_markers` and `defaults` (`batches`: a number
/// or `auto`, the default; `batch_size`, default 1; `max_tokens`; `max_example_tokens`, the most
/// tokens of one private example in a prompt; `sampling` partition|subsample; `vocabulary` rvp|full;
/// `top_k`). Loading checks that labels are unique and that each example template has both placeholders.
///
/// An `extraction` task has no `labels` and no `classification`; its `generation.example` holds
/// `{text}` and then `{answer}` (e.g. "Sentence: {text}\nGenre: {answer}\n\n"), its `extraction`
/// section (`{instruction, example}` with `{text}` and `{answer}`) renders demonstrations and queries,
/// and `defaults.max_tokens` is T_text (the sentence) while `defaults.answer_max_tokens` (default 10)
/// is T_answer. Errors name the file and the field.
public enum TaskFile {
    public static func load(_ url: URL) throws -> TaskTemplate {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw FileProblem(file: url.path, problem: FileReading.problem(url, error))
        }
        let file: TaskFileContents
        do {
            file = try YAMLDocument.decode(
                TaskFileContents.self, from: text, schema: schema,
                whatItHolds: "a task: name, labels, generation, classification (see prompts/trec.yaml)")
        } catch let problem as DocumentProblem {
            throw FileProblem(file: url.path, problem: problem)
        }
        let task = try file.template(file: url.path)
        try validate(task, file: url.path)
        return task
    }

    /// The keys a task file may hold; any other key (a typo) is refused with the nearest valid one.
    static let schema: KeySchema = {
        let format = KeySchema.mapping(["instruction": .value, "example": .value])
        return .mapping([
            "kind": .value, "name": .value,
            "labels": .list(.mapping(["name": .value, "word": .value])),
            "generation": format, "classification": format, "extraction": format,
            "end_markers": .value,
            "defaults": .mapping([
                "batches": .value, "batch_size": .value, "max_tokens": .value, "answer_max_tokens": .value,
                "max_example_tokens": .value, "sampling": .value, "vocabulary": .value, "top_k": .value,
            ]),
        ])
    }()

    /// Where the shipped task files are when `--prompts` does not have a task: installed beside the
    /// binary (`<bin>/../share/fewshot/prompts`), else the source checkout the binary was built from
    /// (`prompts/` at the repository root), so `fewshot gen --task trec` works from any directory.
    public static var shippedDirectories: [URL] {
        var directories: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        directories.append(executable.deletingLastPathComponent().appendingPathComponent("../share/fewshot/prompts").standardized)
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        directories.append(checkout.appendingPathComponent("prompts"))
        return directories
    }

    /// Finds `name` (or `name.yaml`, `name.yml`, `name.json`) in `directory` (which adds to and
    /// overrides the shipped tasks), then in ``shippedDirectories``; or loads `name` as a path.
    public static func find(_ name: String, in directory: URL) throws -> TaskTemplate {
        let manager = FileManager.default
        if name.contains("/") || manager.fileExists(atPath: name) && !manager.fileExists(atPath: directory.appendingPathComponent(name).path) {
            return try load(URL(fileURLWithPath: name))
        }
        guard let url = locate(name, in: directory) else {
            let searched = searchPath(directory)
            let known = Set(searched.flatMap(available(in:))).sorted().joined(separator: ", ")
            throw FileProblem(
                file: directory.appendingPathComponent(name).path,
                problem: "no such task; tasks in \(searched.map(\.path).joined(separator: ", ")): \(known.isEmpty ? "none" : known)")
        }
        let task = try load(url)
        // Asked by name, the file must be that task: a copied file with a stale `name` would
        // otherwise run (and be stored) under another task's name.
        let asked = (name as NSString).deletingPathExtension
        guard task.name == asked else {
            throw FileProblem(
                file: url.path, problem: "field 'name': the file says '\(task.name)' but was asked for as '\(asked)'; make the name and the file name agree")
        }
        return task
    }

    /// The task lookup of every command and of the serve configuration: the file of task `name` (as
    /// given, or with `.yaml`, `.yml`, `.json`) in `directory`, else in ``shippedDirectories``; nil
    /// when none has it.
    public static func locate(_ name: String, in directory: URL) -> URL? {
        let manager = FileManager.default
        for directory in searchPath(directory) {
            for candidate in [name, "\(name).yaml", "\(name).yml", "\(name).json"] {
                let url = directory.appendingPathComponent(candidate)
                if manager.fileExists(atPath: url.path) { return url }
            }
        }
        return nil
    }

    /// `directory`, then the shipped task directories.
    static func searchPath(_ directory: URL) -> [URL] {
        [directory] + shippedDirectories.filter { $0.standardized.path != directory.standardized.path }
    }

    /// Task names (file names without extension) in `directory`.
    public static func available(in directory: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
            .map { ($0 as NSString).deletingPathExtension }.sorted()
    }

    static func validate(_ task: TaskTemplate, file: String) throws {
        guard !task.name.isEmpty else { throw FileProblem(file: file, problem: "field 'name' is empty") }
        if task.kind == .extraction { return try validateExtraction(task, file: file) }
        guard !task.labels.isEmpty else { throw FileProblem(file: file, problem: "field 'labels' is empty") }
        var names = Set<String>()
        for label in task.labels {
            guard names.insert(label.name).inserted else { throw FileProblem(file: file, problem: "label '\(label.name)' appears twice in 'labels'") }
        }
        for (field, example) in [("generation.example", task.generation.example), ("classification.example", task.classification.example)] {
            for placeholder in ["{label}", "{text}"] where !example.contains(placeholder) {
                throw FileProblem(file: file, problem: "field '\(field)' has no \(placeholder) placeholder")
            }
        }
        try validateDefaults(task.defaults, file: file)
    }

    static func validateExtraction(_ task: TaskTemplate, file: String) throws {
        for (field, example) in [("generation.example", task.generation.example), ("extraction.example", task.classification.example)] {
            for placeholder in ["{text}", "{answer}"] where !example.contains(placeholder) {
                throw FileProblem(file: file, problem: "field '\(field)' has no \(placeholder) placeholder (an extraction task needs {text} and {answer})")
            }
            if example.contains("{label}") {
                throw FileProblem(file: file, problem: "field '\(field)' has a {label} placeholder, but an extraction task has no labels")
            }
        }
        let example = task.generation.example
        guard example.range(of: "{text}")!.lowerBound < example.range(of: "{answer}")!.lowerBound else {
            throw FileProblem(file: file, problem: "field 'generation.example' must have {text} before {answer}: the sentence is generated first, then its answer")
        }
        try validateDefaults(task.defaults, file: file)
    }

    static func validateDefaults(_ d: TaskDefaults, file: String) throws {
        let numbers: [(GenerationSetting, Int?)] = [
            (.batches, d.batches.fixed), (.batchSize, d.batchSize), (.maxTokens, d.maxTokens), (.topK, d.topK),
            (.maxExampleTokens, d.maxExampleTokens), (.answerMaxTokens, d.answerMaxTokens),
        ]
        for case let (setting, value?) in numbers {
            if let problem = setting.problem(with: value) {
                throw FileProblem(file: file, problem: "field 'defaults.\(setting.rawValue)' \(problem)")
            }
        }
    }

}

/// The file's shape (snake_case keys).
struct TaskFileContents: Decodable {
    struct Defaults: Decodable {
        var batches: BatchCount?
        var batch_size: Int?
        var max_tokens: Int?
        var answer_max_tokens: Int?
        var max_example_tokens: Int?
        var sampling: SamplingMode?
        var vocabulary: VocabularyMode?
        var top_k: Int?
    }

    var kind: TaskKind?
    var name: String
    var labels: [TaskLabel]?
    var generation: PromptFormat
    var classification: PromptFormat?
    var extraction: PromptFormat?
    var end_markers: [String]?
    var defaults: Defaults?

    /// T_answer when an extraction task's file gives none.
    static let defaultAnswerMaxTokens = 10

    func template(file: String) throws -> TaskTemplate {
        let kind = self.kind ?? .classification
        let format: PromptFormat
        switch kind {
        case .classification:
            guard labels != nil else { throw FileProblem(file: file, problem: "missing field 'labels'") }
            guard let classification else { throw FileProblem(file: file, problem: "missing field 'classification'") }
            if extraction != nil { throw FileProblem(file: file, problem: "field 'extraction' is only for 'kind: extraction'; this task is a classification task") }
            if defaults?.answer_max_tokens != nil {
                throw FileProblem(file: file, problem: "field 'defaults.answer_max_tokens' is only for 'kind: extraction'; this task is a classification task")
            }
            format = classification
        case .extraction:
            if let labels, !labels.isEmpty { throw FileProblem(file: file, problem: "field 'labels': an extraction task has no labels") }
            if classification != nil { throw FileProblem(file: file, problem: "field 'classification': an extraction task has an 'extraction' section instead") }
            guard let extraction else { throw FileProblem(file: file, problem: "missing field 'extraction' (an extraction task's {instruction, example} for answering)") }
            format = extraction
        }
        let base = TaskDefaults()
        let d = defaults
        return TaskTemplate(
            name: name, labels: labels ?? [], generation: generation, classification: format,
            endMarkers: end_markers ?? [],
            defaults: TaskDefaults(
                batches: d?.batches ?? base.batches, batchSize: d?.batch_size ?? base.batchSize,
                maxTokens: d?.max_tokens ?? base.maxTokens, vocabulary: d?.vocabulary ?? base.vocabulary,
                topK: d?.top_k ?? base.topK,
                answerMaxTokens: kind == .extraction ? d?.answer_max_tokens ?? Self.defaultAnswerMaxTokens : nil,
                sampling: d?.sampling ?? base.sampling, maxExampleTokens: d?.max_example_tokens),
            kind: kind)
    }
}
