import Foundation
import LTMTensor

/// Decoding state of the LTM decoder for a batch of sequences, each with its own latent z.
///
/// Self-attention is a sliding window of W keys, so each (row, head) keeps only the last W keys and values, in a
/// ring ([batch, heads, W, headDim] per layer; position p lives in slot p mod W): memory and per-token cost stay
/// O(W) however long the continuation. Keys are stored already RoPE-rotated at their absolute positions.
/// The cross-attention keys and values depend on z only: they are projected (and rotated at the latent positions)
/// once per layer when the cache is made ([batch, latentsPerLayer, 2·dim] per layer) and reused at every step.
public final class LTMKVCache {
  public let batch: Int
  let window: Int
  let heads: Int, headDim: Int
  let keys: [FloatBuffer]
  let values: [FloatBuffer]
  /// Cross-attention keys (columns 0..<d) and values (d..<2d) of every layer, per row.
  let latentKV: [FloatBuffer]
  /// Tokens decoded so far per row (the next token's position).
  public internal(set) var lengths: [Int]

  init(batch: Int, window: Int, layers: Int, heads: Int, headDim: Int, latentRows: Int, dim: Int) {
    self.batch = batch
    self.window = window
    self.heads = heads
    self.headDim = headDim
    let size = batch * heads * window * headDim
    keys = (0..<layers).map { _ in FloatBuffer(count: size) }
    values = (0..<layers).map { _ in FloatBuffer(count: size) }
    latentKV = (0..<layers).map { _ in FloatBuffer(count: batch * latentRows * 2 * dim) }
    lengths = [Int](repeating: 0, count: batch)
  }

  /// Start of (row, head)'s [window, headDim] ring.
  @inline(__always)
  func offset(row: Int, head: Int) -> Int { (row * heads + head) * window * headDim }
}

extension LTMModel {
  /// An empty cache for one sequence per entry of `latents` (each [N_z · dim], row-major [N_z, dim]); the
  /// cross-attention keys and values of every layer are computed here, once.
  public func makeCache(latents: [[Float]]) throws -> LTMKVCache {
    guard !latents.isEmpty else { throw ModelError.badInput("a decoding batch needs at least one row") }
    try checkLatents(latents.flatMap { $0 }, blocks: latents.count)
    let a = args, d = a.dim, m = a.latentsPerLayer, b = latents.count
    let cache = LTMKVCache(
      batch: b, window: a.windowSize, layers: a.nLayers, heads: a.nHeads, headDim: a.headDim, latentRows: m, dim: d)
    for (l, w) in layers.enumerated() {
      let kvz = cache.latentKV[l].pointer
      for (row, z) in latents.enumerated() {
        z.withUnsafeBufferPointer { zp in
          BLAS.gemm(transB: true, m: m, n: 2 * d, k: d, a: zp.baseAddress! + l * m * d, lda: d, b: w.crossKV.pointer, ldb: d,
                    c: kvz + row * m * 2 * d, ldc: 2 * d)
        }
      }
      if a.useZPosEmb {
        RoPE.apply(kvz, rows: b * m, rowStride: 2 * d, heads: a.nHeads, table: rope) { ($0 % m) * a.latentPositionInterval }
      }
    }
    return cache
  }

  /// Appends `tokens[b]` to row b (any number per row; 0 leaves the row as it is) and returns the next-token logits
  /// after each row's last token, [batch, vocab] row-major (zeros for rows given no tokens).
  ///
  /// The arithmetic is the full forward's (`logits(inputs:z:)`) restricted to the new positions: new row i of
  /// sequence b sits at position p = lengths[b] + i and attends over positions max(0, p−W+1)…p — the older ones
  /// from the ring, the new ones straight from this call's projections — and over the row's latents.
  public func extend(_ cache: LTMKVCache, tokens: [[Int32]]) throws -> [Float] {
    let a = args, d = a.dim, f = a.ffnHiddenDim, h = a.nHeads, dh = a.headDim, m = a.latentsPerLayer, v = a.vocabSize
    let window = cache.window
    guard tokens.count == cache.batch else {
      throw ModelError.badInput("\(tokens.count) token rows for a cache of \(cache.batch)")
    }
    var starts: [Int] = []
    var positions: [Int] = []  // absolute position of every new row
    for (b, t) in tokens.enumerated() {
      guard cache.lengths[b] + t.count <= a.maxSeqLen else {
        throw ModelError.badInput("row \(b) would hold \(cache.lengths[b] + t.count) tokens; the LTM context is \(a.maxSeqLen)")
      }
      for id in t where id < 0 || Int(id) >= v {
        throw ModelError.badInput("token id \(id) is outside the vocabulary (0..<\(v))")
      }
      starts.append(positions.count)
      positions += (0..<t.count).map { cache.lengths[b] + $0 }
    }
    let rows = positions.count
    var logits = [Float](repeating: 0, count: cache.batch * v)
    guard rows > 0 else { return logits }

    let x = FloatBuffer(count: rows * d), normed = FloatBuffer(count: rows * d), delta = FloatBuffer(count: rows * d)
    let qkv = FloatBuffer(count: rows * 3 * d), attended = FloatBuffer(count: rows * d)
    let gu = FloatBuffer(count: rows * 2 * f), hidden = FloatBuffer(count: rows * f)
    var r = 0
    for t in tokens {
      for id in t {
        (x.pointer + r * d).update(from: embedding.pointer + Int(id) * d, count: d)
        r += 1
      }
    }
    let eps = Float(a.normEps)
    let pairs = tokens.indices.flatMap { b in tokens[b].isEmpty ? [] : (0..<h).map { (b, $0) } }
    let scale = 1 / Float(dh).squareRoot()
    for (l, w) in layers.enumerated() {
      // Self-attention over the window.
      RMSNorm.forward(x.pointer, rows: rows, cols: d, gamma: w.attentionNorm.pointer, eps: eps, out: normed.pointer, rstd: nil)
      BLAS.gemm(transB: true, m: rows, n: 3 * d, k: d, a: normed.pointer, lda: d, b: w.qkv.pointer, ldb: d, c: qkv.pointer, ldc: 3 * d)
      RoPE.apply(qkv.pointer, rows: rows, rowStride: 3 * d, heads: 2 * h, table: rope) { positions[$0] }
      let kc = cache.keys[l].pointer, vc = cache.values[l].pointer
      forEachPair(pairs.count) { index, _ in
        let (b, head) = pairs[index]
        let past = cache.lengths[b], count = tokens[b].count
        let first = Swift.max(0, past - window + 1)  // oldest position any new row can see
        let keysN = past + count - first
        let kbuf = UnsafeMutablePointer<Float>.allocate(capacity: 2 * keysN * dh + count * keysN)
        defer { kbuf.deallocate() }
        let vbuf = kbuf + keysN * dh, scores = vbuf + keysN * dh
        let ring = cache.offset(row: b, head: head)
        for p in first..<past {
          let slot = ring + (p % window) * dh
          (kbuf + (p - first) * dh).update(from: kc + slot, count: dh)
          (vbuf + (p - first) * dh).update(from: vc + slot, count: dh)
        }
        for i in 0..<count {
          let src = qkv.pointer + (starts[b] + i) * 3 * d + head * dh
          (kbuf + (past + i - first) * dh).update(from: src + d, count: dh)
          (vbuf + (past + i - first) * dh).update(from: src + 2 * d, count: dh)
        }
        let q = qkv.pointer + starts[b] * 3 * d + head * dh
        BLAS.gemm(transB: true, m: count, n: keysN, k: dh, alpha: scale, a: q, lda: 3 * d, b: kbuf, ldb: dh, c: scores, ldc: keysN)
        for i in 0..<count {
          let p = past + i
          Kernels.softmaxRange(scores + i * keysN, count: keysN, lo: Swift.max(0, p - window + 1) - first, hi: p - first + 1)
        }
        BLAS.gemm(m: count, n: dh, k: keysN, a: scores, lda: keysN, b: vbuf, ldb: dh,
                  c: attended.pointer + starts[b] * d + head * dh, ldc: d)
        // The new keys and values into the ring (only the last W matter).
        for i in Swift.max(0, count - window)..<count {
          let slot = ring + ((past + i) % window) * dh
          (kc + slot).update(from: kbuf + (past + i - first) * dh, count: dh)
          (vc + slot).update(from: vbuf + (past + i - first) * dh, count: dh)
        }
      }
      BLAS.gemm(transB: true, m: rows, n: d, k: d, a: attended.pointer, lda: d, b: w.wo.pointer, ldb: d, c: delta.pointer, ldc: d)
      Kernels.add(delta.pointer, into: x.pointer, count: rows * d)

      // Cross-attention to the row's latents (keys and values from the cache).
      RMSNorm.forward(x.pointer, rows: rows, cols: d, gamma: w.crossNorm.pointer, eps: eps, out: normed.pointer, rstd: nil)
      let qc = qkv.pointer  // reuse: [rows, d] with stride d
      BLAS.gemm(transB: true, m: rows, n: d, k: d, a: normed.pointer, lda: d, b: w.crossQ.pointer, ldb: d, c: qc, ldc: d)
      RoPE.apply(qc, rows: rows, rowStride: d, heads: h, table: rope) { positions[$0] }
      let kvz = cache.latentKV[l].pointer
      forEachPair(pairs.count) { index, _ in
        let (b, head) = pairs[index]
        let count = tokens[b].count
        let probs = UnsafeMutablePointer<Float>.allocate(capacity: count * m)
        defer { probs.deallocate() }
        let kv = kvz + b * m * 2 * d + head * dh
        LTMAttention.crossForward(
          rows: count, latents: m, headDim: dh, q: qc + starts[b] * d + head * dh, ldq: d, k: kv, v: kv + d, ldkv: 2 * d,
          out: attended.pointer + starts[b] * d + head * dh, ldo: d, probs: probs)
      }
      BLAS.gemm(transB: true, m: rows, n: d, k: d, a: attended.pointer, lda: d, b: w.crossO.pointer, ldb: d, c: delta.pointer, ldc: d)
      Kernels.add(delta.pointer, into: x.pointer, count: rows * d)

      // SwiGLU.
      RMSNorm.forward(x.pointer, rows: rows, cols: d, gamma: w.ffnNorm.pointer, eps: eps, out: normed.pointer, rstd: nil)
      BLAS.gemm(transB: true, m: rows, n: 2 * f, k: d, a: normed.pointer, lda: d, b: w.gateUp.pointer, ldb: d, c: gu.pointer, ldc: 2 * f)
      SwiGLU.forward(gu.pointer, rows: rows, hidden: f, out: hidden.pointer)
      BLAS.gemm(transB: true, m: rows, n: d, k: f, a: hidden.pointer, lda: f, b: w.down.pointer, ldb: f, c: delta.pointer, ldc: d)
      Kernels.add(delta.pointer, into: x.pointer, count: rows * d)
    }
    for (b, t) in tokens.enumerated() { cache.lengths[b] += t.count }

    // Final norm and the tied head on each row's last new position only.
    let active = tokens.indices.filter { !tokens[$0].isEmpty }
    let last = FloatBuffer(count: active.count * d)
    for (i, b) in active.enumerated() {
      (last.pointer + i * d).update(from: x.pointer + (starts[b] + tokens[b].count - 1) * d, count: d)
    }
    RMSNorm.forward(last.pointer, rows: active.count, cols: d, gamma: finalNorm.pointer, eps: eps, out: last.pointer, rstd: nil)
    let out = FloatBuffer(count: active.count * v)
    BLAS.gemm(transB: true, m: active.count, n: v, k: d, a: last.pointer, lda: d, b: embedding.pointer, ldb: d, c: out.pointer, ldc: v)
    logits.withUnsafeMutableBufferPointer { lb in
      for (i, b) in active.enumerated() { (lb.baseAddress! + b * v).update(from: out.pointer + i * v, count: v) }
    }
    return logits
  }

  /// Samples `newTokens` continuations of each prompt given its latents (`latents[r]`, [N_z · dim]), all rows as one
  /// batch with the KV cache. Row r draws from the stream seeded `seeds[r]`; a row that emits `stopToken` stops
  /// there (the token is kept). Returns the generated tokens only.
  public func generate(
    prompts: [[Int32]], latents: [[Float]], newTokens: Int, sampling: SamplingSettings, seeds: [UInt64],
    stopToken: Int32? = nil
  ) throws -> [[Int32]] {
    guard !prompts.isEmpty else { return [] }
    guard prompts.allSatisfy({ !$0.isEmpty }) else { throw ModelError.badInput("every prompt needs at least one token (e.g. BOS)") }
    guard latents.count == prompts.count else { throw ModelError.badInput("\(latents.count) latents for \(prompts.count) prompts") }
    guard seeds.count == prompts.count else { throw ModelError.badInput("\(seeds.count) seeds for \(prompts.count) prompts") }
    guard newTokens >= 0 else { throw ModelError.badInput("newTokens must be non-negative") }
    let longest = prompts.map(\.count).max()!
    guard longest + newTokens - 1 <= args.maxSeqLen else {
      throw ModelError.badInput("prompt (\(longest)) + new tokens (\(newTokens)) exceed the LTM context of \(args.maxSeqLen)")
    }
    var sampler = try TokenSampler(settings: sampling, seeds: seeds)
    let cache = try makeCache(latents: latents)
    let vocab = args.vocabSize
    return try sampler.decode(
      rows: prompts.count, vocab: vocab, newTokens: newTokens, stopToken: stopToken,
      firstLogits: extend(cache, tokens: prompts)) { try extend(cache, tokens: $0) }
  }
}
