import FewShotCore
import FewShotData
import Foundation
import Testing
@testable import FewShotServer

@Suite struct ConfigurationFileTests {
    /// The task as `TaskTemplate`'s own JSON; the CLI reads prompts/ files with FewShotData.TaskFile instead.
    static func taskJSON() throws -> String {
        String(decoding: try JSONEncoder().encode(ProxyHarness.task), as: UTF8.self)
    }

    static func loadTask(_ url: URL) throws -> TaskTemplate {
        try JSONDecoder().decode(TaskTemplate.self, from: Data(contentsOf: url))
    }

    func load(_ dir: URL, _ environment: [String: String]) throws -> ProxyConfiguration {
        try ProxyConfigurationFile.load(from: dir.appendingPathComponent("serve.yaml"), environment: environment, taskLoader: Self.loadTask)
    }

    func directory(config: String, demos: String = "{\"epsilon\": 4}\n{\"label\":\"pos\",\"text\":\"Fine.\"}\n\n{\"label\":\"neg\",\"text\":\"Bad.\"}\n") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("prompts"), withIntermediateDirectories: true)
        try Self.taskJSON().write(to: dir.appendingPathComponent("prompts/sentiment.json"), atomically: true, encoding: .utf8)
        try demos.write(to: dir.appendingPathComponent("demos.jsonl"), atomically: true, encoding: .utf8)
        try config.write(to: dir.appendingPathComponent("serve.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    static let config = """
        server:
          port: 9001
          client_keys_env: KEYS
          admin_key_env: ADMIN
        limits:
          max_body_bytes: 2048
          upstream_timeout_seconds: 1.5
        models:
          - name: s1
            task: sentiment
            upstream: {urls: ["http://127.0.0.1:8090/v1/"], model: smol, api_key_env: UP}
            demonstrations: {file: demos.jsonl}
          - name: s2
            task: prompts/sentiment.json
            upstream: {urls: ["http://a:1/v1", "http://b:2/v1"], model: smol}
            demonstrations:
              inline:
                - {label: neg, text: "Meh."}
        """

    /// A task name the configuration's prompts_dir does not have is looked up as every command looks
    /// it up (TaskFile.locate): in the shipped tasks, so `task: trec` works from any directory.
    @Test func aShippedTaskIsFoundWithoutAPromptsDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try #"{"label":"NUM","text":"How many moons does Mars have?"}"#.write(to: dir.appendingPathComponent("demos.jsonl"), atomically: true, encoding: .utf8)
        try """
            server: {client_keys_env: KEYS}
            models:
              - {name: t, task: trec, upstream: {urls: ["http://127.0.0.1:8090/v1"], model: smol}, demonstrations: {file: demos.jsonl}}
            """.write(to: dir.appendingPathComponent("serve.yaml"), atomically: true, encoding: .utf8)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("prompts").path))
        let c = try ProxyConfigurationFile.load(from: dir.appendingPathComponent("serve.yaml"), environment: ["KEYS": "k"], taskLoader: TaskFile.load)
        let model = try #require(c.model(named: "t"))
        #expect(model.task.name == "trec" && model.task.label(named: "NUM") != nil)
    }

    @Test func loadsAFullConfiguration() throws {
        let dir = try directory(config: Self.config)
        let c = try load(dir, ["KEYS": "ck-one, ck-two", "ADMIN": "admin-secret-x", "UP": "upkey-secret-x"])
        #expect(c.port == 9001 && c.host == "127.0.0.1")
        #expect(c.clientKeys == ["ck-one", "ck-two"] && c.adminKey == "admin-secret-x")
        #expect(c.limits.maxBodyBytes == 2048 && c.limits.upstreamTimeout == .milliseconds(1500))
        let s1 = try #require(c.model(named: "s1"))
        #expect(s1.upstream.baseURLs == ["http://127.0.0.1:8090/v1"] && s1.upstream.apiKey == "upkey-secret-x" && s1.upstream.model == "smol")
        #expect(s1.demonstrations == [Demonstration(label: "pos", text: "Fine."), Demonstration(label: "neg", text: "Bad.")])
        #expect(s1.renderedDemonstrations.hasPrefix("Classify the review.\n\nReview: Fine.\nSentiment: positive"))
        let s2 = try #require(c.model(named: "s2"))
        #expect(s2.demonstrations == [Demonstration(label: "neg", text: "Meh.")] && s2.upstream.baseURLs.count == 2)
        #expect(!c.description.contains("ck-one") && !c.description.contains("admin-secret-x") && !s1.upstream.description.contains("upkey-secret-x"))
    }

    @Test(arguments: [
        (["ADMIN": "adm", "UP": "u"], "server.client_keys_env"),
        (["KEYS": "k", "UP": "u"], "server.admin_key_env"),
        (["KEYS": "k", "ADMIN": "k", "UP": "u"], "server.admin_key_env"),
        (["KEYS": "k", "ADMIN": "adm"], "models[0].upstream.api_key_env"),
    ])
    func missingOrCollidingKeysAreNamed(environment: [String: String], field: String) throws {
        let dir = try directory(config: Self.config)
        #expect {
            try load(dir, environment)
        } throws: { error in
            (error as? FileProblem)?.field == field
        }
    }

    @Test func badEntriesNameFileAndField() throws {
        let env = ["KEYS": "k", "ADMIN": "adm", "UP": "u"]
        let unknownLabel = try directory(config: Self.config.replacingOccurrences(of: "{label: neg, text: \"Meh.\"}", with: "{label: meh, text: \"Meh.\"}"))
        do {
            _ = try load(unknownLabel, env)
            Issue.record("accepted an unknown label")
        } catch let error as FileProblem {
            #expect(error.field == "models[1].demonstrations[0].label")
            #expect(error.description.contains("serve.yaml"))
        }
        let missingModel = try directory(config: Self.config.replacingOccurrences(of: ", model: smol, api_key_env: UP}", with: "}"))
        #expect {
            try load(missingModel, env)
        } throws: { error in
            (error as? FileProblem)?.field == "models[0].upstream.model"
        }
        let badLine = try directory(config: Self.config, demos: "{\"label\":\"pos\",\"text\":\"ok\"}\n{\"label\":\"pos\"}\n")
        #expect {
            try load(badLine, env)
        } throws: { error in
            let e = error as? FileProblem
            return e?.line == 2 && e?.field == "text" && e?.description.hasSuffix("demos.jsonl:2: field 'text': missing or empty") == true
        }
        let noLabel = try directory(config: Self.config.replacingOccurrences(of: "{label: neg, text: \"Meh.\"}", with: "{text: \"Meh.\"}"))
        #expect {
            try load(noLabel, env)
        } throws: { error in
            (error as? FileProblem)?.field == "models[1].demonstrations.inline[0].label"
        }
        let missingTask = try directory(config: Self.config.replacingOccurrences(of: "task: sentiment", with: "task: nosuch"))
        #expect {
            try load(missingTask, env)
        } throws: { error in
            (error as? FileProblem)?.field == "models[0].task"
        }
    }
}

/// Inline demonstrations of an extraction task are written `{text, answer}`, as in demonstration files.
@Suite struct InlineExtractionDemonstrationTests {
    static let movie = TaskTemplate(
        name: "movie", labels: [],
        generation: PromptFormat(instruction: "Write about films.\n\n", example: "Sentence: {text}\nGenre: {answer}\n\n"),
        classification: PromptFormat(instruction: "", example: "Sentence: {text}\nGenre: {answer}\n\n"),
        kind: .extraction)

    func load(_ demonstrations: String) throws -> ProxyConfiguration {
        let config = """
            server: {client_keys_env: KEYS}
            models:
              - name: films
                task: prompts/movie.json
                upstream: {urls: ["http://127.0.0.1:8090/v1"], model: smol}
                demonstrations:
                  inline:
            \(demonstrations)
            """
        let dir = try ConfigurationFileTests().directory(config: config)
        try String(decoding: try JSONEncoder().encode(Self.movie), as: UTF8.self)
            .write(to: dir.appendingPathComponent("prompts/movie.json"), atomically: true, encoding: .utf8)
        return try ConfigurationFileTests().load(dir, ["KEYS": "k"])
    }

    @Test func loadWithoutALabel() throws {
        let c = try load("          - {text: \"A ghost story set in Kyoto.\", answer: horror}")
        let films = try #require(c.model(named: "films"))
        #expect(films.demonstrations == [Demonstration(label: TaskTemplate.extractionGroup, text: "A ghost story set in Kyoto.", answer: "horror")])
        #expect(films.renderedDemonstrations.contains("Sentence: A ghost story set in Kyoto.\nGenre: horror"))
    }

    @Test func withoutAnAnswerTheFieldIsNamed() throws {
        #expect {
            try load("          - {text: \"A ghost story set in Kyoto.\"}")
        } throws: { error in
            (error as? FileProblem)?.field == "models[0].demonstrations.inline[0].answer"
        }
    }
}

/// The `jobs` section: resolved against the file's directory, and each mistake named.
@Suite struct JobsConfigurationFileTests {
    let env = ["KEYS": "k", "ADMIN": "adm", "UP": "u"]

    func load(_ jobs: String, config: String = ConfigurationFileTests.config) throws -> ProxyConfiguration {
        let dir = try ConfigurationFileTests().directory(config: config + "\n" + jobs)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("private"), withIntermediateDirectories: true)
        return try ConfigurationFileTests().load(dir, env)
    }

    @Test func resolvesTheDataDirectoryAndURLs() throws {
        let c = try load("jobs: {data_dir: private, llm: [\"http://127.0.0.1:8090\"]}")
        let jobs = try #require(c.jobs)
        #expect(jobs.dataDirectory.lastPathComponent == "private")
        #expect(jobs.promptsDirectory.lastPathComponent == "prompts")
        #expect(jobs.llmURLs == ["http://127.0.0.1:8090"])
        #expect(try jobs.dataFile("a/b.jsonl").path.hasSuffix("private/a/b.jsonl"))
        #expect(throws: OpenAIError.self) { try jobs.dataFile("../serve.yaml") }
        #expect(throws: OpenAIError.self) { try jobs.dataFile("/etc/passwd") }
    }

    @Test(arguments: [
        ("jobs: {data_dir: nowhere, llm: [\"http://127.0.0.1:8090\"]}", "jobs.data_dir"),
        ("jobs: {data_dir: private, llm: []}", "jobs.llm"),
        ("jobs: {data_dir: private, llm: [\"127.0.0.1:8090\"]}", "jobs.llm[0]"),
        ("jobs: {llm: [\"http://127.0.0.1:8090\"]}", "jobs.data_dir"),
    ])
    func mistakesAreNamed(jobs: String, field: String) throws {
        #expect {
            try load(jobs)
        } throws: { error in
            (error as? FileProblem)?.field == field
        }
    }

    @Test func jobsNeedTheAdminKey() throws {
        let noAdmin = ConfigurationFileTests.config.replacingOccurrences(of: "  admin_key_env: ADMIN\n", with: "")
        #expect {
            try load("jobs: {data_dir: private, llm: [\"http://127.0.0.1:8090\"]}", config: noAdmin)
        } throws: { error in
            (error as? FileProblem)?.field == "jobs"
        }
    }
}
