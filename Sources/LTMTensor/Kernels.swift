import CLTMPlatform
import Foundation

/// Row-wise kernels on raw fp32 buffers (row-major [rows, cols]). Every one is written for unsafe pointers so the
/// hot loops carry no bounds checks or reference counting, and runs its rows in parallel via `Parallel`.
public enum Kernels {
  public typealias V = VectorMath.V

  /// out[r] = (x[r] − mean) / sqrt(var + eps) · gamma + beta (LayerNorm over the last dimension, biased variance,
  /// as torch.nn.functional.layer_norm). `out` may alias `x`.
  public static func layerNorm(
    _ x: UnsafePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
    eps: Float, out: UnsafeMutablePointer<Float>
  ) {
    Parallel.forChunks(of: rows, minimumChunk: 16) { range in
      for r in range {
        let row = x + r * cols
        let o = out + r * cols
        var sum: Float = 0
        for c in 0..<cols { sum += row[c] }
        let mean = sum / Float(cols)
        var sq: Float = 0
        for c in 0..<cols {
          let d = row[c] - mean
          sq += d * d
        }
        let inv = 1 / (sq / Float(cols) + eps).squareRoot()
        if let beta {
          for c in 0..<cols { o[c] = (row[c] - mean) * inv * gamma[c] + beta[c] }
        } else {
          for c in 0..<cols { o[c] = (row[c] - mean) * inv * gamma[c] }
        }
      }
    }
  }

  /// x[r, c] += bias[c] for every row.
  public static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
    Parallel.forChunks(of: rows, minimumChunk: 64) { range in
      for r in range {
        let row = x + r * cols
        for c in 0..<cols { row[c] += bias[c] }
      }
    }
  }

  /// y[i] += x[i] (residual connections).
  public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forChunks(of: count, minimumChunk: 1 << 16) { range in
      for i in range { y[i] += x[i] }
    }
  }

  /// In place: x ← 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — GPT-2's `gelu_new` (tanh approximation).
  public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forChunks(of: count, minimumChunk: 1 << 15) { range in
      ltm_vgelu_tanh(x + range.lowerBound, range.count)
    }
  }

  /// Softmax of each row over its first `valid(row)` columns; the remaining columns up to `cols` (masked, e.g.
  /// future positions under a causal mask) are set to 0. Rows are `cols` wide and `stride` apart.
  public static func softmaxRows(
    _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int, valid: (Int) -> Int
  ) {
    for r in 0..<rows {
      let row = x + r * stride, n = valid(r)
      let inv = expRow(row, cols: cols, valid: n)
      for c in 0..<n { row[c] *= inv }
    }
  }

  /// Row i of a strided [rows, cols] matrix ← row i · factors[i].
  public static func scaleRows(
    _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int, by factors: UnsafePointer<Float>
  ) {
    for r in 0..<rows {
      let row = x + r * stride, f = factors[r]
      for c in 0..<cols { row[c] *= f }
    }
  }

  /// The unnormalised half of `softmaxRows`: e^(x − max) over each row's first `valid(row)` columns (the rest set
  /// to 0), returning 1 / Σ per row. Attention applies the 1/Σ to the [rows, head size] output of P·V instead of
  /// the [rows, keys] scores: one pass over a 64-wide row instead of a 1024-wide one.
  public static func expRows(
    _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int, inverseSums: UnsafeMutablePointer<Float>,
    valid: (Int) -> Int
  ) {
    for r in 0..<rows { inverseSums[r] = expRow(x + r * stride, cols: cols, valid: valid(r)) }
  }

  /// One row of `softmaxRows`/`expRows`: e^(x − max) over the first `n` columns, 0 in the rest; returns 1 / Σ.
  @inline(__always)
  static func expRow(_ row: UnsafeMutablePointer<Float>, cols: Int, valid n: Int) -> Float {
    if n < cols { (row + n).update(repeating: 0, count: cols - n) }
    let m = VectorMath.max(row, count: n)
    return Float(1 / VectorMath.expShifted(row, shift: m, count: n, out: row))
  }
}
