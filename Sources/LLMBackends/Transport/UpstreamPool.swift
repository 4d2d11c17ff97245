import Foundation

/// A set of interchangeable upstream base URLs. Each request is given the upstream with the fewest
/// requests in flight (ties go round-robin, and a retry avoids the upstream that just failed when
/// another is equally free). Counts stay exact as long as every `acquire` is paired with one `release`,
/// which `HTTPTransport` does for every attempt.
public actor UpstreamPool {
    /// The base URLs, normalised without a trailing slash.
    public nonisolated let upstreams: [String]
    private var inFlight: [Int]
    private var nextTieBreak = 0

    public init(_ upstreams: [String]) throws {
        guard !upstreams.isEmpty else { throw BackendError.invalidRequest(reason: "no upstream URL given") }
        self.upstreams = try upstreams.map(Self.normalised)
        self.inFlight = Array(repeating: 0, count: upstreams.count)
    }

    /// Index of the chosen upstream, counted as in flight until `release`.
    public func acquire(avoiding avoided: Int? = nil) -> Int {
        let n = inFlight.count
        var best = -1
        for step in 0..<n {
            let i = (nextTieBreak + step) % n
            if best < 0 { best = i; continue }
            if inFlight[i] < inFlight[best] || (inFlight[i] == inFlight[best] && best == avoided && i != avoided) {
                best = i
            }
        }
        nextTieBreak = (best + 1) % n
        inFlight[best] += 1
        return best
    }

    public func release(_ index: Int) {
        inFlight[index] -= 1
    }

    /// Requests currently in flight per upstream, in the order of `upstreams`.
    public func outstanding() -> [Int] { inFlight }

    static func normalised(_ raw: String) throws -> String {
        var s = raw.trimmingCharacters(in: .whitespaces)
        while s.hasSuffix("/") { s.removeLast() }
        guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else {
            throw BackendError.invalidRequest(reason: "upstream URL '\(raw)' is not an http(s) URL with a host")
        }
        return s
    }
}
