import Foundation
import LTMTensor

/// The reverse-step rules of the authors' `sampling.py`.
public enum SEDDPredictor: String, Sendable, CaseIterable {
  /// `AnalyticPredictor`: Tweedie τ-leaping with the staggered score.
  case analytic
  /// `EulerPredictor`: one Euler step of the reverse rate.
  case euler
}

/// The outcome of `SEDDModel.sample`.
public struct SEDDSamples: Sendable {
  /// Whole sequences (prefix + generated).
  public var tokens: [[Int32]]
  /// DDiT evaluations (a step with nothing left absorbed needs none).
  public var networkCalls: Int
  /// x after each predictor step, [steps][sample][position]; empty unless asked for.
  public var trajectory: [[[Int32]]]
}

/// U[0, 1) draws for one categorical draw: (call, sample, position, buffer of `count` values, count).
typealias SEDDUniformSource = (_ call: Int, _ sample: Int, _ position: Int, _ out: UnsafeMutablePointer<Double>, _ count: Int) -> Void

extension SEDDModel {
  /// The authors' `get_pc_sampler` (`sampling.py`), prefix-conditioned as `run_sample_cond.py` does it (`proj_fun`
  /// fixes the prefix positions): x starts absorbed, t runs over linspace(1, 1e-5, T + 1) in fp32 with
  /// Δt = (1 − 1e-5)/T, each step is the chosen predictor, and `noiseRemoval` ends with the `Denoiser`. Every
  /// categorical draw is the Exp(1) race argmax_y p_y / (1e-10 − log(u_y + 1e-10)) of `catsample.sample_categorical`,
  /// computed in float64 with u from SplitMix64 keyed by (seeds[sample], call, position).
  public func sample(
    prefixes: [[Int32]], length: Int, settings: DiffusionSamplingOptions, predictor: SEDDPredictor, seeds: [UInt64],
    recordTrajectory: Bool = false
  ) throws -> SEDDSamples {
    guard seeds.count == prefixes.count else { throw ModelError.badInput("\(seeds.count) seeds for \(prefixes.count) samples") }
    return try sample(
      prefixes: prefixes, length: length, steps: settings.steps, predictor: predictor, denoise: settings.noiseRemoval,
      recordTrajectory: recordTrajectory
    ) { call, n, position, out, count in
      var g = SplitMix64(seed: seeds[n] ^ (UInt64(call) << 40) ^ UInt64(position) &* 0x9E37_79B9_7F4A_7C15)
      for y in 0..<count { out[y] = g.nextUnit() }
    }
  }

  func sample(
    prefixes: [[Int32]], length: Int, steps: Int, predictor: SEDDPredictor, denoise: Bool, recordTrajectory: Bool,
    uniforms: SEDDUniformSource
  ) throws -> SEDDSamples {
    guard steps >= 1 else { throw ModelError.badInput("--steps must be at least 1, got \(steps)") }
    guard length >= 1, length <= config.model.length else {
      throw ModelError.badInput("sample length \(length) is outside 1...\(config.model.length) (the model's length)")
    }
    let mask = config.maskIndex
    for p in prefixes {
      guard p.count <= length else { throw ModelError.badInput("a prefix of \(p.count) tokens does not fit in \(length)") }
      if let bad = p.first(where: { $0 < 0 || $0 >= mask }) { throw ModelError.badInput("prefix token \(bad) is outside the data vocabulary (0..<\(mask))") }
    }
    var x = prefixes.map { $0 + [Int32](repeating: mask, count: length - $0.count) }
    let eps = 1e-5, dt = (1 - eps) / Double(steps)
    let times = Self.linspaceFloat32(from: 1, to: eps, count: steps + 1)
    var calls = 0, trajectory: [[[Int32]]] = []
    for i in 0..<steps {
      let t = times[i]
      switch predictor {
      case .analytic:
        // dσ = σ̄(t) − σ̄(t − Δt), the fp32 difference of times as torch forms it.
        let sigma = noise.total(t), next = noise.total(Double(Float(t) - Float(dt)))
        calls += try draw(&x, call: i, sigma: sigma, uniforms: uniforms) { score, sum, probs in
          Self.analyticProbabilities(score: score, sum: sum, dsigma: sigma - next, probs: probs)
        }
      case .euler:
        let sigma = noise.total(t), step = dt * noise.rate(t)
        calls += try draw(&x, call: i, sigma: sigma, uniforms: uniforms) { score, sum, probs in
          // one_hot(MASK) + Δt·dσ·reverse_rate: Δt·dσ·s_y off the absorbing state, 1 − Δt·dσ·Σ s_y on it.
          let v = score.count
          for y in 0..<(v - 1) { probs[y] = step * score[y] }
          probs[v - 1] = 1 - step * sum
        }
      }
      if recordTrajectory { trajectory.append(x) }
    }
    if denoise {
      // The Denoiser at t = ε: staggered score and transition with dσ = σ̄(ε), the absorbing column dropped.
      let sigma = noise.total(times[steps])
      calls += try draw(&x, call: steps, sigma: sigma, uniforms: uniforms, columns: config.vocabSize - 1) { score, _, probs in
        let grow = exp(sigma), leave = -expm1(-sigma)
        for y in 0..<(score.count - 1) { probs[y] = score[y] * grow * leave }
      }
    }
    return SEDDSamples(tokens: x, networkCalls: calls, trajectory: trajectory)
  }

  /// Analytic step on an absorbed position (`staggered_score` × `transp_transition`, both at dσ): with s the score
  /// (s_MASK = 1 at the current token) and S = Σ_{y≠MASK} s_y, p_y = s_y·e^{dσ}·(1 − e^{−dσ}) off the absorbing state
  /// and p_MASK = e^{dσ} + (1 − e^{dσ})·(S + 1).
  static func analyticProbabilities(score: UnsafeBufferPointer<Double>, sum: Double, dsigma: Double, probs: UnsafeMutablePointer<Double>) {
    let v = score.count, grow = exp(dsigma), leave = -expm1(-dsigma)
    for y in 0..<(v - 1) { probs[y] = score[y] * grow * leave }
    probs[v - 1] = grow + (1 - grow) * (sum + 1)
  }

  /// One categorical draw for every absorbed position of `x` (the others keep their token: their probability vector
  /// is one-hot at it under every rule): the scores s_y = exp(log s_θ(x, σ)) of the row (y < V − 1) and their sum
  /// go to `fill`, which writes the `columns` probabilities; the race picks the token. Returns the network calls (0 or 1).
  func draw(
    _ x: inout [[Int32]], call: Int, sigma: Double, uniforms: SEDDUniformSource, columns: Int? = nil,
    fill: (_ score: UnsafeBufferPointer<Double>, _ sum: Double, _ probs: UnsafeMutablePointer<Double>) -> Void
  ) throws -> Int {
    let mask = config.maskIndex, v = config.vocabSize, width = columns ?? v, length = x[0].count
    let rows = x.indices.flatMap { b in x[b].indices.filter { x[b][$0] == mask }.map { (block: b, position: $0) } }
    guard !rows.isEmpty else { return 0 }
    let (hidden, _) = try network.hiddenStates(x, sigmas: [Double](repeating: sigma, count: x.count))
    let shift = scoreShift(sigma: sigma)
    var chosen = [Int32](repeating: 0, count: rows.count)
    chosen.withUnsafeMutableBufferPointer { out in
      let o = out.baseAddress!
      forEachHeadRow(hidden: hidden, length: length, rows: rows, columns: v - 1) { i, logits in
        let score = UnsafeMutableBufferPointer<Double>.allocate(capacity: v)
        let buffers = UnsafeMutablePointer<Double>.allocate(capacity: 2 * width)
        defer { score.deallocate(); buffers.deallocate() }
        var sum = 0.0
        for y in 0..<(v - 1) {
          score[y] = exp(Double(logits[y]) - shift)
          sum += score[y]
        }
        score[v - 1] = 1  // log s = 0 at the current token, the absorbing state
        fill(UnsafeBufferPointer(score), sum, buffers)
        uniforms(call, rows[i].block, rows[i].position, buffers + width, width)
        var best = 0, bestValue = -Double.infinity
        for y in 0..<width {
          let value = buffers[y] / (1e-10 - log(buffers[width + y] + 1e-10))
          if value > bestValue {
            best = y
            bestValue = value
          }
        }
        o[i] = Int32(best)
      }
    }
    for (i, row) in rows.enumerated() { x[row.block][row.position] = chosen[i] }
    return 1
  }

  /// `torch.linspace(start, end, n)` in fp32, element for element (ATen's kernel: the first half counts up from the
  /// start, the second half down from the end), returned as Double.
  static func linspaceFloat32(from start: Double, to end: Double, count n: Int) -> [Double] {
    guard n > 1 else { return [start] }
    let a = Float(start), b = Float(end)
    let step = (b - a) / Float(n - 1)
    let halfway = n / 2
    return (0..<n).map { i in Double(i < halfway ? a + step * Float(i) : b - step * Float(n - i - 1)) }
  }
}
