import Foundation
import LTMTensor

/// Settings of MDLM ancestral sampling (`diffusion.py::_sample` with `sampling.predictor: ddpm_cache`).
extension DiffusionSamplingOptions {
  /// t_min, the `eps` of `_sample`: timesteps = linspace(1, 1e-5, T + 1).
  public static let tMin = 1e-5

  /// torch.linspace(1, t_min, T + 1) in float64, element for element: the first half counts up from the start,
  /// the second half down from the end (ATen's `linspace` kernel).
  public func timesteps() -> [Double] {
    let n = steps + 1, start = 1.0, end = Self.tMin
    let step = (end - start) / Double(n - 1)
    let halfway = n / 2
    return (0..<n).map { i in i < halfway ? start + step * Double(i) : end - step * Double(n - i - 1) }
  }
}

/// The outcome of `MDLMModel.sample`.
public struct MDLMSamples: Sendable {
  /// Whole sequences (prefix + generated), no MASK left when noise removal is on.
  public var tokens: [[Int32]]
  /// DiT evaluations per sample, the final noise-removal forward included. A step whose input did not change reuses
  /// the previous evaluation (the `ddpm_cache` cache), and a sample with nothing left masked is not evaluated.
  public var networkCalls: [Int]
  /// x after each step, [T + 1][sample][position] (x_1 = the prior first); empty unless asked for.
  public var trajectory: [[[Int32]]]
}

/// U[0, 1) draws for one masked position at one step: (sample, step, position, buffer of `count` = vocab values).
/// Must be safe to call concurrently for different positions.
typealias MDLMUniformSource = @Sendable (_ sample: Int, _ step: Int, _ position: Int, _ out: UnsafeMutablePointer<Double>, _ count: Int) -> Void

extension MDLMModel {
  /// MDLM ancestral sampling with the `ddpm_cache` update (Sahoo et al. 2024, §3.3; doc §5.1):
  ///
  /// - prior x_1: every position MASK (position 0 too), except a prefix, fixed to the prompt tokens;
  /// - steps t → s = t − dt over timesteps = linspace(1, 1e-5, T + 1), dt = (1 − 1e-5)/T. With the mask probability
  ///   taken as t itself (`_ddpm_caching_update`), a masked position draws from the unnormalised
  ///   q(x_s) = p_θ(x0 | x_t)·(t − s) over real tokens and q[MASK] = s, i.e. it stays masked with probability s/t;
  ///   unmasked positions (the prefix included) carry over;
  /// - the draw is `_sample_categorical`'s exponential race, argmax_c q_c / E_c with E_c = −log(U_c + 1e-10) + 1e-10,
  ///   all in float64 (fp32 draws deflate entropy);
  /// - cache: if a sample's tokens did not change and the model is not time-conditioned, p_θ(x0 | x_t) is the same
  ///   function of the same input, so the DiT is not called again. What is cached is the final hidden state; the
  ///   output head is evaluated, in tiles, only on the still-masked rows when they are drawn;
  /// - noise removal: x = argmax p_θ(x0 | x, σ(t_min)) on the positions still masked (SUBS carries the others over).
  ///
  /// Sample n draws from its own stream, seeded `seeds[n]` (use `TokenSampler.rowSeeds`), keyed further by step
  /// and position, so its tokens do not depend on how samples are batched. All samples go through the DiT as one
  /// batch (they share `length`).
  public func sample(prefixes: [[Int32]], length: Int, settings: DiffusionSamplingOptions, seeds: [UInt64], recordTrajectory: Bool = false) throws -> MDLMSamples {
    guard seeds.count == prefixes.count else { throw ModelError.badInput("\(seeds.count) seeds for \(prefixes.count) samples") }
    return try sample(prefixes: prefixes, length: length, settings: settings, recordTrajectory: recordTrajectory) { n, step, position, out, count in
      var g = Self.drawStream(seed: seeds[n], step: step, position: position)
      for c in 0..<count { out[c] = g.nextUnit() }
    }
  }

  /// The SplitMix64 stream of one (sample seed, step, position): two rounds of SplitMix64 hashing.
  static func drawStream(seed: UInt64, step: Int, position: Int) -> SplitMix64 {
    var a = SplitMix64(seed: seed ^ (UInt64(step) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
    var b = SplitMix64(seed: a.next() ^ (UInt64(position) &+ 1) &* 0xD1B5_4A32_D192_ED03)
    return SplitMix64(seed: b.next())
  }

  /// The sampler with its uniforms supplied by `uniforms` (the seam the parity test injects the reference's U through).
  func sample(prefixes: [[Int32]], length: Int, settings: DiffusionSamplingOptions, recordTrajectory: Bool, uniforms: MDLMUniformSource) throws -> MDLMSamples {
    try settings.validate()
    guard !prefixes.isEmpty else { return MDLMSamples(tokens: [], networkCalls: [], trajectory: []) }
    guard length >= 1, length <= config.modelLength else {
      throw ModelError.badInput("sequence length \(length) is outside 1...\(config.modelLength) (the model's length)")
    }
    let mask = config.maskIndex
    for (n, prefix) in prefixes.enumerated() {
      guard prefix.count <= length else { throw ModelError.badInput("prefix \(n) has \(prefix.count) tokens, more than the length \(length)") }
      if let bad = prefix.first(where: { $0 < 0 || $0 >= mask }) {
        throw ModelError.badInput("prefix \(n) holds token \(bad), outside this MDLM's real tokens 0..<\(mask) (vocab \(config.vocabSize), MASK \(mask))")
      }
    }
    var x = prefixes.map { $0 + [Int32](repeating: mask, count: length - $0.count) }
    var hidden = [FloatBuffer?](repeating: nil, count: x.count)
    var calls = [Int](repeating: 0, count: x.count)
    var trajectory = recordTrajectory ? [x] : []
    let times = settings.timesteps()
    let dt = (1 - DiffusionSamplingOptions.tMin) / Double(settings.steps)

    /// Evaluates the DiT on the samples in `which` (one batch) at noise level σ(t).
    func evaluate(_ which: [Int], t: Double) throws {
      guard !which.isEmpty else { return }
      let sigma = -log1p(-(1 - MDLMBoundOptions.samplingEps) * t)  // LogLinearNoise σ(t); read only if time-conditioned
      let (h, _) = try hiddenStates(which.map { x[$0] }, sigmas: [Double](repeating: sigma, count: which.count))
      let rowFloats = length * config.hiddenDim
      for (j, n) in which.enumerated() {
        let buffer = FloatBuffer(count: rowFloats)
        buffer.pointer.update(from: h.pointer + j * rowFloats, count: rowFloats)
        hidden[n] = buffer
        calls[n] += 1
      }
    }

    for step in 0..<settings.steps {
      let t = times[step], s = t - dt
      let live = x.indices.filter { x[$0].contains(mask) }
      try evaluate(live.filter { hidden[$0] == nil }, t: t)
      let rows = live.flatMap { n in x[n].indices.filter { x[n][$0] == mask }.map { (sample: n, position: $0) } }
      let drawn = drawTokens(rows: rows, hidden: hidden, length: length) { n, position, logits, lse in
        let v = config.vocabSize
        var u = [Double](repeating: 0, count: v)
        return u.withUnsafeMutableBufferPointer { ub in
          uniforms(n, step, position, ub.baseAddress!, v)
          return Self.exponentialRace(logits: logits, lse: lse, real: v - 1, t: t, s: s, uniforms: ub.baseAddress!)
        }
      }
      var changed = [Bool](repeating: false, count: x.count)
      for (r, token) in zip(rows, drawn) where token != mask {
        x[r.sample][r.position] = token
        changed[r.sample] = true
      }
      for n in x.indices where changed[n] || config.timeConditioning { hidden[n] = nil }
      if recordTrajectory { trajectory.append(x) }
    }

    if settings.noiseRemoval {
      // `forward(x, σ(t_min)).argmax(-1)`: SUBS keeps unmasked tokens; masked ones take the most probable real token.
      let live = x.indices.filter { x[$0].contains(mask) }
      try evaluate(live.filter { hidden[$0] == nil || config.timeConditioning }, t: times[settings.steps])
      let rows = live.flatMap { n in x[n].indices.filter { x[n][$0] == mask }.map { (sample: n, position: $0) } }
      let drawn = drawTokens(rows: rows, hidden: hidden, length: length) { _, _, logits, _ in
        var best = 0
        for c in 1..<Int(mask) where logits[c] > logits[best] { best = c }
        return Int32(best)
      }
      for (r, token) in zip(rows, drawn) { x[r.sample][r.position] = token }
    }
    return MDLMSamples(tokens: x, networkCalls: calls, trajectory: trajectory)
  }

  /// One masked position's step t → s (`_ddpm_caching_update` + `_sample_categorical`), in float64: the weights
  /// q_c = p_θ(c)·(t − s) = exp(logits[c] − lse)·(t − s) for the real tokens c < `real` and q[MASK] = s (MASK is
  /// the last id, `real`), then argmax_c q_c / E_c with E_c = −log(U_c + 1e-10) + 1e-10, the lowest id on ties
  /// (torch.argmax). `uniforms` holds U_0 … U_real.
  static func exponentialRace(logits: UnsafePointer<Float>, lse: Double, real: Int, t: Double, s: Double, uniforms u: UnsafePointer<Double>) -> Int32 {
    var best = real, bestScore = s / (1e-10 - log(u[real] + 1e-10))
    for c in 0..<real {
      let q = exp(Double(logits[c]) - lse) * (t - s)
      // E_c ≥ 1 − U_c (−log x ≥ 1 − x), so q/E_c ≤ q/(1 − U_c): when even that bound is below the leader (with a
      // margin far above rounding), c can neither win nor tie, and its logarithm is skipped: the same draw,
      // 2.6× faster at vocab 50258 (0.57 → 0.22 ms per row).
      if q < bestScore * (1 - u[c]) * (1 - 1e-12) { continue }
      let score = q / (1e-10 - log(u[c] + 1e-10))
      if score > bestScore || (score == bestScore && c < best) {
        best = c
        bestScore = score
      }
    }
    return Int32(best)
  }

  /// Runs the output head on the hidden rows of `rows` (`forEachHeadRow`) and calls `choose(sample, position,
  /// logits + bias, lse)` per row, rows spread over threads. `lse` is the float64 log-sum-exp over the real tokens (the
  /// mask logit is −∞ under SUBS), so log p_c = logits[c] − lse.
  func drawTokens(
    rows: [(sample: Int, position: Int)], hidden: [FloatBuffer?], length: Int,
    choose: (Int, Int, UnsafePointer<Float>, Double) -> Int32
  ) -> [Int32] {
    let d = config.hiddenDim, real = Int(config.maskIndex)
    var out = [Int32](repeating: 0, count: rows.count)
    out.withUnsafeMutableBufferPointer { ob in
      let op = ob.baseAddress!
      forEachHeadRow(count: rows.count, columns: real, minimumChunk: 1, hiddenRow: { hidden[rows[$0].sample]!.pointer + rows[$0].position * d }) { j, row in
        let lse = TiedOutputHead.logSumExp(row: row, count: real)
        op[j] = choose(rows[j].sample, rows[j].position, row, lse)
      }
    }
    return out
  }
}
