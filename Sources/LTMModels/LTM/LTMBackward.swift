import Foundation
import LTMTensor

/// Reverse mode from the summed token cross-entropy to the latents z, through every layer, with activation
/// gradients only (no weight gradient is formed). For a linear map y = x·Wᵀ (nn.Linear layout W [out, in]) the
/// input gradient is dy·W: one GEMM per forward GEMM.
///
/// The gradient stops where nothing depends on z: layer 0's self-attention sub-block (its input is the token
/// embedding) and layer 0's cross-attention queries are never differentiated, so layer 0 costs only its FFN, its
/// cross-attention output and the latent projections.
extension LTMModel {
  /// `dHidden`: gradient of the summed CE with respect to the final RMSNorm's output [R, d]. Writes dz
  /// ([B, N_z, d]).
  func backward(_ ws: LTMWorkspace, dHidden: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>) {
    let d = args.dim, f = args.ffnHiddenDim, h = args.nHeads, dh = args.headDim, r = ws.rows, s = ws.length
    let nl = args.nLayers, m = args.latentsPerLayer, nz = args.maxZLen, interval = args.latentPositionInterval
    let dx = ws.dx.pointer, dtmp = ws.dtmp.pointer
    RMSNorm.backward(ws.stream[3 * nl].pointer, rstd: ws.rstdN.pointer, gamma: finalNorm.pointer, dy: dHidden, rows: r, cols: d, dx: dx, accumulate: false)

    for l in stride(from: nl - 1, through: 0, by: -1) {
      let w = layers[l]
      // FFN: x_out = x + down(silu(G) ∘ U).
      BLAS.gemm(m: r, n: f, k: d, a: dx, lda: d, b: w.down.pointer, ldb: f, c: ws.dhid.pointer, ldc: f)
      SwiGLU.backward(ws.gu[l].pointer, dHidden: ws.dhid.pointer, rows: r, hidden: f, dgu: ws.dgu.pointer)
      BLAS.gemm(m: r, n: d, k: 2 * f, a: ws.dgu.pointer, lda: 2 * f, b: w.gateUp.pointer, ldb: d, c: dtmp, ldc: d)
      RMSNorm.backward(ws.stream[3 * l + 2].pointer, rstd: ws.rstdF[l].pointer, gamma: w.ffnNorm.pointer, dy: dtmp, rows: r, cols: d, dx: dx, accumulate: true)

      // Cross-attention: dO_c = dx · Wo_c; per (block, head) into dQ_c (ws.attn) and dK_z, dV_z (ws.dkvz).
      BLAS.gemm(m: r, n: d, k: d, a: dx, lda: d, b: w.crossO.pointer, ldb: d, c: dtmp, ldc: d)
      let qc = ws.qc[l].pointer, kvz = ws.kvz[l].pointer, probs = ws.crossProbs[l].pointer
      let dq = ws.attn.pointer, dkvz = ws.dkvz.pointer
      let needQuery = l > 0
      forEachPair(ws.blocks * h, maxWorkers: ws.scratch.count) { pair, worker in
        let b = pair / h, head = pair % h
        let kv = kvz + b * m * 2 * d + head * dh, dkv = dkvz + b * m * 2 * d + head * dh
        LTMAttention.crossBackward(
          rows: s, latents: m, headDim: dh, q: qc + b * s * d + head * dh, ldq: d, k: kv, v: kv + d, ldkv: 2 * d,
          probs: probs + pair * s * m, dOut: dtmp + b * s * d + head * dh, lddo: d,
          dq: needQuery ? dq + b * s * d + head * dh : nil, lddq: d, dk: dkv, dv: dkv + d, lddkv: 2 * d,
          scratch: ws.scratch[worker].pointer)
      }
      if args.useZPosEmb {
        RoPE.apply(dkvz, rows: ws.blocks * m, rowStride: 2 * d, heads: h, table: rope, inverse: true) { ($0 % m) * interval }
      }
      for b in 0..<ws.blocks {
        BLAS.gemm(m: m, n: d, k: 2 * d, a: dkvz + b * m * 2 * d, lda: 2 * d, b: w.crossKV.pointer, ldb: d, c: dz + (b * nz + l * m) * d, ldc: d)
      }
      if l == 0 { break }
      RoPE.apply(dq, rows: r, rowStride: d, heads: h, table: rope, inverse: true) { $0 % s }
      BLAS.gemm(m: r, n: d, k: d, a: dq, lda: d, b: w.crossQ.pointer, ldb: d, c: dtmp, ldc: d)
      RMSNorm.backward(ws.stream[3 * l + 1].pointer, rstd: ws.rstdC[l].pointer, gamma: w.crossNorm.pointer, dy: dtmp, rows: r, cols: d, dx: dx, accumulate: true)

      // Self-attention: dO = dx · Wo; window backward into dQKV; un-rotate dQ, dK; through Wqkv.
      BLAS.gemm(m: r, n: d, k: d, a: dx, lda: d, b: w.wo.pointer, ldb: d, c: dtmp, ldc: d)
      let qkv = ws.qkv[l].pointer, sprobs = ws.probs[l].pointer, dqkv = ws.dqkv.pointer, g = ws.window
      dqkv.update(repeating: 0, count: r * 3 * d)
      forEachPair(ws.blocks * h, maxWorkers: ws.scratch.count) { pair, worker in
        let b = pair / h, head = pair % h
        let base = qkv + b * s * 3 * d + head * dh, dbase = dqkv + b * s * 3 * d + head * dh
        LTMAttention.windowBackward(
          g, q: base, k: base + d, v: base + 2 * d, ld: 3 * d, probs: sprobs + pair * g.probsPerHead,
          dOut: dtmp + b * s * d + head * dh, lddo: d, dq: dbase, dk: dbase + d, dv: dbase + 2 * d, ldd: 3 * d,
          scratch: ws.scratch[worker].pointer)
      }
      RoPE.apply(dqkv, rows: r, rowStride: 3 * d, heads: 2 * h, table: rope, inverse: true) { $0 % s }
      BLAS.gemm(m: r, n: d, k: 3 * d, a: dqkv, lda: 3 * d, b: w.qkv.pointer, ldb: d, c: ws.attn.pointer, ldc: d)
      RMSNorm.backward(ws.stream[3 * l].pointer, rstd: ws.rstdA[l].pointer, gamma: w.attentionNorm.pointer, dy: ws.attn.pointer, rows: r, cols: d, dx: dx, accumulate: true)
    }
  }
}
