import Foundation
import LTMTensor

// MARK: - Options and results

/// How the fast loop's starting point and noise are chosen.
public enum LTMPosteriorInit: String, Codable, Sendable, CaseIterable {
  /// The authors' recipe: μ0 = 0.01·N(0,1), log σ²0 = −5 + 0.1·N(0,1), ε ~ N(0,1), drawn from `LTMGaussian` keyed by
  /// (seed, block index), so a block's numbers do not depend on batching, order or which other blocks run.
  case official
  /// μ0 = 0, log σ²0 = −5, ε = 0: z = μ throughout, so the result is a pure function of the block and the weights.
  case deterministic
}

/// Settings of one posterior fit per block (the `ltm` protocol: T = checkpoint num_steps, lr = fast_lr).
public struct LTMScoringOptions: Codable, Sendable, Equatable {
  /// T: AdamW steps. The lr cosine runs over T steps, so runs with different T follow different trajectories.
  public var steps: Int
  /// fast_lr: the cosine goes from this to a tenth of it over T steps.
  public var learningRate: Double
  public var initialization: LTMPosteriorInit
  public var seed: UInt64
  /// K fresh ε samples for the honest bound after the fit (0 skips it).
  public var freshSamples: Int

  public init(steps: Int, learningRate: Double, initialization: LTMPosteriorInit = .official, seed: UInt64 = 0, freshSamples: Int = 8) {
    self.steps = steps
    self.learningRate = learningRate
    self.initialization = initialization
    self.seed = seed
    self.freshSamples = freshSamples
  }

  func validate() throws {
    guard steps >= 0 else { throw ModelError.badInput("inference steps must be ≥ 0, got \(steps)") }
    guard learningRate > 0, learningRate.isFinite else { throw ModelError.badInput("fast lr must be positive, got \(learningRate)") }
    guard freshSamples >= 0 else { throw ModelError.badInput("fresh ε samples must be ≥ 0, got \(freshSamples)") }
  }
}

/// Where a fast loop starts for one block: μ0, log σ²0 and the single ε reused by every step and by the final
/// score, each [N_z · dim] (row-major [N_z, dim]).
public struct LTMPosteriorStart: Sendable, Equatable {
  public var mu: [Float]
  public var logvar: [Float]
  public var eps: [Float]

  public init(mu: [Float], logvar: [Float], eps: [Float]) {
    self.mu = mu
    self.logvar = logvar
    self.eps = eps
  }

  /// μ0 = 0, log σ²0 = −5, ε = 0.
  public static func deterministic(count: Int) -> LTMPosteriorStart {
    .init(mu: .init(repeating: 0, count: count), logvar: .init(repeating: -5, count: count), eps: .init(repeating: 0, count: count))
  }

  /// The authors' init from `LTMGaussian(seed:block:stream: 0)`: `count` normals for μ0 (×0.01), then `count` for
  /// log σ²0 (−5 + 0.1·n), then `count` for ε, in that order.
  public static func official(count: Int, seed: UInt64, block: UInt64) -> LTMPosteriorStart {
    var g = LTMGaussian(seed: seed, block: block, stream: 0)
    let mu = (0..<count).map { _ in g.next() * 0.01 }
    let logvar = (0..<count).map { _ in g.next() * 0.1 - 5 }
    let eps = (0..<count).map { _ in g.next() }
    return .init(mu: mu, logvar: logvar, eps: eps)
  }
}

/// Seeded standard normals: a SplitMix64 stream whose state is mix(mix(mix(seed) ⊕ block) ⊕ stream) (mix = the
/// SplitMix64 output function), turned into pairs of normals by Box–Muller in Double
/// (u1 = (k+1)/2⁵³ ∈ (0,1], u2 = k/2⁵³ from the top 53 bits; r = √(−2 ln u1); r·cos 2πu2, then r·sin 2πu2).
/// Stream 0 is a block's starting point; stream 1 + k its k-th fresh ε for the honest bound.
public struct LTMGaussian: Sendable {
  var rng: SplitMix64
  var spare: Float?

  public init(seed: UInt64, block: UInt64, stream: UInt64) {
    rng = SplitMix64(seed: Self.mix(Self.mix(Self.mix(seed) ^ block) ^ stream))
  }

  static func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  public mutating func next() -> Float {
    if let s = spare {
      spare = nil
      return s
    }
    let u1 = (Double(rng.next() >> 11) + 1) / 9_007_199_254_740_992
    let u2 = Double(rng.next() >> 11) / 9_007_199_254_740_992
    let r = (-2 * Foundation.log(u1)).squareRoot()
    spare = Float(r * Foundation.sin(2 * Double.pi * u2))
    return Float(r * Foundation.cos(2 * Double.pi * u2))
  }
}

/// The honest bound of one block: the NELBO at the fitted (μ, σ) estimated with K fresh ε (none of them the ε the
/// fit reused), with Monte Carlo standard errors. The KL is analytic, so it is the same for every sample.
public struct LTMFreshBound: Codable, Sendable, Equatable {
  public var samples: Int
  /// Σ token CE at each sample's z.
  public var nllPerSample: [Double]
  public var nllMean: Double
  /// Standard error of `nllMean` (sample standard deviation / √K); nil for K < 2.
  public var nllStandardError: Double?
  public var kl: Double
  public var nelboMean: Double { nllMean + kl }
  /// The NELBO's standard error is the NLL's (the KL does not vary across samples).
  public var nelboStandardError: Double? { nllStandardError }
  /// Per-token CE averaged over the K samples (so its sum is `nllMean`).
  public var tokenNLLMean: [Float]
  /// As a block score: per-token mean CE, KL as extra nats.
  public var score: BlockScore { BlockScore(tokenNLL: tokenNLLMean, extraNats: kl) }
}

/// The outcome of the fast loop on one block.
public struct LTMBlockPosterior: Sendable, Equatable {
  public var steps: Int
  public var learningRate: Double
  /// Per-token CE at the final z = μ_T + σ_T·ε (the same ε as the fit): the paper's numbers.
  public var tokenNLL: [Float]
  public var nll: Double
  /// KL(q ‖ N(0, I)) at the final (μ, σ).
  public var kl: Double
  /// NELBO before each update: entry s is Σ CE + KL at (μ_s, σ_s) (T entries; the final NELBO is `nelbo`).
  public var nelboTrajectory: [Double]
  public var mu: [Float]
  public var logvar: [Float]
  public var fresh: LTMFreshBound?

  public var nelbo: Double { nll + kl }
  public var scoredTokens: Int { tokenNLL.count }
  /// The paper's per-block bound: exp((Σ CE + KL) / n).
  public var ppl: Double { Foundation.exp(nelbo / Double(tokenNLL.count)) }
  /// The paper's bound as a block score (KL as extra nats).
  public var score: BlockScore { BlockScore(tokenNLL: tokenNLL, extraNats: kl) }

  public var summary: LTMBlockSummary {
    let n = Double(scoredTokens)
    return LTMBlockSummary(
      steps: steps, learningRate: learningRate, scoredTokens: scoredTokens,
      paper: .init(nll: nll, kl: kl, nelbo: nelbo, ppl: ppl),
      fresh: fresh.map {
        .init(samples: $0.samples, nllMean: $0.nllMean, kl: $0.kl, nelboMean: $0.nelboMean,
              nelboStandardError: $0.nelboStandardError, ppl: Foundation.exp($0.nelboMean / n))
      },
      nelboTrajectory: nelboTrajectory)
  }
}

/// The numbers of one block fit, for results files: no latents, no per-token values.
public struct LTMBlockSummary: Codable, Sendable, Equatable {
  /// The paper's bound: z = μ_T + σ_T·ε with the ε of the fit (a single-sample, optimistic estimate).
  public struct PaperBound: Codable, Sendable, Equatable {
    public var nll: Double
    public var kl: Double
    public var nelbo: Double
    /// exp(nelbo / scoredTokens).
    public var ppl: Double
  }
  /// The honest bound: the NELBO at (μ_T, σ_T) averaged over K fresh ε.
  public struct FreshBound: Codable, Sendable, Equatable {
    public var samples: Int
    public var nllMean: Double
    public var kl: Double
    public var nelboMean: Double
    public var nelboStandardError: Double?
    /// exp(nelboMean / scoredTokens).
    public var ppl: Double
  }
  public var steps: Int
  public var learningRate: Double
  public var scoredTokens: Int
  public var paper: PaperBound
  public var fresh: FreshBound?
  /// NELBO before each of the T updates.
  public var nelboTrajectory: [Double]
}

/// The authors' fast-loop learning rate: cosine from lr to lr/10 over T steps, lr_s = lr/10 + ½(1 + cos(π s/T))·(lr − lr/10).
public func ltmFastLearningRate(step s: Int, steps t: Int, learningRate lr: Double) -> Double {
  let minimum = lr / 10
  guard s < t else { return minimum }
  let coeff = 0.5 * (1 + Foundation.cos(Double.pi * Double(s) / Double(t)))
  return minimum + coeff * (lr - minimum)
}

// MARK: - The fast loop

/// One batch of blocks going through the fast loop together: each block has its own μ, log σ², ε and Adam state;
/// the loss is the sum over blocks, so batching changes nothing but the GEMM sizes.
final class LTMFastLoop {
  let model: LTMModel
  let ws: LTMWorkspace
  let count: Int  // B · N_z · d
  let mu, logvar, eps, z, dz, gradMu, gradLogvar: FloatBuffer
  /// AdamW over (μ, log σ²) of the batch (`torch.optim.AdamW`, LTMTensor).
  var adamMu, adamLogvar: AdamW

  init(model: LTMModel, blocks: [[Int32]], starts: [LTMPosteriorStart]) throws {
    let s = try model.inputLength(blocks)
    guard starts.count == blocks.count else { throw ModelError.badInput("\(starts.count) posterior starts for \(blocks.count) blocks") }
    let n = model.args.maxZLen * model.args.dim
    for st in starts where st.mu.count != n || st.logvar.count != n || st.eps.count != n {
      throw ModelError.badInput("a posterior start has \(st.mu.count)/\(st.logvar.count)/\(st.eps.count) values, expected N_z·dim = \(n)")
    }
    self.model = model
    count = blocks.count * n
    ws = LTMWorkspace(model: model, blocks: blocks, length: s, saving: true)
    mu = FloatBuffer(starts.flatMap(\.mu))
    logvar = FloatBuffer(starts.flatMap(\.logvar))
    eps = FloatBuffer(starts.flatMap(\.eps))
    z = FloatBuffer(count: count)
    dz = FloatBuffer(count: count)
    gradMu = FloatBuffer(count: count)
    gradLogvar = FloatBuffer(count: count)
    adamMu = AdamW(count: count)
    adamLogvar = AdamW(count: count)
    model.prepare(ws)
  }

  var blocks: Int { ws.blocks }
  var perBlock: Int { count / ws.blocks }

  /// z = μ + ε·exp(½ log σ²).
  func sampleZ(noise: UnsafePointer<Float>) {
    Kernels.reparameterize(mu: mu.pointer, logvar: logvar.pointer, noise: noise, out: z.pointer, count: count)
  }

  /// KL(N(μ, σ²) ‖ N(0, I)) per block: Σ −½(1 + log σ² − μ² − σ²), in Double.
  func kl() -> [Double] {
    let mu = self.mu.pointer, lv = logvar.pointer, n = perBlock
    return (0..<blocks).map { b in
      var s = 0.0
      for i in (b * n)..<((b + 1) * n) {
        let m = Double(mu[i]), l = Double(lv[i])
        s += -0.5 * (1 + l - m * m - Foundation.exp(l))
      }
      return s
    }
  }

  /// Forward + backward at the current (μ, log σ², ε): fills gradMu and gradLogvar with the gradient of the
  /// summed NELBO, returns each block's (Σ CE, KL).
  @discardableResult
  func gradient() -> (nll: [Double], kl: [Double]) {
    sampleZ(noise: eps.pointer)
    model.forward(ws, z: z.pointer, dz: dz.pointer)
    let gm = gradMu.pointer, gl = gradLogvar.pointer, dz = self.dz.pointer
    let mu = self.mu.pointer, lv = logvar.pointer, e = eps.pointer
    for i in 0..<count {
      let sigma = Foundation.exp(0.5 * lv[i])
      gm[i] = dz[i] + mu[i]
      gl[i] = dz[i] * e[i] * 0.5 * sigma + 0.5 * (sigma * sigma - 1)
    }
    return (ws.blockNLL(), kl())
  }

  /// One fast-loop step at learning rate lr; returns each block's NELBO before the update.
  func step(lr: Double) -> [Double] {
    let (nll, kl) = gradient()
    adamMu.update(mu.pointer, grad: gradMu.pointer, count: count, lr: lr)
    adamLogvar.update(logvar.pointer, grad: gradLogvar.pointer, count: count, lr: lr)
    return zip(nll, kl).map { $0 + $1 }
  }

  /// Forward only with z = μ + σ·noise; returns each block's Σ CE (per-token values stay in ws.tokenNLL).
  func evaluate(noise: UnsafePointer<Float>) -> [Double] {
    sampleZ(noise: noise)
    model.forward(ws, z: z.pointer, dz: nil)
    return ws.blockNLL()
  }

  func tokenNLL(block b: Int) -> [Float] {
    Array(UnsafeBufferPointer(start: ws.tokenNLL.pointer + b * ws.length, count: ws.length))
  }

  func slice(_ buffer: FloatBuffer, block b: Int) -> [Float] {
    Array(UnsafeBufferPointer(start: buffer.pointer + b * perBlock, count: perBlock))
  }
}

// MARK: - Public posterior API

/// The gradient of the summed NELBO at one point, per block (for parity tests and tools).
public struct LTMNELBOGradient: Sendable {
  public var nll: [Double]
  public var kl: [Double]
  /// Per block, [N_z·dim] each.
  public var gradMu: [[Float]]
  public var gradLogvar: [[Float]]
}

extension LTMModel {
  /// Σ CE + KL and its gradient with respect to μ and log σ² at z = μ + ε·exp(½ log σ²), per block.
  public func nelboGradient(blocks: [[Int32]], at points: [LTMPosteriorStart]) throws -> LTMNELBOGradient {
    let loop = try LTMFastLoop(model: self, blocks: blocks, starts: points)
    let (nll, kl) = loop.gradient()
    return LTMNELBOGradient(
      nll: nll, kl: kl, gradMu: (0..<blocks.count).map { loop.slice(loop.gradMu, block: $0) },
      gradLogvar: (0..<blocks.count).map { loop.slice(loop.gradLogvar, block: $0) })
  }

  /// Runs the authors' fast loop on a batch of equal-length blocks from the given starting points: T = `steps`
  /// AdamW steps with the cosine lr from `learningRate`, the same ε throughout, then the final forward with that ε.
  /// With `freshNoise` (K arrays of [N_z·dim] per block), also the honest bound at the fitted (μ, σ).
  public func fitPosterior(
    blocks: [[Int32]], starts: [LTMPosteriorStart], steps: Int, learningRate: Double, freshNoise: [[[Float]]]? = nil
  ) throws -> [LTMBlockPosterior] {
    guard !blocks.isEmpty else { return [] }
    guard steps >= 0 else { throw ModelError.badInput("inference steps must be ≥ 0, got \(steps)") }
    let loop = try LTMFastLoop(model: self, blocks: blocks, starts: starts)
    var trajectory = [[Double]](repeating: [], count: blocks.count)
    for s in 0..<steps {
      let nelbo = loop.step(lr: ltmFastLearningRate(step: s, steps: steps, learningRate: learningRate))
      for b in 0..<blocks.count { trajectory[b].append(nelbo[b]) }
    }
    let nll = loop.evaluate(noise: loop.eps.pointer)
    let kl = loop.kl()
    var results = (0..<blocks.count).map { b in
      LTMBlockPosterior(
        steps: steps, learningRate: learningRate, tokenNLL: loop.tokenNLL(block: b), nll: nll[b], kl: kl[b],
        nelboTrajectory: trajectory[b], mu: loop.slice(loop.mu, block: b), logvar: loop.slice(loop.logvar, block: b), fresh: nil)
    }
    guard let fresh = freshNoise else { return results }
    guard fresh.count == blocks.count, let k = fresh.first?.count, fresh.allSatisfy({ $0.count == k }) else {
      throw ModelError.badInput("fresh noise must hold the same number of samples for each of the \(blocks.count) blocks")
    }
    if k == 0 { return results }
    let n = loop.perBlock
    var sums = [[Double]](repeating: [], count: blocks.count)
    var tokenSums = [[Double]](repeating: .init(repeating: 0, count: loop.ws.length), count: blocks.count)
    let noise = FloatBuffer(count: loop.count)
    for sample in 0..<k {
      for b in 0..<blocks.count {
        guard fresh[b][sample].count == n else { throw ModelError.badInput("a fresh ε sample has \(fresh[b][sample].count) values, expected \(n)") }
        fresh[b][sample].withUnsafeBufferPointer { (noise.pointer + b * n).update(from: $0.baseAddress!, count: n) }
      }
      let nll = loop.evaluate(noise: noise.pointer)
      for b in 0..<blocks.count {
        sums[b].append(nll[b])
        let t = loop.ws.tokenNLL.pointer + b * loop.ws.length
        for i in 0..<loop.ws.length { tokenSums[b][i] += Double(t[i]) }
      }
    }
    for b in 0..<blocks.count {
      let mean = sums[b].reduce(0, +) / Double(k)
      var se: Double?
      if k > 1 {
        let variance = sums[b].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(k - 1)
        se = (variance / Double(k)).squareRoot()
      }
      results[b].fresh = LTMFreshBound(
        samples: k, nllPerSample: sums[b], nllMean: mean, nllStandardError: se, kl: kl[b],
        tokenNLLMean: tokenSums[b].map { Float($0 / Double(k)) })
    }
    return results
  }

  /// The `ltm` protocol on a batch of blocks (equal lengths; 1024 tokens → 1023 scored): starting points from
  /// `options.initialization` keyed by (options.seed, blockIndices[i]), T = options.steps, lr = options.learningRate,
  /// then K = options.freshSamples fresh ε for the honest bound (streams 1…K of the same key; also drawn under
  /// `deterministic`, where only the fit is noise-free).
  /// An inference-steps sweep is one call per T (the harness's scoring variants): the cosine lr schedule depends on
  /// T, so the bound at T = 16 is not a point on the T = 64 trajectory, and every T starts from the same μ0, σ0, ε.
  public func evaluate(blocks: [[Int32]], blockIndices: [Int], options: LTMScoringOptions) throws -> [LTMBlockPosterior] {
    try options.validate()
    guard blockIndices.count == blocks.count else {
      throw ModelError.badInput("\(blockIndices.count) block indices for \(blocks.count) blocks")
    }
    guard !blocks.isEmpty else { return [] }
    let n = args.maxZLen * args.dim
    let starts = blockIndices.map { index -> LTMPosteriorStart in
      switch options.initialization {
      case .official: return .official(count: n, seed: options.seed, block: UInt64(bitPattern: Int64(index)))
      case .deterministic: return .deterministic(count: n)
      }
    }
    let fresh: [[[Float]]]? = options.freshSamples == 0 ? nil : blockIndices.map { index in
      (0..<options.freshSamples).map { k in
        var g = LTMGaussian(seed: options.seed, block: UInt64(bitPattern: Int64(index)), stream: UInt64(1 + k))
        return (0..<n).map { _ in g.next() }
      }
    }
    // Blocks of different lengths run in separate batches.
    var out = [LTMBlockPosterior?](repeating: nil, count: blocks.count)
    let groups = Dictionary(grouping: blocks.indices, by: { blocks[$0].count })
    for length in groups.keys.sorted() {
      let members = groups[length]!
      let results = try fitPosterior(
        blocks: members.map { blocks[$0] }, starts: members.map { starts[$0] }, steps: options.steps,
        learningRate: options.learningRate, freshNoise: fresh.map { f in members.map { f[$0] } })
      for (j, i) in members.enumerated() { out[i] = results[j] }
    }
    return out.map { $0! }
  }

  /// `BlockScoringModel`: the paper's bound per block with `scoringOptions` (fresh samples skipped here). Blocks have
  /// no index in this interface, so each block's random stream is keyed by an FNV-1a hash of its tokens: still
  /// independent of batching and order.
  public func score(blocks: [[Int32]]) throws -> [BlockScore] {
    guard var options = scoringOptions else {
      throw ModelError.badInput("the LTM checkpoint's config lacks num_steps or fast_lr: set scoringOptions before scoring")
    }
    options.freshSamples = 0
    let keys = blocks.map { Self.contentKey($0) }
    return try evaluate(blocks: blocks, blockIndices: keys, options: options).map(\.score)
  }

  /// FNV-1a 64 of the block's tokens (little-endian int32), as an Int key.
  public static func contentKey(_ block: [Int32]) -> Int {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for t in block {
      var v = UInt32(bitPattern: t)
      for _ in 0..<4 {
        h = (h ^ UInt64(v & 0xff)) &* 0x100_0000_01b3
        v >>= 8
      }
    }
    return Int(bitPattern: UInt(h))
  }
}
