import Foundation
import LTMMauve
import LTMModels
import LTMTensor

extension BenchmarkReport {
  /// `bench --mauve`: MAUVE on random features shaped like the paper's (5000 + 5000 GPT-2-large features).
  public struct MauveTiming: Codable, Sendable {
    public var rowsPerSide: Int
    public var dims: Int
    public var keptDims: Int
    public var clusters: Int
    /// L2 normalisation + float64 PCA.
    public var pcaSeconds: Double
    /// k-means (all restarts), final assignment, histograms and curve.
    public var kmeansSeconds: Double
    public var totalSeconds: Double
    public var iterationsPerRestart: [Int]
    public var mauve: Double
  }

  /// `bench --decode`: incremental GPT-2-small-shape decoding with the KV cache at one batch size.
  public struct Decoding: Codable, Sendable {
    public var model: String
    public var batch: Int
    public var promptTokens: Int
    public var newTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Generated tokens (all rows) per second of decoding, sampling included; prefill excluded.
    public var tokensPerSecond: Double
  }
}

extension Benchmarks {
  /// Standard normal draws (Box–Muller on SplitMix64), for benchmark data only.
  static func gaussians(_ n: Int, _ rng: inout SplitMix64) -> [Double] {
    var out = [Double](repeating: 0, count: n)
    var i = 0
    while i < n {
      let u1 = (Double(rng.next() >> 11) + 1) * 0x1p-53, u2 = Double(rng.next() >> 11) * 0x1p-53
      let r = (-2 * Foundation.log(u1)).squareRoot()
      out[i] = r * Foundation.cos(2 * .pi * u2)
      if i + 1 < n { out[i + 1] = r * Foundation.sin(2 * .pi * u2) }
      i += 2
    }
    return out
  }

  /// Features with a spectrum like real embeddings: 50 cluster centres plus noise, coordinate j scaled by
  /// (1 + j)^−0.6, so the PCA keeps ~260 of 1280 dimensions (what mauve.md §2.3 reports for such data); Q's rows
  /// are shifted slightly so the score is not trivially 1.
  static func mauveFeatures(rows: Int, dims: Int, seed: UInt64, shift: Double) -> FeatureMatrix {
    let sd = (0..<dims).map { Foundation.pow(1 + Double($0), -0.6) }
    var centreRNG = SplitMix64(seed: 7)
    let centres = gaussians(50 * dims, &centreRNG).enumerated().map { $0.element * sd[$0.offset % dims] * 0.4 }
    var rng = SplitMix64(seed: seed)
    var values = gaussians(rows * dims, &rng)
    for r in 0..<rows {
      let c = Int(rng.next() % 50)
      for j in 0..<dims { values[r * dims + j] = centres[c * dims + j] + (values[r * dims + j] + shift) * sd[j] }
    }
    return FeatureMatrix(values: values, rows: rows, cols: dims)
  }

  /// MAUVE with the reference defaults (k = 500 for 5000 + 5000) on random features; data generation excluded.
  public static func mauve(rowsPerSide: Int = 5000, dims: Int = 1280) throws -> BenchmarkReport.MauveTiming {
    let p = mauveFeatures(rows: rowsPerSide, dims: dims, seed: 1, shift: 0)
    let q = mauveFeatures(rows: rowsPerSide, dims: dims, seed: 2, shift: 0.05)
    let t0 = DispatchTime.now().uptimeNanoseconds
    let prepared = try Mauve.prepare(p: p, q: q)
    let t1 = DispatchTime.now().uptimeNanoseconds
    let result = try Mauve.score(prepared, seed: prepared.settings.seed)
    let t2 = DispatchTime.now().uptimeNanoseconds
    return .init(
      rowsPerSide: rowsPerSide, dims: dims, keptDims: prepared.projection.dims, clusters: prepared.numBuckets,
      pcaSeconds: Double(t1 - t0) / 1e9, kmeansSeconds: Double(t2 - t1) / 1e9, totalSeconds: Double(t2 - t0) / 1e9,
      iterationsPerRestart: result.kmeansIterations, mauve: result.mauve)
  }

  /// Decoding throughput of a random-weight GPT-2-small shape with the KV cache: a `promptTokens` prefill, then
  /// `newTokens` steps of one token per row with multinomial sampling.
  public static func gpt2SmallDecoding(batch: Int, promptTokens: Int = 32, newTokens: Int = 64) throws -> BenchmarkReport.Decoding {
    let model = GPT2Model.randomGPT2Small(seed: 7)
    var rng = SplitMix64(seed: 5)
    let prompts = (0..<batch).map { _ in (0..<promptTokens).map { _ in Int32(rng.next() % 50257) } }
    var sampler = try TokenSampler(settings: SamplingSettings(), seeds: TokenSampler.rowSeeds(base: 1, count: batch))
    let vocab = model.config.vocabSize
    let cache = try model.makeCache(batch: batch, capacity: promptTokens + newTokens)
    let t0 = DispatchTime.now().uptimeNanoseconds
    var logits = try model.extend(cache, tokens: prompts)
    let t1 = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<newTokens {
      let next = logits.withUnsafeBufferPointer { lb in
        (0..<batch).map { [sampler.sample(lb.baseAddress! + $0 * vocab, vocab: vocab, row: $0)] }
      }
      logits = try model.extend(cache, tokens: next)
    }
    let t2 = DispatchTime.now().uptimeNanoseconds
    let decode = Double(t2 - t1) / 1e9
    return .init(
      model: "gpt2-small shape (768×12, 12 heads, vocab 50257), random weights", batch: batch, promptTokens: promptTokens,
      newTokens: newTokens, prefillSeconds: Double(t1 - t0) / 1e9, decodeSeconds: decode,
      tokensPerSecond: Double(batch * newTokens) / decode)
  }
}
