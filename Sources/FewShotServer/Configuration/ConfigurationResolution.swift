import FewShotCore
import FewShotData
import FewShotSelection
import FewShotStore
import Foundation

extension ProxyConfigurationFile {
    /// The resolve step: each section of the file checked and turned into configuration values by one
    /// function of ``ConfigurationResolution``, in the order of the file.
    func resolve(
        relativeTo base: URL, file: String, environment: [String: String],
        taskLoader: (URL) throws -> TaskTemplate, demonstrationSetLoader: ((String) throws -> DemonstrationSetRecord)?
    ) throws -> ProxyConfiguration {
        let r = ConfigurationResolution(base: base, file: file, environment: environment)
        let (clientKeys, adminKey) = try r.keys(server)
        let limits = try r.limits(self.limits)
        let port = server?.port ?? 8080
        guard (0...65535).contains(port) else { throw r.fail("server.port", "must be 0…65535") }
        guard !models.isEmpty else { throw r.fail("models", "empty; list at least one model to serve") }
        let promptsDir = r.path(server?.promptsDir ?? "prompts")
        var served: [ServedModel] = []
        for (i, m) in models.enumerated() {
            let at = "models[\(i)]"
            guard !m.name.isEmpty else { throw r.fail("\(at).name", "empty") }
            guard !served.contains(where: { $0.name == m.name }) else { throw r.fail("\(at).name", "'\(m.name)' is listed twice") }
            served.append(try r.model(m, at: at, promptsDir: promptsDir, taskLoader: taskLoader, demonstrationSetLoader: demonstrationSetLoader))
        }
        let jobsConfiguration = try jobs.map { jobs in
            guard adminKey != nil else { throw r.fail("jobs", "generation jobs run through the admin API: set server.admin_key_env") }
            return try r.jobs(jobs, promptsDir: promptsDir)
        }
        return ProxyConfiguration(
            host: server?.host ?? "127.0.0.1", port: port, clientKeys: clientKeys, adminKey: adminKey,
            limits: limits, models: served, jobs: jobsConfiguration)
    }
}

/// Checks one section of a configuration file at a time; every error names the file and the field.
struct ConfigurationResolution {
    /// The configuration file's directory: relative paths start there.
    var base: URL
    var file: String
    var environment: [String: String]

    func fail(_ field: String, _ problem: String) -> FileProblem {
        FileProblem(file: file, field: field, problem: problem)
    }

    func path(_ p: String) -> URL {
        p.hasPrefix("/") ? URL(fileURLWithPath: p) : base.appendingPathComponent(p)
    }

    /// The non-empty value of the environment variable a field names.
    func secret(_ name: String, field: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw fail(field, "environment variable \(name) is unset or empty")
        }
        return value
    }

    /// Base URLs that must be http(s) URLs with a host.
    func httpURLs(_ urls: [String], field: String, whatToGive: String) throws {
        guard !urls.isEmpty else { throw fail(field, "empty; give at least one \(whatToGive)") }
        for (j, u) in urls.enumerated() {
            guard let parsed = URL(string: u), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                throw fail("\(field)[\(j)]", "'\(u)' is not an http(s) URL")
            }
        }
    }

    /// `server`: the client keys and the admin key, from the environment variables it names.
    func keys(_ server: ProxyConfigurationFile.Server?) throws -> (client: [String], admin: String?) {
        guard let keysEnv = server?.clientKeysEnv, !keysEnv.isEmpty else {
            throw fail("server.client_keys_env", "missing; name an environment variable holding comma-separated client keys")
        }
        let clientKeys = (environment[keysEnv] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !clientKeys.isEmpty else {
            throw fail("server.client_keys_env", "environment variable \(keysEnv) is unset or empty; set it to comma-separated client keys")
        }
        guard let adminEnv = server?.adminKeyEnv else { return (clientKeys, nil) }
        let adminKey = try secret(adminEnv, field: "server.admin_key_env")
        guard !clientKeys.contains(adminKey) else {
            throw fail("server.admin_key_env", "the admin key must differ from every client key")
        }
        return (clientKeys, adminKey)
    }

    /// `limits`: each given limit checked; the others keep their defaults.
    func limits(_ l: ProxyConfigurationFile.Limits?) throws -> ProxyLimits {
        var limits = ProxyLimits()
        guard let l else { return limits }
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
        return limits
    }

    /// One entry of `models`: its upstream, task and demonstrations.
    func model(
        _ m: ProxyConfigurationFile.Model, at: String, promptsDir: URL,
        taskLoader: (URL) throws -> TaskTemplate, demonstrationSetLoader: ((String) throws -> DemonstrationSetRecord)?
    ) throws -> ServedModel {
        try httpURLs(m.upstream.urls, field: "\(at).upstream.urls", whatToGive: "base URL")
        let apiKey = try m.upstream.apiKeyEnv.map { try secret($0, field: "\(at).upstream.api_key_env") }
        let task = try self.task(m.task, at: at, promptsDir: promptsDir, taskLoader: taskLoader)
        let demonstrations = try self.demonstrations(
            m.demonstrations, at: at, task: task, allowNonPrivate: m.allowNonPrivate == true, demonstrationSetLoader: demonstrationSetLoader)
        return ServedModel(
            name: m.name, upstream: Upstream(baseURLs: m.upstream.urls, model: m.upstream.model, apiKey: apiKey),
            task: task, demonstrations: demonstrations.list, demonstrationSource: demonstrations.source, selection: demonstrations.selection,
            nonPrivateReason: demonstrations.nonPrivateReason)
    }

    /// `models[i].task`: a task of prompts/ by name, or a task file by path.
    func task(_ name: String, at: String, promptsDir: URL, taskLoader: (URL) throws -> TaskTemplate) throws -> TaskTemplate {
        let taskURL = taskFile(name, promptsDir: promptsDir)
        let task: TaskTemplate
        do {
            task = try taskLoader(taskURL)
        } catch {
            throw fail("\(at).task", "cannot load task '\(name)' from \(taskURL.path): \(error)")
        }
        let askedByName = !name.contains("/") && !["yaml", "yml", "json"].contains((name as NSString).pathExtension)
        if askedByName, task.name != name {
            throw fail("\(at).task", "\(taskURL.path) says 'name: \(task.name)', not '\(name)'; make the task file's name and its file name agree")
        }
        return task
    }

    /// The task file a `task` entry names: a path (relative to the configuration file), or a name
    /// looked up as every command looks it up (``TaskFile/locate(_:in:)``: `prompts_dir`, then the
    /// shipped tasks).
    func taskFile(_ name: String, promptsDir: URL) -> URL {
        if name.contains("/") || name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json") {
            return path(name)
        }
        return TaskFile.locate(name, in: promptsDir) ?? promptsDir.appendingPathComponent("\(name).yaml")
    }

    /// A model's demonstrations, where they came from, and why they are not private when they are not
    /// (only with `allow_non_private: true`; otherwise such a source is refused).
    struct Demonstrations {
        var list: [Demonstration]
        var source: String
        var selection: DemonstrationSelection?
        var nonPrivateReason: String?
    }

    /// `models[i].demonstrations`: exactly one of file, set, inline, each demonstration checked against the task.
    func demonstrations(
        _ d: ProxyConfigurationFile.DemonstrationsEntry, at: String, task: TaskTemplate, allowNonPrivate: Bool,
        demonstrationSetLoader: ((String) throws -> DemonstrationSetRecord)?
    ) throws -> Demonstrations {
        let given = [d.file != nil, d.set != nil, d.inline != nil].filter { $0 }.count
        guard given == 1 else { throw fail("\(at).demonstrations", "give exactly one of file, set, inline") }
        let selection = try d.select.map { try self.selection($0, field: "\(at).demonstrations.select") }
        let demos: [Demonstration]
        let source: String
        var nonPrivate: (field: String, reason: String)?
        if let f = d.file {
            let u = path(f)
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
                try inline(demo, field: "\(at).demonstrations.inline[\(k)]", task: task)
            }
            source = "inline"
        }
        guard !demos.isEmpty else { throw fail("\(at).demonstrations", "no demonstrations") }
        if let nonPrivate, !allowNonPrivate {
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
        return Demonstrations(list: demos, source: source, selection: selection, nonPrivateReason: nonPrivate?.reason)
    }

    /// `models[i].demonstrations.select`: the selection rule, or the error naming its key.
    func selection(_ entry: ProxyConfigurationFile.SelectEntry, field: String) throws -> DemonstrationSelection {
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

    /// One inline demonstration: `{label, text}` for a classification task, `{text, answer}` for an extraction task.
    func inline(_ demo: ProxyConfigurationFile.InlineDemonstration, field: String, task: TaskTemplate) throws -> Demonstration {
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

    /// `jobs`: the private data directory and the llama-server(s) that generate.
    func jobs(_ jobs: ProxyConfigurationFile.Jobs, promptsDir: URL) throws -> JobsConfiguration {
        let directory = path(jobs.dataDir)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw fail("jobs.data_dir", "\(directory.path) is not a directory")
        }
        try httpURLs(jobs.llm, field: "jobs.llm", whatToGive: "llama-server base URL")
        return JobsConfiguration(dataDirectory: directory, promptsDirectory: promptsDir, llmURLs: jobs.llm)
    }
}
