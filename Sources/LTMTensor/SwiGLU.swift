import Foundation

/// The SwiGLU gate of a llama-style MLP: hidden = silu(gate) ∘ up, with silu(g) = g · σ(g). Inputs are the fused
/// projection rows [gate (hidden wide) | up (hidden wide)], so one GEMM produces both.
public enum SwiGLU {
  public typealias V = VectorMath.V

  /// out[r, j] = silu(gu[r, j]) · gu[r, hidden + j].
  public static func forward(_ gu: UnsafePointer<Float>, rows: Int, hidden: Int, out: UnsafeMutablePointer<Float>) {
    Parallel.forChunks(of: rows, minimumChunk: 8) { range in
      for r in range {
        let g = gu + r * 2 * hidden, u = g + hidden, o = out + r * hidden
        var j = 0
        while j + 8 <= hidden {
          let gv = VectorMath.load(g + j)
          let sig = 1 / (1 + VectorMath.exp(-gv))
          VectorMath.store(gv * sig * VectorMath.load(u + j), o + j)
          j += 8
        }
        while j < hidden {
          let sig = 1 / (1 + Foundation.exp(-g[j]))
          o[j] = g[j] * sig * u[j]
          j += 1
        }
      }
    }
  }

  /// Gradient with respect to the fused input: d gate = dh · up · σ(g)(1 + g(1 − σ(g))), d up = dh · silu(g).
  public static func backward(
    _ gu: UnsafePointer<Float>, dHidden: UnsafePointer<Float>, rows: Int, hidden: Int, dgu: UnsafeMutablePointer<Float>
  ) {
    Parallel.forChunks(of: rows, minimumChunk: 8) { range in
      for r in range {
        let g = gu + r * 2 * hidden, u = g + hidden, dh = dHidden + r * hidden
        let dg = dgu + r * 2 * hidden, du = dg + hidden
        var j = 0
        while j + 8 <= hidden {
          let gv = VectorMath.load(g + j), uv = VectorMath.load(u + j), d = VectorMath.load(dh + j)
          let sig = 1 / (1 + VectorMath.exp(-gv))
          VectorMath.store(d * uv * sig * (1 + gv * (1 - sig)), dg + j)
          VectorMath.store(d * gv * sig, du + j)
          j += 8
        }
        while j < hidden {
          let sig = 1 / (1 + Foundation.exp(-g[j]))
          dg[j] = dh[j] * u[j] * sig * (1 + g[j] * (1 - sig))
          du[j] = dh[j] * g[j] * sig
          j += 1
        }
      }
    }
  }
}
