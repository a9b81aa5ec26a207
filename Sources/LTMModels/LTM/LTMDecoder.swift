import Foundation
import LTMTensor

/// Buffers for one batch shape (B blocks of S input positions, R = B·S rows). With `saving`, every layer keeps the
/// activations its backward needs; otherwise the per-layer buffers alias one set (forward-only scoring).
///
/// Residual stream: `stream[3l]` is the input of layer l, `stream[3l+1]` the stream after its self-attention,
/// `stream[3l+2]` after its cross-attention, `stream[3L]` the final hidden state before the last RMSNorm.
/// `stream[1]` (after layer 0's self-attention) does not depend on z: `prepare` computes it once per batch and
/// every fast-loop step starts from it.
final class LTMWorkspace {
  let blocks: Int, length: Int, rows: Int
  let saving: Bool
  let window: LTMAttention.Window
  let inputs: [Int32]  // R input ids
  let targets: [Int32]  // R target ids
  let stream: [FloatBuffer]
  let rstdA, rstdC, rstdF: [FloatBuffer]
  let rstdN: FloatBuffer
  let qkv, probs, qc, kvz, crossProbs, gu: [FloatBuffer]
  let normed, attn, delta, hidden: FloatBuffer
  let logits: FloatBuffer
  /// Per-row cross-entropy of the last forward.
  let tokenNLL: FloatBuffer
  // Backward only (allocated when saving).
  let dx, dtmp, dqkv, dhid, dgu, dkvz: FloatBuffer
  let scratch: [FloatBuffer]
  var prepared = false

  static let headRows = 128

  init(model: LTMModel, blocks: [[Int32]], length s: Int, saving: Bool) {
    let a = model.args
    let d = a.dim, f = a.ffnHiddenDim, h = a.nHeads, m = a.latentsPerLayer, nl = a.nLayers
    self.blocks = blocks.count
    length = s
    rows = blocks.count * s
    self.saving = saving
    let r = rows
    window = LTMAttention.Window(length: s, window: a.windowSize, headDim: a.headDim)
    var inputs: [Int32] = [], targets: [Int32] = []
    inputs.reserveCapacity(r)
    targets.reserveCapacity(r)
    for b in blocks {
      inputs += b[0..<s]
      targets += b[1...s]
    }
    self.inputs = inputs
    self.targets = targets

    func perLayer(_ n: Int) -> [FloatBuffer] {
      if saving { return (0..<nl).map { _ in FloatBuffer(count: n) } }
      let shared = FloatBuffer(count: n)
      return Array(repeating: shared, count: nl)
    }
    // stream[0] (embeddings) and stream[1] (the z-independent base) are always distinct buffers.
    var st = [FloatBuffer(count: r * d), FloatBuffer(count: r * d)]
    if saving {
      for _ in 2...(3 * nl) { st.append(FloatBuffer(count: r * d)) }
    } else {
      let shared = FloatBuffer(count: r * d)
      for _ in 2...(3 * nl) { st.append(shared) }
    }
    stream = st
    rstdA = perLayer(r)
    rstdC = perLayer(r)
    rstdF = perLayer(r)
    rstdN = FloatBuffer(count: r)
    // Layer 0's self-attention runs once per batch and is never differentiated: it borrows the last layer's buffers.
    var q = perLayer(r * 3 * d), p = perLayer(self.blocks * h * window.probsPerHead)
    if saving && nl > 1 {
      q[0] = q[nl - 1]
      p[0] = p[nl - 1]
    }
    qkv = q
    probs = p
    qc = perLayer(r * d)
    kvz = perLayer(self.blocks * m * 2 * d)
    crossProbs = perLayer(self.blocks * h * s * m)
    gu = perLayer(r * 2 * f)
    normed = FloatBuffer(count: r * d)
    attn = FloatBuffer(count: r * d)
    delta = FloatBuffer(count: r * d)
    hidden = FloatBuffer(count: r * f)
    logits = FloatBuffer(count: Swift.min(Self.headRows, r) * a.vocabSize)
    tokenNLL = FloatBuffer(count: r)
    let b = saving ? 1 : 0
    dx = FloatBuffer(count: b * r * d)
    dtmp = FloatBuffer(count: b * r * d)
    dqkv = FloatBuffer(count: b * r * 3 * d)
    dhid = FloatBuffer(count: b * r * f)
    dgu = FloatBuffer(count: b * r * 2 * f)
    dkvz = FloatBuffer(count: b * self.blocks * m * 2 * d)
    let scratchSize = Swift.max(window.tile * window.maxKeys, s * m)
    scratch = (0..<Swift.max(1, Parallel.threads)).map { _ in FloatBuffer(count: b * scratchSize) }
  }

  /// Σ of the token NLLs of each block, in Double.
  func blockNLL() -> [Double] {
    (0..<blocks).map { b in
      var s = 0.0
      for i in 0..<length { s += Double(tokenNLL.pointer[b * length + i]) }
      return s
    }
  }
}

extension LTMModel {
  // MARK: - Forward

  /// Embeddings and layer 0's self-attention (z-independent) into `stream[1]`.
  func prepare(_ ws: LTMWorkspace) {
    let d = args.dim
    let x = ws.stream[0].pointer
    for (r, id) in ws.inputs.enumerated() {
      (x + r * d).update(from: embedding.pointer + Int(id) * d, count: d)
    }
    selfAttention(ws, layer: 0, input: x, output: ws.stream[1].pointer)
    ws.prepared = true
  }

  /// Runs the decoder from `stream[1]` with latents `z` ([B, N_z, d]), writes each row's cross-entropy into
  /// `ws.tokenNLL`, and, with `dz`, back-propagates the summed cross-entropy into dz ([B, N_z, d], overwritten).
  func forward(_ ws: LTMWorkspace, z: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>?) {
    precondition(ws.prepared, "LTMWorkspace used before prepare")
    precondition(dz == nil || ws.saving, "a gradient needs a saving workspace")
    let nl = args.nLayers
    for l in 0..<nl {
      if l > 0 { selfAttention(ws, layer: l, input: ws.stream[3 * l].pointer, output: ws.stream[3 * l + 1].pointer) }
      crossAttention(ws, layer: l, z: z, input: ws.stream[3 * l + 1].pointer, output: ws.stream[3 * l + 2].pointer)
      feedForward(ws, layer: l, input: ws.stream[3 * l + 2].pointer, output: ws.stream[3 * l + 3].pointer)
    }
    let final = ws.stream[3 * nl].pointer
    RMSNorm.forward(final, rows: ws.rows, cols: args.dim, gamma: finalNorm.pointer, eps: Float(args.normEps), out: ws.normed.pointer, rstd: ws.rstdN.pointer)
    outputHead(ws, hidden: ws.normed.pointer, dHidden: dz == nil ? nil : ws.dtmp.pointer)
    if let dz { backward(ws, dHidden: ws.dtmp.pointer, dz: dz) }
  }

  /// x_out = x + Wo · WindowAttention(RoPE(Wq·n), RoPE(Wk·n), Wv·n), n = RMSNorm_a(x).
  func selfAttention(_ ws: LTMWorkspace, layer l: Int, input x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    let w = layers[l], d = args.dim, h = args.nHeads, dh = args.headDim, r = ws.rows, s = ws.length
    RMSNorm.forward(x, rows: r, cols: d, gamma: w.attentionNorm.pointer, eps: Float(args.normEps), out: ws.normed.pointer, rstd: ws.rstdA[l].pointer)
    let qkv = ws.qkv[l].pointer
    BLAS.gemm(transB: true, m: r, n: 3 * d, k: d, a: ws.normed.pointer, lda: d, b: w.qkv.pointer, ldb: d, c: qkv, ldc: 3 * d)
    // Q and K are adjacent: 2·H heads rotated at the token positions.
    RoPE.apply(qkv, rows: r, rowStride: 3 * d, heads: 2 * h, table: rope) { $0 % s }
    let g = ws.window, probs = ws.probs[l].pointer, out = ws.attn.pointer
    forEachPair(ws.blocks * h) { pair, _ in
      let b = pair / h, head = pair % h
      let base = qkv + b * s * 3 * d + head * dh
      LTMAttention.windowForward(
        g, q: base, k: base + d, v: base + 2 * d, ld: 3 * d, out: out + b * s * d + head * dh, ldo: d,
        probs: probs + pair * g.probsPerHead)
    }
    BLAS.gemm(transB: true, m: r, n: d, k: d, a: out, lda: d, b: w.wo.pointer, ldb: d, c: ws.delta.pointer, ldc: d)
    Kernels.add(x, ws.delta.pointer, out: output, count: r * d)
  }

  /// x_out = x + Wo_c · Attention(RoPE(Wq_c·n) at token positions, RoPE(Wk_c·z_l) at latent positions, Wv_c·z_l),
  /// n = RMSNorm_c(x), z_l = latents l·m ..< (l+1)·m of each block.
  func crossAttention(
    _ ws: LTMWorkspace, layer l: Int, z: UnsafePointer<Float>, input x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
  ) {
    let w = layers[l], d = args.dim, h = args.nHeads, dh = args.headDim, r = ws.rows, s = ws.length
    let m = args.latentsPerLayer, nz = args.maxZLen, interval = args.latentPositionInterval
    RMSNorm.forward(x, rows: r, cols: d, gamma: w.crossNorm.pointer, eps: Float(args.normEps), out: ws.normed.pointer, rstd: ws.rstdC[l].pointer)
    let qc = ws.qc[l].pointer, kvz = ws.kvz[l].pointer
    BLAS.gemm(transB: true, m: r, n: d, k: d, a: ws.normed.pointer, lda: d, b: w.crossQ.pointer, ldb: d, c: qc, ldc: d)
    RoPE.apply(qc, rows: r, rowStride: d, heads: h, table: rope) { $0 % s }
    for b in 0..<ws.blocks {
      BLAS.gemm(transB: true, m: m, n: 2 * d, k: d, a: z + (b * nz + l * m) * d, lda: d, b: w.crossKV.pointer, ldb: d, c: kvz + b * m * 2 * d, ldc: 2 * d)
    }
    if args.useZPosEmb {
      RoPE.apply(kvz, rows: ws.blocks * m, rowStride: 2 * d, heads: h, table: rope) { ($0 % m) * interval }
    }
    let probs = ws.crossProbs[l].pointer, out = ws.attn.pointer
    forEachPair(ws.blocks * h) { pair, _ in
      let b = pair / h, head = pair % h
      let kv = kvz + b * m * 2 * d + head * dh
      LTMAttention.crossForward(
        rows: s, latents: m, headDim: dh, q: qc + b * s * d + head * dh, ldq: d, k: kv, v: kv + d, ldkv: 2 * d,
        out: out + b * s * d + head * dh, ldo: d, probs: probs + pair * s * m)
    }
    BLAS.gemm(transB: true, m: r, n: d, k: d, a: out, lda: d, b: w.crossO.pointer, ldb: d, c: ws.delta.pointer, ldc: d)
    Kernels.add(x, ws.delta.pointer, out: output, count: r * d)
  }

  /// x_out = x + down(silu(gate·n) ∘ up·n), n = RMSNorm_f(x).
  func feedForward(_ ws: LTMWorkspace, layer l: Int, input x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    let w = layers[l], d = args.dim, f = args.ffnHiddenDim, r = ws.rows
    RMSNorm.forward(x, rows: r, cols: d, gamma: w.ffnNorm.pointer, eps: Float(args.normEps), out: ws.normed.pointer, rstd: ws.rstdF[l].pointer)
    let gu = ws.gu[l].pointer
    BLAS.gemm(transB: true, m: r, n: 2 * f, k: d, a: ws.normed.pointer, lda: d, b: w.gateUp.pointer, ldb: d, c: gu, ldc: 2 * f)
    SwiGLU.forward(gu, rows: r, hidden: f, out: ws.hidden.pointer)
    BLAS.gemm(transB: true, m: r, n: d, k: f, a: ws.hidden.pointer, lda: f, b: w.down.pointer, ldb: f, c: ws.delta.pointer, ldc: d)
    Kernels.add(x, ws.delta.pointer, out: output, count: r * d)
  }

  /// Tied output and next-token cross-entropy, `headRows` rows at a time (the [R, vocab] logits are never whole).
  /// With `dHidden`, the CE gradient (softmax − one-hot) is formed in place and multiplied back through the
  /// embedding right away: dHidden[rows] = dlogits · E.
  func outputHead(_ ws: LTMWorkspace, hidden: UnsafePointer<Float>, dHidden: UnsafeMutablePointer<Float>?) {
    let d = args.dim, v = args.vocabSize, chunk = LTMWorkspace.headRows
    let logits = ws.logits.pointer, nll = ws.tokenNLL.pointer
    ws.targets.withUnsafeBufferPointer { tgt in
      let targets = tgt.baseAddress!
      for r0 in stride(from: 0, to: ws.rows, by: chunk) {
        let rows = Swift.min(chunk, ws.rows - r0)
        BLAS.gemm(transB: true, m: rows, n: v, k: d, a: hidden + r0 * d, lda: d, b: embedding.pointer, ldb: d, c: logits, ldc: v)
        Parallel.forChunks(of: rows, minimumChunk: 4) { range in
          for i in range {
            let row = logits + i * v
            let t = Int(targets[r0 + i])
            let m = VectorMath.max(row, count: v)
            let xt = row[t]
            if dHidden == nil {
              let sum = VectorMath.sumExpShifted(row, shift: m, count: v)
              nll[r0 + i] = Float(Double(m) + Foundation.log(sum) - Double(xt))
            } else {
              let sum = VectorMath.expShifted(row, shift: m, count: v, out: row)
              nll[r0 + i] = Float(Double(m) + Foundation.log(sum) - Double(xt))
              Self.scale(row, by: Float(1 / sum), count: v)
              row[t] -= 1
            }
          }
        }
        if let dHidden {
          BLAS.gemm(m: rows, n: d, k: v, a: logits, lda: v, b: embedding.pointer, ldb: d, c: dHidden + r0 * d, ldc: d)
        }
      }
    }
  }

  // MARK: - Helpers


  @inline(__always)
  static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
    var i = 0
    let sv = VectorMath.V(repeating: s)
    while i + 8 <= count {
      VectorMath.store(VectorMath.load(x + i) * sv, x + i)
      i += 8
    }
    while i < count {
      x[i] *= s
      i += 1
    }
  }

  /// Runs `body(pair, worker)` for pair in 0..<count on the `Parallel` threads, with single-threaded BLAS inside.
  func forEachPair(_ count: Int, maxWorkers: Int = .max, _ body: (Int, Int) -> Void) {
    let workers = Swift.max(1, Swift.min(Parallel.threads, count, maxWorkers))
    if workers == 1 {
      BLAS.withSingleThreadedCalls { for p in 0..<count { body(p, 0) } }
      return
    }
    BLAS.withSingleThreadedCalls {
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        for p in stride(from: w, to: count, by: workers) { body(p, w) }
      }
    }
  }

  // MARK: - Public forward API

  /// Logits [S, vocab] for the input tokens `inputs` (S ≤ max_seq_len) at latents `z` ([N_z, dim] flattened).
  /// For parity tests and generation; scoring never materialises the logits.
  public func logits(inputs: [Int32], z: [Float]) throws -> [Float] {
    _ = try inputLength([inputs + [0]])
    try checkLatents(z, blocks: 1)
    let ws = LTMWorkspace(model: self, blocks: [inputs + [0]], length: inputs.count, saving: false)
    prepare(ws)
    z.withUnsafeBufferPointer { forward(ws, z: $0.baseAddress!, dz: nil) }
    let s = inputs.count, v = args.vocabSize, d = args.dim
    var out = [Float](repeating: 0, count: s * v)
    out.withUnsafeMutableBufferPointer { o in
      BLAS.gemm(transB: true, m: s, n: v, k: d, a: ws.normed.pointer, lda: d, b: embedding.pointer, ldb: d, c: o.baseAddress!, ldc: v)
    }
    return out
  }

  /// Per-token cross-entropy of tokens[1...] given tokens[..<S] and latents z (one [N_z·dim] array per block).
  public func tokenNLL(blocks: [[Int32]], z: [[Float]]) throws -> [[Float]] {
    let s = try inputLength(blocks)
    guard z.count == blocks.count else { throw ModelError.badInput("\(z.count) latent arrays for \(blocks.count) blocks") }
    let flat = z.flatMap { $0 }
    try checkLatents(flat, blocks: blocks.count)
    let ws = LTMWorkspace(model: self, blocks: blocks, length: s, saving: false)
    prepare(ws)
    flat.withUnsafeBufferPointer { forward(ws, z: $0.baseAddress!, dz: nil) }
    return (0..<blocks.count).map { b in Array(UnsafeBufferPointer(start: ws.tokenNLL.pointer + b * s, count: s)) }
  }

  func checkLatents(_ z: [Float], blocks: Int) throws {
    let n = args.maxZLen * args.dim
    guard z.count == blocks * n else {
      throw ModelError.badInput("latents have \(z.count) values, expected \(blocks) × N_z \(args.maxZLen) × dim \(args.dim)")
    }
  }
}
