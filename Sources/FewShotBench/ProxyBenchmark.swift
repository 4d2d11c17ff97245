import ArgumentParser
import FewShotCore
import FewShotServer
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `fewshot-bench proxy`: the latency the proxy adds over a direct call to the same upstream, at a
/// fixed request rate, and the highest rate the proxy holds. The upstream is an in-process stub that
/// answers a fixed chat completion at once, so the proxy's own cost is what shows.
///
/// Load is open-loop (`LoadTarget`): request i is due at start + i/rate and its latency counts from
/// that moment, so a stalled server cannot hide its queueing delay. Everything runs on 127.0.0.1 in this process
/// (load generator, proxy and stub share the machine's cores); every phase is bounded in count and time.
struct ProxyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Added latency (p50/p99) of fewshot serve over a direct upstream call, and the highest rate it holds.")

    @Option(help: "Requests per second for the fixed-rate comparison.")
    var rate: Int = 500

    @Option(help: "Seconds per fixed-rate run (direct, then proxy).")
    var duration: Double = 10

    @Option(name: .customLong("ramp-start"), help: "First rate of the ramp (requests/s).")
    var rampStart: Int = 1000

    @Option(name: .customLong("ramp-step"), help: "Rate increase per ramp step (requests/s).")
    var rampStep: Int = 500

    @Option(name: .customLong("ramp-max"), help: "Highest rate the ramp tries (requests/s).")
    var rampMax: Int = 8000

    @Option(name: .customLong("step-duration"), help: "Seconds per ramp step.")
    var stepDuration: Double = 3

    @Option(help: "wrk binary for a closed-loop saturation run after the ramp (skipped if not found).")
    var wrk: String = "/usr/bin/wrk"

    @Option(name: .customLong("p99-limit-ms"), help: "A ramp step is held if p99 stays at or under this (ms), with no errors and >= 95% of the rate served.")
    var p99LimitMs: Double = 25

    @Option(help: "Kept-alive connections of the load generator, to the stub and to the proxy each.")
    var connections: Int = 64

    func validate() throws {
        guard connections > 0, connections <= 1024 else { throw ValidationError("--connections must be in [1, 1024]") }
        guard rate > 0, duration > 0, duration <= 120 else { throw ValidationError("--rate must be > 0 and --duration in (0, 120]") }
        guard rampStart > 0, rampStep > 0, rampMax >= rampStart, rampMax <= 50000 else {
            throw ValidationError("--ramp-start and --ramp-step must be > 0, --ramp-max in [ramp-start, 50000]")
        }
        guard stepDuration > 0, stepDuration <= 30 else { throw ValidationError("--step-duration must be in (0, 30]") }
    }

    func run() async throws {
        var quiet = Logger(label: "fewshot.bench.proxy")
        quiet.logLevel = .error

        try await StubAndProxy.run(logger: quiet, configuration: Self.proxyConfiguration(upstreamPort:)) { upstreamPort, proxyPort in
            let direct = LoadTarget(host: "127.0.0.1", port: upstreamPort, path: "/v1/chat/completions", model: "stub", key: nil, connections: connections)
            let proxied = LoadTarget(host: "127.0.0.1", port: proxyPort, path: "/v1/chat/completions", model: "bench", key: Self.key, connections: connections)

            print("fewshot-bench proxy: stub upstream 127.0.0.1:\(upstreamPort), proxy 127.0.0.1:\(proxyPort), "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores shared by load generator, proxy and stub")
            print("warm-up: 1 s at \(rate) req/s each")
            _ = await direct.fire(rate: Double(rate), seconds: 1)
            _ = await proxied.fire(rate: Double(rate), seconds: 1)

            print("fixed rate \(rate) req/s for \(duration) s (latency from each request's due time, open loop)")
            let directRun = await direct.fire(rate: Double(rate), seconds: duration)
            print("  direct: \(directRun.summary)")
            let proxyRun = await proxied.fire(rate: Double(rate), seconds: duration)
            print("  proxy : \(proxyRun.summary)")
            let addedP50 = proxyRun.percentile(0.50) - directRun.percentile(0.50)
            let addedP99 = proxyRun.percentile(0.99) - directRun.percentile(0.99)
            print("  added by the proxy: p50 \(String(format: "%+.3f", addedP50)) ms (target <= 1 ms: \(addedP50 <= 1 ? "met" : "MISSED")), "
                + "p99 \(String(format: "%+.3f", addedP99)) ms (target <= 5 ms: \(addedP99 <= 5 ? "met" : "MISSED"))")

            let proxyCPU = proxyRun.cpuMicrosecondsPerRequest - directRun.cpuMicrosecondsPerRequest
            print("  CPU per request: direct \(Int(directRun.cpuMicrosecondsPerRequest)) us (client + stub), through the proxy \(Int(proxyRun.cpuMicrosecondsPerRequest)) us; "
                + "the proxy's own share \(Int(proxyCPU)) us, i.e. about \(Int(2e6 / max(1, proxyCPU))) req/s on two otherwise idle cores for the proxy alone")
            print("ramp through the proxy: \(stepDuration) s per step; held = no errors, >= 95% of the rate served, p99 <= \(p99LimitMs) ms")
            var highestHeld: Int?
            var target = rampStart
            while target <= rampMax {
                let step = await proxied.fire(rate: Double(target), seconds: stepDuration)
                let held = step.errors == 0 && step.achievedRate >= 0.95 * Double(target) && step.percentile(0.99) <= p99LimitMs
                print("  \(target) req/s: \(step.summary) -> \(held ? "held" : "not held")")
                guard held else { break }
                highestHeld = target
                target += rampStep
                try await Task.sleep(for: .milliseconds(500))
            }
            if let highestHeld {
                print("highest rate held: \(highestHeld) req/s\(highestHeld == rampMax ? " (the ramp's maximum)" : "") (target >= 2000: \(highestHeld >= 2000 ? "met" : "MISSED"))")
            } else {
                print("highest rate held: none of the ramp's rates (target >= 2000: MISSED)")
            }
            if FileManager.default.isExecutableFile(atPath: wrk) {
                print("saturation with wrk (closed loop, 1 thread, 32 connections, 5 s: a second, independent load generator)")
                for (name, target) in [("direct", direct), ("proxy ", proxied)] {
                    print("  \(name): \(try WrkRun.run(wrk: wrk, url: target.url, model: target.model, key: target.key))")
                }
            } else {
                print("saturation with wrk: skipped (no executable at \(wrk); apt-get install wrk)")
            }
        }
    }

    static let key = "bench-client-key"

    static func proxyConfiguration(upstreamPort: Int) -> ProxyConfiguration {
        let task = TaskTemplate(
            name: "bench",
            labels: [TaskLabel(name: "pos", word: "positive"), TaskLabel(name: "neg", word: "negative")],
            generation: PromptFormat(instruction: "Write a review.\n\n", example: "Sentiment: {label}\nReview: {text}\n\n"),
            classification: PromptFormat(instruction: "Classify the review.\n\n", example: "Review: {text}\nSentiment: {label}\n\n"))
        let demonstrations = (0..<4).map { i in
            Demonstration(label: i % 2 == 0 ? "pos" : "neg", text: "A synthetic review number \(i) of moderate length, as the generator writes.")
        }
        let model = ServedModel(
            name: "bench", upstream: Upstream(baseURLs: ["http://127.0.0.1:\(upstreamPort)/v1"], model: "stub"),
            task: task, demonstrations: demonstrations, demonstrationSource: "inline")
        return ProxyConfiguration(
            host: "127.0.0.1", port: 0, clientKeys: [key],
            limits: ProxyLimits(upstreamTimeout: .seconds(5), maxConcurrentUpstream: 1024, maxQueueWait: .seconds(1)),
            models: [model])
    }
}

/// An upstream that answers every chat completion with the same small OpenAI-shaped body at once.
enum FixedCompletionUpstream {
    static let body = #"{"id":"chatcmpl-stub","object":"chat.completion","created":0,"model":"stub","choices":[{"index":0,"message":{"role":"assistant","content":"positive"},"finish_reason":"stop"}],"usage":{"prompt_tokens":60,"completion_tokens":1,"total_tokens":61}}"#

    static func application(logger: Logger, onPort: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        let router = Router()
        let answer = ByteBuffer(string: body)
        router.post("v1/chat/completions") { request, _ in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
        }
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { onPort($0.localAddress?.port ?? 0) }, logger: logger)
    }
}

/// The latencies (ms, sorted) and error count of one fixed-rate run.
struct LoadRun {
    let target: Double
    let wallSeconds: Double
    let latenciesMs: [Double]
    let errors: Int
    /// CPU time (user + system) this process used during the run: load generator, proxy and stub together.
    let cpuSeconds: Double

    var cpuMicrosecondsPerRequest: Double { cpuSeconds * 1e6 / Double(max(1, latenciesMs.count + errors)) }

    var achievedRate: Double { Double(latenciesMs.count) / wallSeconds }

    func percentile(_ p: Double) -> Double {
        guard !latenciesMs.isEmpty else { return .infinity }
        return latenciesMs[min(latenciesMs.count - 1, Int(Double(latenciesMs.count) * p))]
    }

    var summary: String {
        String(format: "n=%d ok, %d errors, %.0f req/s served, p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms, CPU %.0f us/request",
               latenciesMs.count, errors, achievedRate, percentile(0.5), percentile(0.9), percentile(0.99), latenciesMs.last ?? .infinity,
               cpuMicrosecondsPerRequest)
    }
}

/// User plus system CPU seconds used by this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// One closed-loop `wrk` run against a chat completions URL; reports its own throughput and latency lines.
enum WrkRun {
    static func run(wrk: String, url: String, model: String, key: String?) throws -> String {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-bench-\(UUID().uuidString).lua")
        var lua = """
            wrk.method = "POST"
            wrk.body = '{"model":"\(model)","messages":[{"role":"user","content":"Review: An uneven but likeable film. Sentiment:"}],"max_tokens":1}'
            wrk.headers["Content-Type"] = "application/json"

            """
        if let key { lua += "wrk.headers[\"Authorization\"] = \"Bearer \(key)\"\n" }
        try lua.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t1", "-c32", "-d5s", "--latency", "-s", script.path, url]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func value(after prefix: String) -> String? {
            lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        }
        let rate = value(after: "Requests/sec:") ?? "?"
        let p50 = value(after: "50%") ?? "?"
        let p99 = value(after: "99%") ?? "?"
        let non2xx = value(after: "Non-2xx or 3xx responses:") ?? "0"
        let socketErrors = value(after: "Socket errors:") ?? "none"
        return "\(rate) req/s, p50 \(p50), p99 \(p99), non-2xx \(non2xx), socket errors \(socketErrors)"
    }
}
