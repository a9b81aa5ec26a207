import CBLAS
import CLTMPlatform
import Foundation

/// Vectorised transcendental functions for the hot loops (softmax, log-sum-exp, SwiGLU; GELU's tanh is in
/// `CLTMPlatform/vector.c`). Foundation's scalar `exp` and `tanh` cost 5–20 ns each; a 1024-token GPT-2-small
/// block needs ~51 M exps for the output softmax and ~38 M tanh for the MLPs, which would rival the GEMM time. These work on `SIMD8<Float>` (two SSE or one AVX register).
public enum VectorMath {
  public typealias V = SIMD8<Float>

  /// e^x for each lane, relative error ≤ 2e-7 on [-87.3, 88.7] (Cephes `expf` polynomial after range reduction
  /// x = n·ln2 + r, |r| ≤ ln2/2). Inputs are clamped to [−87.34, 88.38], so e^−∞ gives 1.2e−38 rather than 0
  /// (harmless in a sum of exponentials with a max-shift) and NaN inputs give an arbitrary value: callers that can
  /// see NaN check their results for finiteness (the perplexity accumulator does).
  ///
  /// Written with plain lane arithmetic, min/max and bit casts only: the stdlib's generic SIMD conversions and
  /// masked selects scalarise and cost ~10 ns per element. n is rounded with the 1.5·2²³ "magic number" trick,
  /// whose bit pattern then holds n in its low mantissa bits.
  @inlinable @inline(__always)
  public static func exp(_ x: V) -> V {
    let magic: Float = 12_582_912  // 1.5 · 2^23
    let xc = min(max(x, -87.33654), 88.37626)
    let shifted = xc * 1.442695040888963 + magic
    let n = shifted - magic  // round-to-nearest(x / ln2)
    // r = x − n·ln2, with ln2 split in two for accuracy.
    let r = xc - n * 0.693359375 + n * 2.12194440e-4
    var p = V(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * (r * r) + r + 1
    // 2^n: the low bits of `shifted` hold n + 0x400000 (biased); move n + 127 into the exponent field.
    let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((bits &+ 127) &<< 23, to: V.self)
    return y * scale
  }

  /// Lane-wise min/max with a scalar: SSE minps/maxps on x86-64 (the stdlib's generic `pointwiseMin` and
  /// `replacing(with:where:)` compile to out-of-line calls and cost more than the whole polynomial).
  @inlinable @inline(__always)
  static func min(_ a: V, _ b: Float) -> V {
    #if arch(x86_64)
    let bb = SIMD4<Float>(repeating: b)
    return V(lowHalf: _mm_min_ps(a.lowHalf, bb), highHalf: _mm_min_ps(a.highHalf, bb))
    #else
    return pointwiseMin(a, V(repeating: b))
    #endif
  }
  @inlinable @inline(__always)
  static func max(_ a: V, _ b: Float) -> V {
    #if arch(x86_64)
    let bb = SIMD4<Float>(repeating: b)
    return V(lowHalf: _mm_max_ps(a.lowHalf, bb), highHalf: _mm_max_ps(a.highHalf, bb))
    #else
    return pointwiseMax(a, V(repeating: b))
    #endif
  }

  @inlinable @inline(__always)
  public static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

  @inlinable @inline(__always)
  public static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

  /// e^(x[i] − shift) for i in 0..<count, written to `out` (may alias `x`); returns their sum in Double.
  /// The row kernels run in C (`CLTMPlatform/vector.c`): the lane arithmetic of `exp` above, compiled for AVX2
  /// where the CPU has it (twice the lanes of the SSE code Swift emits for x86-64) and for baseline x86-64, the two
  /// variants bit-identical.
  @inlinable
  public static func expShifted(_ x: UnsafePointer<Float>, shift: Float, count: Int, out: UnsafeMutablePointer<Float>) -> Double {
    ltm_vexp_shifted(x, shift, count, out)
  }

  /// Σ e^(x[i] − shift) without storing the terms.
  @inlinable
  public static func sumExpShifted(_ x: UnsafePointer<Float>, shift: Float, count: Int) -> Double {
    ltm_vsum_exp_shifted(x, shift, count)
  }

  /// max of x[0..<count] (count ≥ 1).
  @inlinable
  public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
    ltm_vmax(x, count)
  }
}
