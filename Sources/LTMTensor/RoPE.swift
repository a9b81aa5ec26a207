import Foundation

/// Rotary position embedding tables in the llama2.c (interleaved-pair) convention: pair i of a head is
/// (x[2i], x[2i+1]), rotated as a complex number by angle pos · θ^(−2i/headDim).
///
/// The tables are built the way `precompute_freqs_cis` builds them in fp32 (freq = 1 / θ^(float(2i)/headDim) in
/// fp32, angle = float(pos) · freq rounded to fp32, then cos/sin of that fp32 angle), so rows match PyTorch's to an
/// ulp even at positions near 1024 where the fp32 angle's rounding is visible.
public final class RoPETable: @unchecked Sendable {
  public let headDim: Int
  public let positions: Int
  /// [positions, headDim/2] each.
  public let cos: FloatBuffer
  public let sin: FloatBuffer

  public init(headDim: Int, positions: Int, theta: Double = 10000) {
    precondition(headDim % 2 == 0 && headDim > 0, "RoPE needs an even head dimension")
    self.headDim = headDim
    self.positions = positions
    let half = headDim / 2
    cos = FloatBuffer(count: positions * half)
    sin = FloatBuffer(count: positions * half)
    let freqs: [Float] = (0..<half).map { i in
      let exponent = Float(2 * i) / Float(headDim)
      let power = Float(Foundation.pow(theta, Double(exponent)))
      return 1 / power
    }
    for p in 0..<positions {
      for i in 0..<half {
        let angle = Float(p) * freqs[i]
        cos.pointer[p * half + i] = Float(Foundation.cos(Double(angle)))
        sin.pointer[p * half + i] = Float(Foundation.sin(Double(angle)))
      }
    }
  }
}

public enum RoPE {
  /// GPT-NeoX rotate-half (the DiT of MDLM and SEDD) on q and k of every head (v untouched), in place in a fused
  /// [rows, 3·width] projection whose rows are `length`-token sequences: with h = headDim/2 and the tables
  /// cos/sin [length, h] of θ = position·inv_freq, out[:h] = x[:h]·cos θ − x[h:]·sin θ, out[h:] = x[h:]·cos θ + x[:h]·sin θ.
  public static func rotateHalf(
    qkv: UnsafeMutablePointer<Float>, rows: Int, length t: Int, width d: Int, heads: Int, headDim dh: Int,
    cos cs: UnsafePointer<Float>, sin sn: UnsafePointer<Float>
  ) {
    let half = dh / 2
    Parallel.forChunks(of: rows, minimumChunk: 32) { range in
      for r in range {
        let p = r % t
        let c = cs + p * half, s = sn + p * half
        for part in 0..<2 {
          for h in 0..<heads {
            let v = qkv + r * 3 * d + part * d + h * dh
            for k in 0..<half {
              let a = v[k], b = v[k + half]
              v[k] = a * c[k] - b * s[k]
              v[k + half] = b * c[k] + a * s[k]
            }
          }
        }
      }
    }
  }

  /// Rotates, in place, every head of `rows` rows (row r at `x + r·rowStride`, heads of `headDim` contiguous
  /// values starting at column 0) by the angles of table row `position(r)`. `inverse` rotates by the negative
  /// angle, which is the transpose of the rotation: the backward of RoPE applied to a gradient.
  public static func apply(
    _ x: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int, table: RoPETable, inverse: Bool = false,
    position: (Int) -> Int
  ) {
    let half = table.headDim / 2, dh = table.headDim
    let cosT = table.cos.pointer, sinT = table.sin.pointer
    Parallel.forChunks(of: rows, minimumChunk: 64) { range in
      for r in range {
        let p = position(r)
        precondition(p >= 0 && p < table.positions, "RoPE position \(p) is outside the table (\(table.positions))")
        let c = cosT + p * half, s = sinT + p * half
        let row = x + r * rowStride
        for h in 0..<heads {
          let v = row + h * dh
          if inverse {
            for i in 0..<half {
              let a = v[2 * i], b = v[2 * i + 1]
              v[2 * i] = a * c[i] + b * s[i]
              v[2 * i + 1] = b * c[i] - a * s[i]
            }
          } else {
            for i in 0..<half {
              let a = v[2 * i], b = v[2 * i + 1]
              v[2 * i] = a * c[i] - b * s[i]
              v[2 * i + 1] = a * s[i] + b * c[i]
            }
          }
        }
      }
    }
  }
}
