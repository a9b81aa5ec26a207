import Foundation

/// RMSNorm over the last dimension (no bias, no mean subtraction), as llama2.c / the LTM decoder compute it:
/// y = (x · rsqrt(mean(x²) + eps)) · gamma, in fp32. The backward is the activation gradient only (no gamma gradient).
public enum RMSNorm {
  /// out[r] = x[r] · rstd[r] · gamma with rstd[r] = (mean_c x[r,c]² + eps)^(−1/2). `out` may alias `x`.
  /// When `rstd` is given, each row's inverse RMS is stored there (the backward needs it).
  public static func forward(
    _ x: UnsafePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, eps: Float,
    out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>?
  ) {
    Parallel.forChunks(of: rows, minimumChunk: 16) { range in
      for r in range {
        let row = x + r * cols
        let o = out + r * cols
        let inv = 1 / (Float(sumOfSquares(row, count: cols) / Double(cols)) + eps).squareRoot()
        rstd?[r] = inv
        for c in 0..<cols { o[c] = (row[c] * inv) * gamma[c] }
      }
    }
  }

  /// Activation gradient: with g = gamma ∘ dy, dx[r] = rstd·g − x[r] · rstd³/cols · Σ_c g_c x[r,c].
  /// `accumulate`: dx += that (a residual stream's gradient), else dx = that. `dx` must not alias `x` or `dy`
  /// when accumulating.
  public static func backward(
    _ x: UnsafePointer<Float>, rstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    rows: Int, cols: Int, dx: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    Parallel.forChunks(of: rows, minimumChunk: 16) { range in
      for r in range {
        let xr = x + r * cols, g = dy + r * cols, o = dx + r * cols
        var dot = 0.0
        for c in 0..<cols { dot += Double(g[c] * gamma[c]) * Double(xr[c]) }
        let s = rstd[r]
        let k = Float(dot * Double(s) * Double(s) * Double(s) / Double(cols))
        if accumulate {
          for c in 0..<cols { o[c] += s * (gamma[c] * g[c]) - k * xr[c] }
        } else {
          for c in 0..<cols { o[c] = s * (gamma[c] * g[c]) - k * xr[c] }
        }
      }
    }
  }

  @inlinable
  static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var i = 0
    var a0 = VectorMath.V(), a1 = VectorMath.V()
    while i + 16 <= count {
      let u = VectorMath.load(x + i), v = VectorMath.load(x + i + 8)
      a0 += u * u
      a1 += v * v
      i += 16
    }
    var total = Double((a0 + a1).sum())
    while i < count {
      total += Double(x[i] * x[i])
      i += 1
    }
    return total
  }
}
