import Foundation
import LTMTensor

/// The two attention kernels of the LTM decoder, for one (block, head) at a time, with their backward passes.
/// Queries/keys/values are read in place from strided buffers (a head is `headDim` contiguous columns of a row), so
/// nothing is gathered; every product is a single-threaded `BLAS.gemm` (callers run (block, head) pairs on all
/// threads).
enum LTMAttention {
  /// Sliding-window causal self-attention geometry: query i attends to keys max(0, i−W+1)…i.
  ///
  /// Queries are processed in tiles of `tile` rows; a tile starting at r0 multiplies against keys
  /// max(0, r0−W+1) ..< r0+rows only, so the cost is ∝ S·(W + tile) instead of S². The softmax probabilities of
  /// every tile are kept (`probsPerHead` floats per (block, head)) for the backward.
  struct Window {
    let length: Int  // S
    let window: Int  // W
    let tile: Int
    let headDim: Int
    let scale: Float

    init(length: Int, window: Int, headDim: Int) {
      self.length = length
      self.window = window
      self.headDim = headDim
      tile = Swift.max(1, Swift.min(length, 64, Swift.max(16, window)))
      scale = 1 / Float(headDim).squareRoot()
    }

    /// Widest key range of a tile.
    var maxKeys: Int { Swift.min(length, tile + window - 1) }
    var tiles: Int { (length + tile - 1) / tile }
    var probsPerHead: Int { tiles * tile * maxKeys }

    /// Rows, first key and key count of tile t.
    @inline(__always)
    func tileRange(_ t: Int) -> (r0: Int, rows: Int, k0: Int, keys: Int) {
      let r0 = t * tile
      let rows = Swift.min(tile, length - r0)
      let k0 = Swift.max(0, r0 - window + 1)
      return (r0, rows, k0, r0 + rows - k0)
    }
  }

  /// O = softmax(Q·Kᵀ·scale + window mask)·V for one (block, head). `q`, `k`, `v` rows are `ld` apart; `out`
  /// rows `ldo` apart. `probs` receives the tiles' probabilities (row-major [rows, keys] per tile, tile t at
  /// t·tile·maxKeys).
  static func windowForward(
    _ g: Window, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
    out: UnsafeMutablePointer<Float>, ldo: Int, probs: UnsafeMutablePointer<Float>
  ) {
    for t in 0..<g.tiles {
      let (r0, rows, k0, keys) = g.tileRange(t)
      let p = probs + t * g.tile * g.maxKeys
      BLAS.gemm(transB: true, m: rows, n: keys, k: g.headDim, alpha: g.scale, a: q + r0 * ld, lda: ld, b: k + k0 * ld, ldb: ld, c: p, ldc: keys)
      for i in 0..<rows {
        let pos = r0 + i
        let lo = Swift.max(0, pos - g.window + 1) - k0, hi = pos - k0 + 1
        Kernels.softmaxRange(p + i * keys, count: keys, lo: lo, hi: hi)
      }
      BLAS.gemm(m: rows, n: g.headDim, k: keys, a: p, lda: keys, b: v + k0 * ld, ldb: ld, c: out + r0 * ldo, ldc: ldo)
    }
  }

  /// Backward of `windowForward` for one (block, head): given dO (rows `lddo` apart), writes dQ and accumulates
  /// dK, dV (rows `ldd` apart; dK and dV must be zeroed by the caller, as overlapping tiles add into them).
  /// `scratch` holds tile·maxKeys floats.
  static func windowBackward(
    _ g: Window, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
    probs: UnsafePointer<Float>, dOut: UnsafePointer<Float>, lddo: Int,
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, ldd: Int,
    scratch: UnsafeMutablePointer<Float>
  ) {
    for t in 0..<g.tiles {
      let (r0, rows, k0, keys) = g.tileRange(t)
      let p = probs + t * g.tile * g.maxKeys
      let dO = dOut + r0 * lddo
      // dP = dO · Vᵀ, then dS = P ∘ (dP − rowsum(P ∘ dP)) (masked entries have P = 0, so dS = 0 there).
      BLAS.gemm(transB: true, m: rows, n: keys, k: g.headDim, a: dO, lda: lddo, b: v + k0 * ld, ldb: ld, c: scratch, ldc: keys)
      for i in 0..<rows {
        let pos = r0 + i
        let lo = Swift.max(0, pos - g.window + 1) - k0, hi = pos - k0 + 1
        Kernels.softmaxBackwardRange(p: p + i * keys, dp: scratch + i * keys, count: keys, lo: lo, hi: hi)
      }
      // dQ = scale · dS · K;  dK += scale · dSᵀ · Q;  dV += Pᵀ · dO.
      BLAS.gemm(m: rows, n: g.headDim, k: keys, alpha: g.scale, a: scratch, lda: keys, b: k + k0 * ld, ldb: ld, c: dq + r0 * ldd, ldc: ldd)
      BLAS.gemm(transA: true, m: keys, n: g.headDim, k: rows, alpha: g.scale, a: scratch, lda: keys, b: q + r0 * ld, ldb: ld, beta: 1, c: dk + k0 * ldd, ldc: ldd)
      BLAS.gemm(transA: true, m: keys, n: g.headDim, k: rows, a: p, lda: keys, b: dO, ldb: lddo, beta: 1, c: dv + k0 * ldd, ldc: ldd)
    }
  }

  /// Cross-attention for one (block, head): `rows` queries against `latents` keys/values, no mask.
  /// probs: [rows, latents].
  static func crossForward(
    rows: Int, latents: Int, headDim: Int, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>,
    v: UnsafePointer<Float>, ldkv: Int, out: UnsafeMutablePointer<Float>, ldo: Int, probs: UnsafeMutablePointer<Float>
  ) {
    let scale = 1 / Float(headDim).squareRoot()
    BLAS.gemm(transB: true, m: rows, n: latents, k: headDim, alpha: scale, a: q, lda: ldq, b: k, ldb: ldkv, c: probs, ldc: latents)
    for i in 0..<rows { Kernels.softmaxRange(probs + i * latents, count: latents, lo: 0, hi: latents) }
    BLAS.gemm(m: rows, n: headDim, k: latents, a: probs, lda: latents, b: v, ldb: ldkv, c: out, ldc: ldo)
  }

  /// Backward of `crossForward`: writes dQ (rows `ldq` apart) and dK, dV ([latents, headDim], rows `lddkv` apart).
  /// `scratch` holds rows·latents floats.
  static func crossBackward(
    rows: Int, latents: Int, headDim: Int, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>,
    v: UnsafePointer<Float>, ldkv: Int, probs: UnsafePointer<Float>, dOut: UnsafePointer<Float>, lddo: Int,
    dq: UnsafeMutablePointer<Float>?, lddq: Int, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, lddkv: Int,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let scale = 1 / Float(headDim).squareRoot()
    BLAS.gemm(transB: true, m: rows, n: latents, k: headDim, a: dOut, lda: lddo, b: v, ldb: ldkv, c: scratch, ldc: latents)
    for i in 0..<rows {
      Kernels.softmaxBackwardRange(p: probs + i * latents, dp: scratch + i * latents, count: latents, lo: 0, hi: latents)
    }
    if let dq {
      BLAS.gemm(m: rows, n: headDim, k: latents, alpha: scale, a: scratch, lda: latents, b: k, ldb: ldkv, c: dq, ldc: lddq)
    }
    BLAS.gemm(transA: true, m: latents, n: headDim, k: rows, alpha: scale, a: scratch, lda: latents, b: q, ldb: ldq, c: dk, ldc: lddkv)
    BLAS.gemm(transA: true, m: latents, n: headDim, k: rows, a: probs, lda: latents, b: dOut, ldb: lddo, c: dv, ldc: lddkv)
  }
}
