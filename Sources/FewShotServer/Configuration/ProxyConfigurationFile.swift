import FewShotCore
import FewShotData
import FewShotSelection
import FewShotStore
import Foundation
import Yams

/// The proxy's configuration file, YAML or JSON (JSON is read as YAML). Relative paths are
/// resolved against the directory of the configuration file. Keys are never written in the file:
/// it names environment variables that hold them.
///
/// ```yaml
/// server:
///   host: 127.0.0.1              # default 127.0.0.1
///   port: 8080                   # default 8080
///   client_keys_env: FEWSHOT_CLIENT_KEYS   # required: variable holding comma-separated Bearer keys
///   admin_key_env: FEWSHOT_ADMIN_KEY       # optional: without it the admin API refuses every call
///   prompts_dir: ../prompts      # where `task` names are looked up; default "prompts"
/// limits:                        # all optional
///   max_body_bytes: 1048576      # larger request bodies get 413
///   upstream_timeout_seconds: 120  # for the upstream's response head and between stream chunks; 504 after
///   max_concurrent_upstream: 64  # upstream requests in flight at once
///   max_queue_wait_seconds: 10   # wait for a free slot at most this long, then 429
/// models:
///   - name: trec-dp              # the model name clients send
///     task: trec                 # prompts_dir/trec.yaml (.yml, .json), or a path to a task file (prompts/ format)
///     upstream:
///       urls: [http://127.0.0.1:8090/v1]   # one or more OpenAI base URLs, used in turn
///       model: smollm2           # the model name sent upstream
///       api_key_env: UPSTREAM_KEY  # optional: variable holding the upstream's key
///     demonstrations:            # exactly one of:
///       file: demos/trec.jsonl   #   JSONL, one {"label": …, "text": …} per line (`fewshot demos export`)
///       # set: 3f2a…             #   a demonstration set id in the store
///       # inline:                #   a list written here
///       #   - {label: DESC, text: "What is a fjord?"}   # extraction tasks: {text: …, answer: …}
///       select: {k: 4, by: similarity}   # optional: per request, the k most similar to the user's last
///                                  #   message (BM25), balanced across labels (balanced: false for the top k)
///     allow_non_private: false   # optional, for experiments only: serve a set or file that is NOT private
/// jobs:                          # optional: generation jobs through the admin API (needs admin_key_env)
///   data_dir: /srv/private       # jobs may read private data files only under this directory
///   llm: [http://127.0.0.1:8090] # llama-server base URL(s) (native API) that generates
/// ```
///
/// Guarantees: loading either yields a complete ``ProxyConfiguration`` or throws a
/// ``ProxyConfigurationError`` naming the file, the field and the fix; nothing is served half-configured.
/// A stored set or a file that is not private (seeded noise, or epsilon = inf: no noise, so its text
/// can copy private examples) is refused unless its model says `allow_non_private: true`; such a
/// model carries ``ServedModel/nonPrivateReason`` and the server warns about it at startup.
public struct ProxyConfigurationFile: Sendable, Decodable {
    public struct Server: Sendable, Decodable {
        public var host: String?
        public var port: Int?
        public var clientKeysEnv: String?
        public var adminKeyEnv: String?
        public var promptsDir: String?

        enum CodingKeys: String, CodingKey {
            case host, port
            case clientKeysEnv = "client_keys_env"
            case adminKeyEnv = "admin_key_env"
            case promptsDir = "prompts_dir"
        }
    }

    public struct Limits: Sendable, Decodable {
        public var maxBodyBytes: Int?
        public var upstreamTimeoutSeconds: Double?
        public var maxConcurrentUpstream: Int?
        public var maxQueueWaitSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case maxBodyBytes = "max_body_bytes"
            case upstreamTimeoutSeconds = "upstream_timeout_seconds"
            case maxConcurrentUpstream = "max_concurrent_upstream"
            case maxQueueWaitSeconds = "max_queue_wait_seconds"
        }
    }

    public struct Model: Sendable, Decodable {
        public var name: String
        public var task: String
        public var upstream: UpstreamEntry
        public var demonstrations: DemonstrationsEntry
        /// Serve demonstrations that are not private (for experiments); default false.
        public var allowNonPrivate: Bool?

        enum CodingKeys: String, CodingKey {
            case name, task, upstream, demonstrations
            case allowNonPrivate = "allow_non_private"
        }
    }

    public struct UpstreamEntry: Sendable, Decodable {
        public var urls: [String]
        public var model: String
        public var apiKeyEnv: String?

        enum CodingKeys: String, CodingKey {
            case urls, model
            case apiKeyEnv = "api_key_env"
        }
    }

    public struct DemonstrationsEntry: Sendable, Decodable {
        public var file: String?
        public var set: String?
        public var inline: [InlineDemonstration]?
        /// Pick per request from the demonstrations (a pool) instead of serving them all.
        public var select: SelectEntry?
    }

    /// `select: {k, by, balanced}`; each may be left out (k 4, by similarity, balanced true).
    public struct SelectEntry: Sendable, Decodable {
        public var k: Int?
        public var by: String?
        public var balanced: Bool?
    }

    /// A demonstration written in the file: `{label, text}` for a classification task, `{text, answer}`
    /// for an extraction task (as in demonstration files).
    public struct InlineDemonstration: Sendable, Decodable {
        public var label: String?
        public var text: String
        public var answer: String?
    }

    public struct Jobs: Sendable, Decodable {
        public var dataDir: String
        public var llm: [String]

        enum CodingKeys: String, CodingKey {
            case dataDir = "data_dir", llm
        }
    }

    public var server: Server?
    public var limits: Limits?
    public var models: [Model]
    public var jobs: Jobs?

    /// Reads and resolves a configuration file.
    /// - Parameters:
    ///   - taskLoader: reads a task file of prompts/ (the CLI passes `FewShotData.TaskFile.load`).
    ///   - demonstrationSetLoader: returns a stored set by id (or unique prefix); `nil` refuses `set:` entries.
    public static func load(
        from url: URL,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        taskLoader: (URL) throws -> TaskTemplate,
        demonstrationSetLoader: ((String) throws -> DemonstrationSetRecord)? = nil
    ) throws -> ProxyConfiguration {
        let path = url.path
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ProxyConfigurationError(file: path, field: nil, problem: "cannot read the file (\(error.localizedDescription))")
        }
        let file: ProxyConfigurationFile
        do {
            file = try YAMLDocument.decode(
                ProxyConfigurationFile.self, from: text, schema: schema, whatItHolds: "server, limits, models (see the README's 'Configuration file')")
        } catch let problem as DocumentProblem {
            throw ProxyConfigurationError(file: path, problem: problem)
        }
        return try file.resolve(
            relativeTo: url.deletingLastPathComponent(), file: path, environment: environment,
            taskLoader: taskLoader, demonstrationSetLoader: demonstrationSetLoader)
    }

    /// The keys a configuration file may hold; any other key (a typo such as `max_body_byte`, which
    /// would otherwise fall back to the default) is refused with the nearest valid one.
    static let schema: KeySchema = .mapping([
        "server": .mapping(["host": .value, "port": .value, "client_keys_env": .value, "admin_key_env": .value, "prompts_dir": .value]),
        "limits": .mapping([
            "max_body_bytes": .value, "upstream_timeout_seconds": .value, "max_concurrent_upstream": .value, "max_queue_wait_seconds": .value,
        ]),
        "models": .list(.mapping([
            "name": .value, "task": .value, "allow_non_private": .value,
            "upstream": .mapping(["urls": .value, "model": .value, "api_key_env": .value]),
            "demonstrations": .mapping([
                "file": .value, "set": .value, "inline": .list(.mapping(["label": .value, "text": .value, "answer": .value])),
                "select": .mapping(["k": .value, "by": .value, "balanced": .value]),
            ]),
        ])),
        "jobs": .mapping(["data_dir": .value, "llm": .value]),
    ])

    func resolve(
        relativeTo base: URL, file: String, environment: [String: String],
        taskLoader: (URL) throws -> TaskTemplate, demonstrationSetLoader: ((String) throws -> DemonstrationSetRecord)?
    ) throws -> ProxyConfiguration {
        func fail(_ field: String, _ problem: String) -> ProxyConfigurationError {
            ProxyConfigurationError(file: file, field: field, problem: problem)
        }
        func resolvePath(_ p: String) -> URL {
            p.hasPrefix("/") ? URL(fileURLWithPath: p) : base.appendingPathComponent(p)
        }

        guard let keysEnv = server?.clientKeysEnv, !keysEnv.isEmpty else {
            throw fail("server.client_keys_env", "missing; name an environment variable holding comma-separated client keys")
        }
        let clientKeys = (environment[keysEnv] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !clientKeys.isEmpty else {
            throw fail("server.client_keys_env", "environment variable \(keysEnv) is unset or empty; set it to comma-separated client keys")
        }
        var adminKey: String?
        if let adminEnv = server?.adminKeyEnv {
            guard let key = environment[adminEnv], !key.isEmpty else {
                throw fail("server.admin_key_env", "environment variable \(adminEnv) is unset or empty")
            }
            guard !clientKeys.contains(key) else {
                throw fail("server.admin_key_env", "the admin key must differ from every client key")
            }
            adminKey = key
        }

        var limits = ProxyLimits()
        if let l = self.limits {
            if let v = l.maxBodyBytes {
                guard v > 0 else { throw fail("limits.max_body_bytes", "must be positive") }
                limits.maxBodyBytes = v
            }
            if let v = l.upstreamTimeoutSeconds {
                guard v > 0 else { throw fail("limits.upstream_timeout_seconds", "must be positive") }
                limits.upstreamTimeout = .milliseconds(Int64(v * 1000))
            }
            if let v = l.maxConcurrentUpstream {
                guard v > 0 else { throw fail("limits.max_concurrent_upstream", "must be positive") }
                limits.maxConcurrentUpstream = v
            }
            if let v = l.maxQueueWaitSeconds {
                guard v >= 0 else { throw fail("limits.max_queue_wait_seconds", "must not be negative") }
                limits.maxQueueWait = .milliseconds(Int64(v * 1000))
            }
        }
        let port = server?.port ?? 8080
        guard (0...65535).contains(port) else { throw fail("server.port", "must be 0…65535") }

        guard !models.isEmpty else { throw fail("models", "empty; list at least one model to serve") }
        let promptsDir = resolvePath(server?.promptsDir ?? "prompts")
        var served: [ServedModel] = []
        for (i, m) in models.enumerated() {
            let at = "models[\(i)]"
            guard !m.name.isEmpty else { throw fail("\(at).name", "empty") }
            guard !served.contains(where: { $0.name == m.name }) else { throw fail("\(at).name", "'\(m.name)' is listed twice") }
            guard !m.upstream.urls.isEmpty else { throw fail("\(at).upstream.urls", "empty; give at least one base URL") }
            for (j, u) in m.upstream.urls.enumerated() {
                guard let parsed = URL(string: u), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                    throw fail("\(at).upstream.urls[\(j)]", "'\(u)' is not an http(s) URL")
                }
            }
            var apiKey: String?
            if let env = m.upstream.apiKeyEnv {
                guard let key = environment[env], !key.isEmpty else {
                    throw fail("\(at).upstream.api_key_env", "environment variable \(env) is unset or empty")
                }
                apiKey = key
            }

            let taskURL = Self.taskFile(m.task, promptsDir: promptsDir, resolve: resolvePath)
            let task: TaskTemplate
            do {
                task = try taskLoader(taskURL)
            } catch {
                throw fail("\(at).task", "cannot load task '\(m.task)' from \(taskURL.path): \(error)")
            }
            let askedByName = !m.task.contains("/") && !["yaml", "yml", "json"].contains((m.task as NSString).pathExtension)
            if askedByName, task.name != m.task {
                throw fail("\(at).task", "\(taskURL.path) says 'name: \(task.name)', not '\(m.task)'; make the task file's name and its file name agree")
            }

            let d = m.demonstrations
            let given = [d.file != nil, d.set != nil, d.inline != nil].filter { $0 }.count
            guard given == 1 else { throw fail("\(at).demonstrations", "give exactly one of file, set, inline") }
            let selection = try d.select.map { try Self.selection($0, field: "\(at).demonstrations.select", fail: fail) }
            let demos: [Demonstration]
            let source: String
            var nonPrivate: (field: String, reason: String)?
            if let f = d.file {
                let u = resolvePath(f)
                let contents = try DemonstrationFile.load(u)
                demos = contents.demonstrations
                nonPrivate = contents.nonPrivateReason.map { (field: "\(at).demonstrations.file", reason: "\(u.path) \($0): its demonstrations are NOT private") }
                source = "file:\(u.path)"
            } else if let id = d.set {
                guard let loader = demonstrationSetLoader else {
                    throw fail("\(at).demonstrations.set", "no demonstration store is open; use file or inline")
                }
                let record: DemonstrationSetRecord
                do { record = try loader(id) } catch { throw fail("\(at).demonstrations.set", "cannot load set '\(id)': \(error)") }
                demos = record.demonstrations.map { Demonstration(writtenLabel: $0.label, text: $0.text, answer: $0.answer) }
                nonPrivate = record.nonPrivateReason.map { (field: "\(at).demonstrations.set", reason: "demonstration set \(record.id) \($0)") }
                source = "set:\(record.id)"
            } else {
                demos = try (d.inline ?? []).enumerated().map { k, demo in
                    let field = "\(at).demonstrations.inline[\(k)]"
                    switch task.kind {
                    case .extraction:
                        guard let answer = demo.answer else { throw fail("\(field).answer", "missing: \(task.name) is an extraction task, write {text, answer}") }
                        return Demonstration(label: TaskTemplate.extractionGroup, text: demo.text, answer: answer)
                    case .classification:
                        guard demo.answer == nil else { throw fail("\(field).answer", "\(task.name) is a classification task, write {label, text}") }
                        guard let label = demo.label else { throw fail("\(field).label", "missing: \(task.name) is a classification task, write {label, text}") }
                        return Demonstration(label: label, text: demo.text)
                    }
                }
                source = "inline"
            }
            guard !demos.isEmpty else { throw fail("\(at).demonstrations", "no demonstrations") }
            if let nonPrivate, m.allowNonPrivate != true {
                throw fail(nonPrivate.field, "\(nonPrivate.reason), so it is not served. Serve a set generated with a finite "
                    + "--epsilon and without --seed, or, for an experiment only, add allow_non_private: true to this model")
            }
            for (k, demo) in demos.enumerated() {
                switch task.kind {
                case .extraction where demo.answer == nil:
                    throw fail("\(at).demonstrations[\(k)].answer", "task \(task.name) is an extraction task: each demonstration needs an answer")
                case .classification where task.label(named: demo.label) == nil:
                    throw fail(
                        "\(at).demonstrations[\(k)].label",
                        "'\(demo.label)' is not a label of task \(task.name) (\(task.labels.map(\.name).joined(separator: ", ")))")
                default:
                    break
                }
            }
            served.append(ServedModel(
                name: m.name, upstream: Upstream(baseURLs: m.upstream.urls, model: m.upstream.model, apiKey: apiKey),
                task: task, demonstrations: demos, demonstrationSource: source, selection: selection,
                nonPrivateReason: nonPrivate.flatMap { m.allowNonPrivate == true ? $0.reason : nil }))
        }
        var jobsConfiguration: JobsConfiguration?
        if let jobs {
            guard adminKey != nil else { throw fail("jobs", "generation jobs run through the admin API: set server.admin_key_env") }
            let directory = resolvePath(jobs.dataDir)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw fail("jobs.data_dir", "\(directory.path) is not a directory")
            }
            guard !jobs.llm.isEmpty else { throw fail("jobs.llm", "empty; give at least one llama-server base URL") }
            for (j, u) in jobs.llm.enumerated() {
                guard let parsed = URL(string: u), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                    throw fail("jobs.llm[\(j)]", "'\(u)' is not an http(s) URL")
                }
            }
            jobsConfiguration = JobsConfiguration(dataDirectory: directory, promptsDirectory: promptsDir, llmURLs: jobs.llm)
        }
        return ProxyConfiguration(
            host: server?.host ?? "127.0.0.1", port: port, clientKeys: clientKeys, adminKey: adminKey,
            limits: limits, models: served, jobs: jobsConfiguration)
    }

    /// The selection rule of a `select` entry, or the error naming its key.
    static func selection(
        _ entry: SelectEntry, field: String, fail: (String, String) -> ProxyConfigurationError
    ) throws -> DemonstrationSelection {
        var rule = DemonstrationSelection()
        if let k = entry.k {
            guard k > 0 else { throw fail("\(field).k", "\(k) is not a positive number; give how many demonstrations each request gets, e.g. k: 4") }
            rule.k = k
        }
        if let by = entry.by {
            let methods = DemonstrationSelection.Similarity.allCases.map(\.rawValue).joined(separator: ", ")
            if by == "embeddings" {
                throw fail("\(field).by", "embeddings are not supported yet; use by: similarity (lexical, BM25)")
            }
            guard let method = DemonstrationSelection.Similarity(rawValue: by) else {
                throw fail("\(field).by", "'\(by)' is not a selection method; use one of: \(methods)")
            }
            rule.by = method
        }
        if let balanced = entry.balanced { rule.balanced = balanced }
        return rule
    }

    static func taskFile(_ name: String, promptsDir: URL, resolve: (String) -> URL) -> URL {
        if name.contains("/") || name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json") {
            return resolve(name)
        }
        for ext in ["yaml", "yml", "json"] {
            let candidate = promptsDir.appendingPathComponent("\(name).\(ext)")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
        return promptsDir.appendingPathComponent("\(name).yaml")
    }
}

/// A configuration problem, naming the file, the field (dotted path) and what to do.
public struct ProxyConfigurationError: Error, CustomStringConvertible, Sendable {
    public var file: String
    /// Line and column in the file, where the problem has one (syntax errors, unknown keys, wrong types).
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var problem: String

    public init(file: String, field: String?, problem: String) {
        self.file = file
        self.field = field
        self.problem = problem
    }

    init(file: String, problem: DocumentProblem) {
        self.file = file
        self.line = problem.line
        self.column = problem.column
        self.field = problem.field
        self.problem = problem.problem
    }

    static func path(_ keys: [any CodingKey]) -> String { DecodingErrorDescription.path(keys) }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return "\(location): \(field.map { "\($0): " } ?? "")\(problem)"
    }
}
