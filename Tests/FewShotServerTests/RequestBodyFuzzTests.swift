import FewShotCore
import Foundation
import Testing
@testable import FewShotServer

/// The proxy rewrites client bodies with its own scanner (`topLevelMembers`) after JSONDecoder has
/// checked them. Mutated bodies (bytes flipped, cut, duplicated, quotes and escapes inserted) must
/// give an OpenAI error or a rewrite that is still JSON when they were, never a trap: the body is
/// the one input any client controls. (JSONDecoder does not check strings it skips, so some invalid
/// bodies are forwarded as they came, for the upstream to refuse.)
@Suite struct RequestBodyFuzzTests {
    static let seeds: [String] = [
        #"{"model":"m","messages":[{"role":"user","content":"hi \"x\" \\ ]}"}],"stream":true,"n":1e2}"#,
        #" { "messages" : [ {"role":"system","content":[{"type":"text","text":"a"}]}, {"role":"user","content":"b"} ] , "model" : "x\"y" } "#,
        #"{"model":"m","prompt":["p1","p2"],"echo":false,"logprobs":null}"#,
        #"{"prompt":"one","model":"m","stop":["\n","]"],"max_tokens":5}"#,
    ]
    static let tokens: [[UInt8]] = [#"""#, "\\", "{", "}", "[", "]", ",", ":", " ", "\\u0065", "\u{00e9}", "\0", "1e999"].map { Array($0.utf8) }

    static func mutate(_ body: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = body
        for _ in 0...Int.random(in: 0...3, using: &rng) {
            let at = Int.random(in: 0...b.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: if at < b.count { b[at] = UInt8.random(in: 0...255, using: &rng) }
            case 1: b.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at)
            case 2: if at < b.count { b.remove(at: at) }
            case 3: b = Array(b[..<at])
            default: let end = Int.random(in: at...b.count, using: &rng); b.insert(contentsOf: b[at..<end], at: at)
            }
        }
        return b
    }

    static func isJSON(_ bytes: [UInt8]) -> Bool { (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil }

    @Test func mutatedBodiesAreRefusedOrRewrittenIntoJSON() {
        var rng = SplitMix64(seed: 20261130)
        let upstream = RequestBodyRewriter.jsonString("up")
        let system = RequestBodyRewriter.systemMessage("DP demonstrations")
        var rewritten = 0
        for i in 0..<40_000 {
            let body = Self.mutate(Array(Self.seeds[i % Self.seeds.count].utf8), &rng)
            if i % 2 == 0 {
                guard (try? RequestBodyRewriter.inspectChat(body)) != nil else { continue }
                guard let out = try? RequestBodyRewriter.spliceChat(body, upstreamModelJSON: upstream, systemMessage: system) else { continue }
                rewritten += 1
                #expect(!Self.isJSON(body) || Self.isJSON(out), "chat body \(String(decoding: body, as: UTF8.self)) -> \(String(decoding: out, as: UTF8.self))")
            } else {
                guard let (_, prompt) = try? RequestBodyRewriter.inspectCompletion(body) else { continue }
                guard let out = try? RequestBodyRewriter.spliceCompletion(body, upstreamModelJSON: upstream, prompt: prompt, prefix: "D: ") else { continue }
                rewritten += 1
                #expect(!Self.isJSON(body) || Self.isJSON(out), "completion body \(String(decoding: body, as: UTF8.self)) -> \(String(decoding: out, as: UTF8.self))")
            }
        }
        // The mutations leave enough bodies valid for the rewrite itself to be exercised (1,282 of
        // 40,000 with this seed).
        #expect(rewritten > 1_000, "\(rewritten)")
    }
}
