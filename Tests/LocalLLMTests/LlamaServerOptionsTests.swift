import Foundation
import Testing
@testable import LocalLLM

@Suite struct LlamaServerOptionsTests {
    let options = LlamaServerOptions(
        serverBinary: URL(fileURLWithPath: "/x/llama-server"), model: URL(fileURLWithPath: "/m/model.gguf"))

    /// The value following `flag` in `arguments`, failing the test if the flag is absent or repeated.
    func value(of flag: String, in arguments: [String]) -> String? {
        let positions = arguments.indices.filter { arguments[$0] == flag }
        #expect(positions.count == 1, "\(flag) should appear exactly once in \(arguments)")
        guard let index = positions.first, index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    @Test func reproducibilityFlagsArePinned() {
        let arguments = options.arguments(port: 8095)
        #expect(value(of: "-fa", in: arguments) == "off")
        #expect(arguments.contains("--no-kv-unified"))
        #expect(value(of: "--host", in: arguments) == "127.0.0.1")
        #expect(value(of: "--port", in: arguments) == "8095")
        #expect(value(of: "--model", in: arguments) == "/m/model.gguf")
    }

    @Test func theModelsFlagsAreAppended() {
        // Gemma 3 needs --swa-full, or llama-server re-reads every prompt in full (no prompt cache).
        #expect(LocalModel.gemma3.serverArguments == ["--swa-full"])
        #expect(LocalModel.smolLM2.serverArguments.isEmpty)
        var gemma = options
        gemma.modelArguments = LocalModel.gemma3.serverArguments
        #expect(gemma.arguments(port: 1).filter { $0 == "--swa-full" }.count == 1)
        #expect(!options.arguments(port: 1).contains("--swa-full"))
    }

    @Test func defaultsAreTenSlotsOf2048Tokens() {
        let arguments = options.arguments(port: 1)
        #expect(value(of: "--parallel", in: arguments) == "10")
        #expect(value(of: "--ctx-size", in: arguments) == "20480")
        #expect(!arguments.contains("--threads"))
    }

    @Test func explicitSlotsContextAndThreadsAreUsed() {
        var custom = options
        custom.parallelSlots = 3
        custom.contextSize = 1536
        custom.threads = 2
        let arguments = custom.arguments(port: 1)
        #expect(value(of: "--parallel", in: arguments) == "3")
        #expect(value(of: "--ctx-size", in: arguments) == "1536")
        #expect(value(of: "--threads", in: arguments) == "2")
    }

    @Test func slotsAloneScaleTheDefaultContext() {
        var custom = options
        custom.parallelSlots = 4
        #expect(custom.effectiveContextSize == 8192)
    }

    @Test func configureFlagsArePortableAndDownloadFree() {
        let installer = LocalLLMInstaller(paths: LocalLLMPaths(cacheDirectory: URL(fileURLWithPath: "/c")))
        let arguments = installer.configureArguments()
        for flag in ["-DGGML_NATIVE=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF", "-DLLAMA_OPENSSL=OFF",
                     "-DBUILD_SHARED_LIBS=OFF", "-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_CURL=OFF",
                     "-DCMAKE_MAKE_PROGRAM=/c/venv/bin/ninja"] {
            #expect(arguments.contains(flag), "missing \(flag)")
        }
        #expect(value(of: "-S", in: arguments) == "/c/src/llama_cpp_python-0.3.36/vendor/llama.cpp")
        #expect(value(of: "-B", in: arguments) == "/c/build")
    }
}
