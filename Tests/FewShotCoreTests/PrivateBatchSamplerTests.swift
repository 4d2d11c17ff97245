import Testing
import FewShotCore

@Suite struct PrivateBatchSamplerTests {
    let data = examples("pos", 40)

    @Test func withoutReplacementGivesMDisjointBatchesOfExactlyN() {
        let sampler = PrivateBatchSampler(batches: 5, batchSize: 3, scheme: .withoutReplacement, samplingRate: 1)
        let batches = sampler.draw(from: data, noise: .seeded(1))
        #expect(batches.count == 5)
        #expect(batches.allSatisfy { $0.count == 3 })
        let all = batches.flatMap { $0 }.map(\.text)
        #expect(Set(all).count == all.count)
    }

    @Test func poissonBatchesAreDisjointWithExpectedSizeMN() {
        let sampler = PrivateBatchSampler(batches: 4, batchSize: 2, scheme: .poisson, samplingRate: 0.2)
        let noise = NoiseSource.seeded(2)
        var total = 0
        let rounds = 2000
        for _ in 0..<rounds {
            let batches = sampler.draw(from: data, noise: noise)
            #expect(batches.count == 4)
            let all = batches.flatMap { $0 }.map(\.text)
            #expect(Set(all).count == all.count)
            total += all.count
        }
        // E[size] = q * |D| = 8; the mean of 2000 draws has standard error about 0.06.
        let mean = Double(total) / Double(rounds)
        #expect(abs(mean - 8) < 0.3, "mean sample size \(mean)")
    }

    @Test func poissonUsesTheGivenRateNotTheDataSize() {
        // q comes from the released DP count, so it must not be recomputed from the data: with
        // q = 0.5 on 40 examples (M*N = 8 would give q = 0.2) the mean sample is 20, not 8.
        let sampler = PrivateBatchSampler(batches: 4, batchSize: 2, scheme: .poisson, samplingRate: 0.5)
        let noise = NoiseSource.seeded(4)
        let rounds = 1000
        let total = (0..<rounds).map { _ in sampler.draw(from: data, noise: noise).map(\.count).reduce(0, +) }.reduce(0, +)
        let mean = Double(total) / Double(rounds)
        #expect(abs(mean - 20) < 0.6, "mean sample size \(mean)")
    }

    @Test func eachExampleLandsInAUniformlyRandomBatch() {
        // Example 0's batch, over many draws, is uniform over the M batches, whatever else is present.
        let sampler = PrivateBatchSampler(batches: 4, batchSize: 10, scheme: .poisson, samplingRate: 1)
        let noise = NoiseSource.seeded(3)
        for data in [examples("pos", 40), examples("pos", 41)] {
            var counts = [0, 0, 0, 0]
            for _ in 0..<4000 {
                for (b, batch) in sampler.draw(from: data, noise: noise).enumerated() where batch.contains(data[0]) { counts[b] += 1 }
            }
            let total = Double(counts.reduce(0, +))
            #expect(total > 3500)  // q = 1 here: every example is in some batch
            #expect(counts.allSatisfy { abs(Double($0) / total - 0.25) < 0.03 }, "\(counts)")
        }
    }
}
