import Foundation
import Testing
@testable import DPAccounting

@Suite("Numerics")
struct NumericsTests {
    @Test("FFT convolution equals direct convolution")
    func convolution() {
        var generator = SystemRandomNumberGenerator()
        let a = (0..<37).map { _ in Double.random(in: 0...1, using: &generator) }
        let b = (0..<120).map { _ in Double.random(in: 0...1, using: &generator) }
        var direct = [Double](repeating: 0, count: a.count + b.count - 1)
        for i in a.indices { for j in b.indices { direct[i + j] += a[i] * b[j] } }
        let fast = RealConvolution.convolve(a, b)
        #expect(fast.count == direct.count)
        #expect(zip(fast, direct).allSatisfy { abs($0 - $1) < 1e-10 })
    }

    @Test("FFT self-convolution of two sequences at once equals repeated direct convolution")
    func selfConvolution() {
        let a = [0.2, 0.5, 0.3], b = [0.6, 0.4]
        func power(_ x: [Double], _ n: Int) -> [Double] {
            var out = [1.0]
            for _ in 0..<n {
                var next = [Double](repeating: 0, count: out.count + x.count - 1)
                for i in out.indices { for j in x.indices { next[i + j] += out[i] * x[j] } }
                out = next
            }
            return out
        }
        let (ra, rb) = RealConvolution.selfConvolve(a, b, exponent: 5, size: 16)
        let ea = power(a, 5), eb = power(b, 5)
        #expect(ea.indices.allSatisfy { abs(ra[$0] - ea[$0]) < 1e-12 })
        #expect(eb.indices.allSatisfy { abs(rb[$0] - eb[$0]) < 1e-12 })
    }

    @Test("normal log-CDF is accurate deep in the tail and continuous across branches")
    func logCDF() {
        for x in [-30.0, -10, -1, 0, 1, 5, 7] {
            #expect(abs(StandardNormal.logCDF(x) - log(StandardNormal.cdf(x))) < 1e-10 * max(1, abs(log(StandardNormal.cdf(x)))))
        }
        let left = StandardNormal.logCDF(-35.000001), right = StandardNormal.logCDF(-34.999999)
        #expect(abs(left - right) < 1e-3)
        #expect(StandardNormal.logCDF(-1000).isFinite)
        #expect(StandardNormal.logCDF(-1000) < -499_000)
        #expect(StandardNormal.logCDF(-.infinity) == -.infinity)
    }

    @Test("normal quantile inverts the CDF, including at 1e-22")
    func quantile() {
        for p in [1e-22, 1e-10, 0.01, 0.3, 0.5, 0.9, 0.999] {
            let x = StandardNormal.quantile(p)
            #expect(abs(StandardNormal.logCDF(x) - log(p)) < 1e-9)
        }
    }

    @Test("pure-DP RDP bound never exceeds epsilon or the zCDP bound and approaches epsilon")
    func pureRDP() {
        for epsilon in [0.01, 0.5, 2.0, 10.0] {
            for order in RDPAccountant.defaultOrders {
                let r = RDPPure.rdp(epsilon: epsilon, order: order)
                #expect(r.isFinite && r >= 0)
                #expect(r <= epsilon * (1 + 1e-12))
                #expect(r <= order * epsilon * epsilon / 2 * (1 + 1e-9))
            }
            #expect(abs(RDPPure.rdp(epsilon: epsilon, order: 1e6) - epsilon) < 1e-3 * epsilon + 1e-5)
        }
        #expect(RDPPure.amplified(epsilon: 2, q: 1) == 2)
        #expect(RDPPure.amplified(epsilon: 2, q: 0.01) < 0.07)
    }

    @Test("pure-DP composition via RDP is at most basic composition")
    func pureComposition() throws {
        let e = try RDPAccountant().epsilon(for: .selfComposed(event: .pureDP(epsilon: 0.1), count: 100), delta: 1e-5)
        #expect(e < 10)
        #expect(e > 0)
        let sampled = try RDPAccountant().epsilon(for: .selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .pureDP(epsilon: 0.1)), count: 100), delta: 1e-5)
        #expect(sampled < e)
    }

    @Test("extreme settings give non-negative epsilons (possibly infinite), never NaN")
    func noNaN() throws {
        let events: [PrivacyEvent] = [
            .selfComposed(event: .poissonSampled(samplingRate: 0.9, event: .gaussian(noiseMultiplier: 0.05)), count: 1000),
            .selfComposed(event: .poissonSampled(samplingRate: 1e-6, event: .gaussian(noiseMultiplier: 50)), count: 1),
            .selfComposed(event: .sampledWithoutReplacement(sourceSize: 10, sampleSize: 9, event: .gaussian(noiseMultiplier: 0.1)), count: 100),
            .selfComposed(event: .gaussian(noiseMultiplier: 0.01), count: 1000),
            .selfComposed(event: .pureDP(epsilon: 50), count: 1000),
        ]
        for event in events {
            let rdp = try RDPAccountant().epsilon(for: event, delta: 1e-5)
            #expect(!rdp.isNaN)
            #expect(rdp >= 0)
        }
        let pld = try PLDAccountant().epsilon(for: .selfComposed(event: .gaussian(noiseMultiplier: 0.01), count: 1000), delta: 1e-5)
        #expect(!pld.isNaN && pld > 0)
    }

    @Test("default RDP orders are dp_accounting's")
    func orders() {
        let o = RDPAccountant.defaultOrders
        #expect(o.count == 99 + 53 + 4)
        #expect(o.first == 1.1)
        #expect(o.contains(10.9) && o.contains(11) && o.contains(63) && !o.contains(64))
        #expect(Array(o.suffix(4)) == [128, 256, 512, 1024])
    }
}
