import Foundation

/// Vectorised transcendental functions for the hot loops (softmax, log-sum-exp, GELU). Foundation's scalar `exp`
/// and `tanh` cost 5–20 ns each; a 1024-token GPT-2-small block needs ~51 M exps for the output softmax and ~38 M
/// tanh for the MLPs, which would rival the GEMM time. These work on `SIMD8<Float>` (two SSE or one AVX register).
public enum VectorMath {
  public typealias V = SIMD8<Float>

  /// e^x for each lane, relative error ≤ 2e-7 on [-87.3, 88.7] (Cephes `expf` polynomial after range reduction
  /// x = n·ln2 + r, |r| ≤ ln2/2). Inputs below −87.3 give 0 (well inside fp32's flush range); NaN propagates.
  @inlinable @inline(__always)
  public static func exp(_ x: V) -> V {
    let hi = V(repeating: 88.37626), lo = V(repeating: -87.33654)
    let isNaN = x .!= x
    var xc = x.replacing(with: 0, where: isNaN).replacing(with: hi, where: x .> hi)
    let under = xc .< lo
    xc = xc.replacing(with: lo, where: under)
    let n = (xc * 1.442695040888963).rounded(.toNearestOrEven)
    // r = x − n·ln2, with ln2 split in two for accuracy.
    var r = xc - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p = V(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let r2 = r * r
    let y = p * r2 + r + 1
    // Scale by 2^n by building the float's exponent bits directly.
    let ni = SIMD8<Int32>(n, rounding: .toNearestOrEven)
    let scale = unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
    var out = y * scale
    out = out.replacing(with: 0, where: under)
    out = out.replacing(with: x, where: isNaN)  // NaN in, NaN out
    return out
  }

  /// tanh for each lane via 1 − 2/(e^{2x}+1); absolute error ≤ 3e-7 (enough for GELU, where it is scaled by x/2).
  @inlinable @inline(__always)
  public static func tanh(_ x: V) -> V {
    let xc = x.clamped(lowerBound: V(repeating: -20), upperBound: V(repeating: 20))
    return 1 - 2 / (exp(2 * xc) + 1)
  }

  @inlinable @inline(__always)
  public static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

  @inlinable @inline(__always)
  public static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

  /// e^(x[i] − shift) for i in 0..<count, written to `out` (may alias `x`); returns their sum in Double.
  @inlinable
  public static func expShifted(_ x: UnsafePointer<Float>, shift: Float, count: Int, out: UnsafeMutablePointer<Float>) -> Double {
    var i = 0
    var acc = V()
    let s = V(repeating: shift)
    while i + 8 <= count {
      let v = exp(load(x + i) - s)
      store(v, out + i)
      acc += v
      i += 8
    }
    var total = Double(acc.sum())
    while i < count {
      let e = Foundation.exp(x[i] - shift)
      out[i] = e
      total += Double(e)
      i += 1
    }
    return total
  }

  /// Σ e^(x[i] − shift) without storing the terms.
  @inlinable
  public static func sumExpShifted(_ x: UnsafePointer<Float>, shift: Float, count: Int) -> Double {
    var i = 0
    var acc0 = V(), acc1 = V()
    let s = V(repeating: shift)
    while i + 16 <= count {
      acc0 += exp(load(x + i) - s)
      acc1 += exp(load(x + i + 8) - s)
      i += 16
    }
    var total = Double((acc0 + acc1).sum())
    while i < count {
      total += Double(Foundation.exp(x[i] - shift))
      i += 1
    }
    return total
  }

  /// max of x[0..<count] (count ≥ 1).
  @inlinable
  public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var i = 0
    var m = V(repeating: -.infinity)
    while i + 8 <= count {
      m = pointwiseMax(m, load(x + i))
      i += 8
    }
    var best = m.max()
    while i < count {
      best = Swift.max(best, x[i])
      i += 1
    }
    return best
  }
}
