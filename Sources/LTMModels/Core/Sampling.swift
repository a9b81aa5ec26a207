import Foundation
import LTMTensor

/// How the next token is chosen from a row of logits. Greedy takes the argmax (the lowest id on ties, as
/// torch.argmax); multinomial draws from softmax(logits / temperature), optionally restricted first to the top-k
/// logits and then to the nucleus (top-p), in the order Hugging Face's logits warpers apply them.
///
/// The distribution and the draw are float64 (fp32 Gumbel/categorical sampling biases low-probability tokens;
/// mauve.md §7.3, ReMDM).
public struct SamplingSettings: Sendable, Equatable, Codable {
  public enum Method: String, Sendable, Codable, CaseIterable { case greedy, multinomial }
  public var method: Method
  public var temperature: Double
  /// Keep the k largest logits (ties with the k-th kept, as HF's TopKLogitsWarper); nil = off.
  public var topK: Int?
  /// Keep the smallest most-probable set with mass ≥ p (a token is kept while the mass strictly ahead of it is < p,
  /// as HF's TopPLogitsWarper); nil = off.
  public var topP: Double?

  enum CodingKeys: String, CodingKey { case method, temperature, topK = "top_k", topP = "top_p" }

  public init(method: Method = .multinomial, temperature: Double = 1, topK: Int? = nil, topP: Double? = nil) {
    self.method = method
    self.temperature = temperature
    self.topK = topK
    self.topP = topP
  }

  public static let greedy = SamplingSettings(method: .greedy)

  public func validate() throws {
    guard temperature > 0, temperature.isFinite else { throw ModelError.badInput("temperature must be positive (got \(temperature))") }
    if let k = topK, k < 1 { throw ModelError.badInput("top-k must be at least 1 (got \(k))") }
    if let p = topP, !(p > 0 && p <= 1) { throw ModelError.badInput("top-p must lie in (0, 1] (got \(p))") }
  }

  /// The distribution a multinomial draw uses, float64 over the whole vocabulary (masked tokens exactly 0):
  /// zᵢ = logitᵢ/T, πᵢ ∝ exp(zᵢ − max z) over the tokens that survive top-k, renormalised; then top-p on π.
  public func distribution(_ logits: UnsafePointer<Float>, count n: Int) -> [Double] {
    var z = [Double](repeating: 0, count: n)
    var m = -Double.infinity
    for i in 0..<n {
      z[i] = Double(logits[i]) / temperature
      m = Swift.max(m, z[i])
    }
    var threshold = -Double.infinity
    if let k = topK, k < n {
      threshold = Self.kthLargest(z, k)
    }
    var probs = [Double](repeating: 0, count: n)
    var total = 0.0
    for i in 0..<n where z[i] >= threshold {
      probs[i] = Foundation.exp(z[i] - m)
      total += probs[i]
    }
    for i in 0..<n { probs[i] /= total }
    if let p = topP, p < 1 {
      // Only tokens with π ≥ τ = (1 − p)/n can be in the nucleus: those below τ hold less than 1 − p in total, so the
      // ones at or above it hold more than p and the walk ends among them. For a peaked distribution this leaves a
      // handful of candidates to sort instead of the whole vocabulary.
      let tau = (1 - p) / Double(n)
      let candidates = (0..<n).filter { probs[$0] > 0 && probs[$0] >= tau }
        .sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
      var ahead = 0.0
      var kept = 0
      for i in candidates {
        if ahead >= p { break }
        ahead += probs[i]
        kept += 1
      }
      for i in 0..<n where probs[i] < tau { probs[i] = 0 }
      for i in candidates[kept...] { probs[i] = 0 }
      let sum = candidates[..<kept].reduce(0.0) { $0 + probs[$1] }
      for i in candidates[..<kept] { probs[i] /= sum }
    }
    return probs
  }

  /// The k-th largest value (1 ≤ k ≤ count) by quickselect on a copy, three-way partitioned so ties terminate.
  static func kthLargest(_ values: [Double], _ k: Int) -> Double {
    var v = values
    var lo = 0, hi = v.count
    let target = k - 1  // position in descending order
    while hi - lo > 32 {
      let a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1]
      let pivot = Swift.max(Swift.min(a, b), Swift.min(Swift.max(a, b), c))  // median of three
      let greaterEnd = v[lo..<hi].partition { !($0 > pivot) }
      let equalEnd = v[greaterEnd..<hi].partition { $0 != pivot }
      if target < greaterEnd {
        hi = greaterEnd
      } else if target < equalEnd {
        return pivot
      } else {
        lo = equalEnd
      }
    }
    return v[lo..<hi].sorted(by: >)[target - lo]
  }
}

/// Draws tokens for a batch of rows, each row with its own seeded SplitMix64 stream, so a row's samples do not
/// depend on which other rows share its batch.
public struct TokenSampler: Sendable {
  public let settings: SamplingSettings
  var generators: [SplitMix64]

  /// One stream per row; `seeds[r]` seeds row r (see `rowSeeds` for a standard derivation).
  public init(settings: SamplingSettings, seeds: [UInt64]) throws {
    try settings.validate()
    self.settings = settings
    generators = seeds.map { SplitMix64(seed: $0) }
  }

  /// Seeds for samples first..<first+count of a run seeded `base`: the SplitMix64 output for (base, sample index),
  /// so sample i gets the same stream however the samples are batched.
  public static func rowSeeds(base: UInt64, first: Int = 0, count: Int) -> [UInt64] {
    (first..<(first + count)).map { i in
      var g = SplitMix64(seed: base ^ (UInt64(i) &* 0xD1B5_4A32_D192_ED03))
      return g.next()
    }
  }

  /// Uniform in [0, 1) with 53 random bits.
  static func uniform(_ g: inout SplitMix64) -> Double { Double(g.next() >> 11) * 0x1p-53 }

  /// The next token of `row` from its logits [vocab].
  public mutating func sample(_ logits: UnsafePointer<Float>, vocab n: Int, row: Int) -> Int32 {
    if settings.method == .greedy {
      var best = 0
      for i in 1..<n where logits[i] > logits[best] { best = i }
      return Int32(best)
    }
    let probs = settings.distribution(logits, count: n)
    // Inverse-CDF draw in float64: the first token whose running mass exceeds u·Σπ (Σπ = 1 up to rounding).
    let total = probs.reduce(0, +)
    let target = Self.uniform(&generators[row]) * total
    var running = 0.0
    var last = 0
    for i in 0..<n where probs[i] > 0 {
      running += probs[i]
      last = i
      if running > target { return Int32(i) }
    }
    return Int32(last)
  }
}

extension TokenSampler {
  /// The sampling loop of every KV-cached decoder (GPT-2, LTM): sample one token per live row from `firstLogits`
  /// ([rows, vocab], the prompts' last positions), feed the sampled tokens back through `extend` (which returns the
  /// next [rows, vocab] logits; rows that stopped are passed as empty), `newTokens` times. A row that emits
  /// `stopToken` keeps it and stops. Returns the generated tokens per row.
  mutating func decode(
    rows: Int, vocab: Int, newTokens: Int, stopToken: Int32?, firstLogits: [Float],
    extend: ([[Int32]]) throws -> [Float]
  ) rethrows -> [[Int32]] {
    try decode(rows: rows, vocab: vocab, newTokens: newTokens, stopTokens: Set(stopToken.map { [$0] } ?? []),
               firstLogits: firstLogits, extend: extend)
  }

  /// `decode` with any number of stop tokens (few-shot tasks stop on several ids).
  mutating func decode(
    rows: Int, vocab: Int, newTokens: Int, stopTokens: Set<Int32>, firstLogits: [Float],
    extend: ([[Int32]]) throws -> [Float]
  ) rethrows -> [[Int32]] {
    var outputs = [[Int32]](repeating: [], count: rows)
    var done = [Bool](repeating: false, count: rows)
    var logits = firstLogits
    for step in 0..<newTokens {
      var next = [[Int32]](repeating: [], count: rows)
      logits.withUnsafeBufferPointer { lb in
        for r in 0..<rows where !done[r] {
          let t = sample(lb.baseAddress! + r * vocab, vocab: vocab, row: r)
          outputs[r].append(t)
          if stopTokens.contains(t) { done[r] = true } else { next[r] = [t] }
        }
      }
      if step == newTokens - 1 || next.allSatisfy(\.isEmpty) { break }
      logits = try extend(next)
    }
    return outputs
  }
}
