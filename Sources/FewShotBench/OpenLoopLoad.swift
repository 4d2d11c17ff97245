import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fires one POST at a fixed rate over a set of kept-alive HTTP/1.1 connections and records each
/// latency from the request's due time (open loop: a slow server cannot hide its queueing delay).
///
/// It runs on one NIO event loop with pre-built requests, so it costs a few tens of microseconds of
/// CPU per request; a load generator built on AsyncHTTPClient and a task per request cost ~600 us and,
/// sharing the machine's two cores with the proxy, capped the rates it could show at 1000-1500 req/s.
struct LoadTarget: Sendable {
    let host: String
    let port: Int
    let path: String
    let model: String
    let key: String?
    /// Kept-alive connections; a due request waits (and its latency grows) when all are busy.
    var connections = 64
    /// The content of the request's one user message.
    var userText = "Review: An uneven but likeable film.\nSentiment:"

    var url: String { "http://\(host):\(port)\(path)" }

    /// Due requests still waiting for a connection beyond this count are given up on (counted as errors), bounding memory.
    static let maxWaiting = 4096

    static func jsonString(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    func fire(rate: Double, seconds: Double) async -> LoadRun {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        let body = ByteBuffer(string: #"{"model":"\#(model)","messages":[{"role":"user","content":\#(Self.jsonString(userText))}],"max_tokens":1,"temperature":0}"#)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        if let key { head.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let state = LoadState(loop: loop, head: head, body: body, total: max(1, Int(rate * seconds)), rate: rate)

        let cpuBefore = processCPUSeconds()
        let bootstrap = ClientBootstrap(group: loop).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(LoadConnection(state: state))
            }
        }
        var opened: [any Channel] = []
        for _ in 0..<connections {
            if let channel = try? await bootstrap.connect(host: host, port: port).get() { opened.append(channel) }
        }
        let outcome = await (try? loop.flatSubmit { state.start(timeout: .seconds(Int64(seconds) + 10)) }.get())
            ?? LoadState.Outcome(latenciesMs: [], errors: state.total, wallSeconds: seconds)
        for channel in opened { try? await channel.close() }
        try? await group.shutdownGracefully()
        return LoadRun(target: rate, wallSeconds: outcome.wallSeconds, latenciesMs: outcome.latenciesMs.sorted(),
                       errors: outcome.errors, cpuSeconds: processCPUSeconds() - cpuBefore)
    }
}

/// The run's schedule and results; touched only on its event loop.
final class LoadState: @unchecked Sendable {
    struct Outcome: Sendable {
        var latenciesMs: [Double]
        var errors: Int
        var wallSeconds: Double
    }

    let loop: any EventLoop
    let head: HTTPRequestHead
    let body: ByteBuffer
    let total: Int
    private let intervalNanoseconds: Double
    private var startTime = NIODeadline.now()
    private var launched = 0
    private var idle: [LoadConnection] = []
    private var open = 0
    private var waiting = CircularBuffer<NIODeadline>()
    private var latenciesMs: [Double] = []
    private var errors = 0
    private var done: EventLoopPromise<Outcome>?

    init(loop: any EventLoop, head: HTTPRequestHead, body: ByteBuffer, total: Int, rate: Double) {
        self.loop = loop
        self.head = head
        self.body = body
        self.total = total
        self.intervalNanoseconds = 1e9 / rate
        latenciesMs.reserveCapacity(total)
    }

    func start(timeout: TimeAmount) -> EventLoopFuture<Outcome> {
        loop.preconditionInEventLoop()
        let promise = loop.makePromise(of: Outcome.self)
        done = promise
        guard open > 0 else {
            finishCountingTheRestAsErrors()
            return promise.futureResult
        }
        startTime = .now() + .milliseconds(20)
        loop.scheduleTask(deadline: startTime) { self.tick() }
        loop.scheduleTask(deadline: startTime + timeout) { self.finishCountingTheRestAsErrors() }
        return promise.futureResult
    }

    private func due(_ index: Int) -> NIODeadline { startTime + .nanoseconds(Int64(Double(index) * intervalNanoseconds)) }

    private func tick() {
        guard done != nil else { return }
        let now = NIODeadline.now()
        while launched < total, due(launched) <= now {
            dispatch(due(launched))
            launched += 1
        }
        if launched < total {
            loop.scheduleTask(deadline: due(launched)) { self.tick() }
        }
    }

    private func dispatch(_ scheduled: NIODeadline) {
        if let connection = idle.popLast() {
            connection.send(scheduled)
        } else if waiting.count < LoadTarget.maxWaiting {
            waiting.append(scheduled)
        } else {
            record(nil)
        }
    }

    func connected(_ connection: LoadConnection) {
        open += 1
        idle.append(connection)
    }

    func answered(_ connection: LoadConnection, scheduled: NIODeadline, ok: Bool) {
        record(ok ? NIODeadline.now() - scheduled : nil)
        if let next = waiting.popFirst() { connection.send(next) } else { idle.append(connection) }
    }

    func closed(_ connection: LoadConnection, inFlight: NIODeadline?) {
        open -= 1
        idle.removeAll { $0 === connection }
        if inFlight != nil { record(nil) }
        if open == 0 { finishCountingTheRestAsErrors() }
    }

    /// A request handed to a connection that had closed meanwhile.
    func unsent() { record(nil) }

    private func record(_ latency: TimeAmount?) {
        if let latency { latenciesMs.append(Double(latency.nanoseconds) / 1e6) } else { errors += 1 }
        if latenciesMs.count + errors >= total { finish() }
    }

    /// Ends the run now: every request not answered by now (in flight, waiting or not yet due) failed.
    private func finishCountingTheRestAsErrors() {
        guard done != nil else { return }
        errors = total - latenciesMs.count
        finish()
    }

    private func finish() {
        guard let promise = done else { return }
        done = nil
        let wall = NIODeadline.now() - startTime
        promise.succeed(Outcome(latenciesMs: latenciesMs, errors: errors, wallSeconds: Double(wall.nanoseconds) / 1e9))
    }
}

/// One kept-alive connection of the load: sends a request when the schedule says, reports its answer.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let state: LoadState
    private var context: ChannelHandlerContext?
    private var inFlight: NIODeadline?
    private var status: UInt = 0

    init(state: LoadState) { self.state = state }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        state.connected(self)
        context.fireChannelActive()
    }

    func send(_ scheduled: NIODeadline) {
        guard let context else { return state.unsent() }
        inFlight = scheduled
        context.write(wrapOutboundOut(.head(state.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(state.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = head.status.code
        case .body: break
        case .end:
            guard let scheduled = inFlight else { return }
            inFlight = nil
            state.answered(self, scheduled: scheduled, ok: status == 200)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        let lost = inFlight
        inFlight = nil
        state.closed(self, inFlight: lost)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
