import Foundation
import Testing
@testable import LocalLLM

@Suite struct LocalLLMPathsTests {
    @Test func optionWinsOverEnvironment() throws {
        let paths = try LocalLLMPaths.resolve(
            option: "/opt/llm",
            environment: ["FEWSHOT_CACHE_DIR": "/env/llm", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"])
        #expect(paths.cacheDirectory.path == "/opt/llm")
    }

    @Test func fewshotCacheDirWinsOverXDGAndHome() throws {
        let paths = try LocalLLMPaths.resolve(
            option: nil, environment: ["FEWSHOT_CACHE_DIR": "/env/llm", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"])
        #expect(paths.cacheDirectory.path == "/env/llm")
    }

    @Test func xdgCacheHomeWinsOverHome() throws {
        let paths = try LocalLLMPaths.resolve(option: nil, environment: ["XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"])
        #expect(paths.cacheDirectory.path == "/xdg/fewshot/llm")
    }

    @Test func relativeXDGIsIgnoredAsTheSpecSays() throws {
        let paths = try LocalLLMPaths.resolve(option: nil, environment: ["XDG_CACHE_HOME": "rel", "HOME": "/home/u"])
        #expect(paths.cacheDirectory.path == "/home/u/.cache/fewshot/llm")
    }

    @Test func homeIsTheLastResort() throws {
        let paths = try LocalLLMPaths.resolve(option: "", environment: ["HOME": "/home/u", "FEWSHOT_CACHE_DIR": ""])
        #expect(paths.cacheDirectory.path == "/home/u/.cache/fewshot/llm")
        #expect(paths.serverBinary.path == "/home/u/.cache/fewshot/llm/build/bin/llama-server")
        #expect(paths.venvPython.path == "/home/u/.cache/fewshot/llm/venv/bin/python")
    }

    @Test func relativeOptionIsResolvedAgainstTheWorkingDirectory() throws {
        let paths = try LocalLLMPaths.resolve(option: "some/dir", environment: [:])
        #expect(paths.cacheDirectory.path == FileManager.default.currentDirectoryPath + "/some/dir")
    }

    @Test func noHomeAndNothingElseIsAnError() {
        #expect(throws: LocalLLMError.noCacheDirectory) {
            try LocalLLMPaths.resolve(option: nil, environment: [:])
        }
    }
}
