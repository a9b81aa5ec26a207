import Foundation

/// The element and row loops of the model families (residual adds, scaling, range softmax, adaLN modulation, gated
/// adds, the AdamW update, random weights), in one place on raw buffers. The `…Row` kernels are serial, for callers
/// that already run inside `Parallel`; the others spread their rows over threads.
extension Kernels {
  /// out[i] = x[i] + y[i] (out may alias x or y), in parallel chunks: residual connections.
  public static func add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forChunks(of: count, minimumChunk: 1 << 16) { range in
      for i in range { out[i] = x[i] + y[i] }
    }
  }

  /// out[c] = x[c] + y[c] for one row: token + position embeddings.
  @inline(__always)
  public static func addRow(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
    for c in 0..<count { out[c] = x[c] + y[c] }
  }

  /// y[c] += x[c] for one row (a bias over part of a row).
  @inline(__always)
  public static func addRow(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    for c in 0..<count { y[c] += x[c] }
  }

  /// x[c] −= s for one row (log-softmax from a log-sum-exp).
  @inline(__always)
  public static func subtractRow(_ s: Float, from x: UnsafeMutablePointer<Float>, count: Int) {
    for c in 0..<count { x[c] -= s }
  }

  /// Softmax over row[lo..<hi]; the rest of row[0..<count] is set to 0 (a causal or sliding-window row).
  @inline(__always)
  public static func softmaxRange(_ row: UnsafeMutablePointer<Float>, count: Int, lo: Int, hi: Int) {
    if lo > 0 { row.update(repeating: 0, count: lo) }
    if hi < count { (row + hi).update(repeating: 0, count: count - hi) }
    let n = hi - lo, x = row + lo
    let m = VectorMath.max(x, count: n)
    let total = VectorMath.expShifted(x, shift: m, count: n, out: x)
    let inv = Float(1 / total)
    for c in 0..<n { x[c] *= inv }
  }

  /// The softmax's backward on [lo, hi): dp[c] ← p[c]·(dp[c] − Σ p·dp), 0 elsewhere.
  @inline(__always)
  public static func softmaxBackwardRange(p: UnsafePointer<Float>, dp: UnsafeMutablePointer<Float>, count: Int, lo: Int, hi: Int) {
    if lo > 0 { dp.update(repeating: 0, count: lo) }
    if hi < count { (dp + hi).update(repeating: 0, count: count - hi) }
    var dot: Float = 0
    for c in lo..<hi { dot += p[c] * dp[c] }
    for c in lo..<hi { dp[c] = p[c] * (dp[c] - dot) }
  }

  /// x[r, c] ← x[r, c]·scale[c] + shift[c] (adaLN modulation, `scale` already 1 + the predicted scale).
  public static func modulate(
    _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>
  ) {
    Parallel.forChunks(of: rows, minimumChunk: 64) { range in
      for r in range {
        let row = x + r * cols
        for c in 0..<cols { row[c] = row[c] * scale[c] + shift[c] }
      }
    }
  }

  /// x[r, c] += gate[c]·y[r, c] (adaLN's gated residual).
  public static func gatedAdd(
    _ y: UnsafePointer<Float>, gate: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    Parallel.forChunks(of: rows, minimumChunk: 64) { range in
      for r in range {
        let o = r * cols
        for c in 0..<cols { x[o + c] += gate[c] * y[o + c] }
      }
    }
  }

  /// z = μ + ε·exp(½ log σ²) (the reparameterisation of a diagonal Gaussian).
  public static func reparameterize(
    mu: UnsafePointer<Float>, logvar: UnsafePointer<Float>, noise: UnsafePointer<Float>, out z: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    for i in 0..<count { z[i] = mu[i] + noise[i] * Foundation.exp(0.5 * logvar[i]) }
  }
}

/// AdamW exactly as `torch.optim.AdamW` (betas (0.9, 0.999), eps 1e-8, weight decay 0.01 decoupled:
/// p ← p·(1 − lr·0.01) before the Adam step; bias-corrected moments), on fp32 buffers.
public struct AdamW {
  public static let beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01
  let m: FloatBuffer, v: FloatBuffer
  public private(set) var step = 0

  public init(count: Int) {
    m = FloatBuffer(count: count)
    v = FloatBuffer(count: count)
  }

  public mutating func update(_ p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>, count: Int, lr: Double) {
    step += 1
    let decay = Float(1 - lr * Self.weightDecay)
    let w1 = Float(1 - Self.beta1), b2 = Float(Self.beta2), w2 = Float(1 - Self.beta2)
    let bc1 = 1 - Foundation.pow(Self.beta1, Double(step))
    let bc2Sqrt = (1 - Foundation.pow(Self.beta2, Double(step))).squareRoot()
    let stepSize = Float(lr / bc1), bc2 = Float(bc2Sqrt), eps = Float(Self.eps)
    let m = self.m.pointer, v = self.v.pointer
    for i in 0..<count {
      p[i] *= decay
      m[i] += w1 * (g[i] - m[i])  // torch lerp_ with weight < 0.5
      v[i] = v[i] * b2 + w2 * g[i] * g[i]
      let denom = v[i].squareRoot() / bc2 + eps
      p[i] -= stepSize * (m[i] / denom)
    }
  }
}

/// Random weights for benchmarks and tests: uniform in offset ± scale, drawn in order from one SplitMix64 stream.
public struct UniformWeights {
  var rng: SplitMix64

  public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

  public mutating func buffer(_ count: Int, scale: Float, offset: Float = 0) -> FloatBuffer {
    let b = FloatBuffer(count: count)
    for i in 0..<count { b.pointer[i] = offset + scale * (rng.nextFloat() * 2 - 1) }
    return b
  }
}
