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
///     task: trec                 # prompts_dir/trec.yaml (.yml, .json), else the shipped task; or a path to a task file
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
/// ``FileProblem`` naming the file, the field and the fix; nothing is served half-configured.
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
            throw FileProblem(file: path, field: nil, problem: "cannot read the file (\(error.localizedDescription))")
        }
        let file: ProxyConfigurationFile
        do {
            file = try YAMLDocument.decode(
                ProxyConfigurationFile.self, from: text, schema: schema, whatItHolds: "server, limits, models (see the README's 'Configuration file')")
        } catch let problem as DocumentProblem {
            throw FileProblem(file: path, problem: problem)
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
}

extension FileProblem {
    /// A configuration field's dotted path from a decoder's coding path.
    static func path(_ keys: [any CodingKey]) -> String { DecodingErrorDescription.path(keys) }
}
