import Dispatch
import LTMTensor

/// softmax(Q·Kᵀ·scale [+ causal mask])·V for every (block, head), reading Q, K, V in place from a fused projection
/// [blocks·T, 3d] (row stride 3d, so nothing is copied) and writing heads interleaved into `out` [blocks·T, d].
///
/// Queries run in tiles of `GPT2Model.attentionTile` rows. Under the causal mask a tile multiplies only against the
/// keys up to its last row, so the masked upper triangle is never computed. (Block, head) pairs run on the
/// `Parallel` threads with single-threaded GEMMs: each product is small (≤ 256×1024×64), and one thread per pair
/// beats splitting every small GEMM across threads. The softmax's 1/Σ is applied to P·V's output rows (head-size
/// wide) rather than to the scores (keys wide). Shared by GPT-2 (causal) and the MDLM DiT (bidirectional).
enum FusedQKVAttention {
  static func run(
    qkv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, blocks: Int, length t: Int, width d: Int,
    heads: Int, scale: Float, causal: Bool, scratch: [FloatBuffer]
  ) {
    let dh = d / heads
    let tile = Swift.min(GPT2Model.attentionTile, t)
    let pairs = blocks * heads
    let workers = Swift.min(scratch.count, pairs)
    BLAS.withSingleThreadedCalls {
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let scores = scratch[w].pointer
        let inverseSums = UnsafeMutablePointer<Float>.allocate(capacity: tile)
        defer { inverseSums.deallocate() }
        for pair in stride(from: w, to: pairs, by: workers) {
          let b = pair / heads, h = pair % heads
          let base = qkv + b * t * 3 * d + h * dh
          let q = base, k = base + d, v = base + 2 * d
          for r0 in stride(from: 0, to: t, by: tile) {
            let r = Swift.min(tile, t - r0), keys = causal ? r0 + r : t
            BLAS.gemm(transB: true, m: r, n: keys, k: dh, alpha: scale, a: q + r0 * 3 * d, lda: 3 * d, b: k, ldb: 3 * d, c: scores, ldc: keys)
            Kernels.expRows(scores, rows: r, cols: keys, stride: keys, inverseSums: inverseSums) { causal ? r0 + $0 + 1 : keys }
            let o = out + (b * t + r0) * d + h * dh
            BLAS.gemm(m: r, n: dh, k: keys, a: scores, lda: keys, b: v, ldb: 3 * d, c: o, ldc: d)
            Kernels.scaleRows(o, rows: r, cols: dh, stride: d, by: inverseSums)
          }
        }
      }
    }
  }
}
