/// Draws M disjoint private batches from one label's examples.
///
/// Each example's batch is chosen independently of the other examples, so adding or removing one
/// example changes exactly one batch (what the sensitivity sqrt(2)/M relies on):
/// - Poisson: each example joins the sample with probability q (the plan's min(1, M*N/|D_y|), |D_y|
///   being the released DP count, so q never depends on the exact count), then a uniformly
///   random batch. Batch sizes vary around N; the accountant is told `PoissonSampled(q, ...)`.
/// - without replacement: exactly M*N examples, shuffled into M batches of exactly N; the accountant is
///   told `SampledWithoutReplacement(|D_y|, M*N, ...)`.
public struct PrivateBatchSampler: Sendable {
    public var batches: Int
    public var batchSize: Int
    public var scheme: SubsampleScheme
    /// The Poisson sampling rate q, as the accountant is told it.
    public var samplingRate: Double

    public init(batches: Int, batchSize: Int, scheme: SubsampleScheme, samplingRate: Double) {
        self.batches = batches
        self.batchSize = batchSize
        self.scheme = scheme
        self.samplingRate = samplingRate
    }

    public func draw(from examples: [LabeledExample], noise: NoiseSource) -> [[LabeledExample]] {
        var result = Array(repeating: [LabeledExample](), count: batches)
        switch scheme {
        case .poisson:
            for example in examples where noise.bernoulli(samplingRate) {
                result[noise.uniformInt(below: batches)].append(example)
            }
        case .withoutReplacement:
            var pool = examples
            let take = min(batches * batchSize, pool.count)
            for i in 0..<take {
                pool.swapAt(i, i + noise.uniformInt(below: pool.count - i))
            }
            for i in 0..<take { result[i % batches].append(pool[i]) }
        }
        return result
    }
}
