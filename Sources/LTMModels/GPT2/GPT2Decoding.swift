import Dispatch
import Foundation
import LTMTensor

/// Keys and values of every layer for a batch of sequences, so each new token costs one row of projections and one
/// attention row instead of a full forward over the prefix.
///
/// Layout per layer: [batch, heads, capacity, headSize], so the keys one (row, head) attends over are contiguous and
/// feed a GEMM directly. Rows may have different lengths (ragged prompts); each row's length is tracked.
public final class GPT2KVCache {
  public let batch: Int
  /// Tokens each row can hold (≤ the model's context length).
  public let capacity: Int
  let heads: Int, headSize: Int
  let keys: [FloatBuffer]
  let values: [FloatBuffer]
  /// Tokens held per row.
  public internal(set) var lengths: [Int]

  init(batch: Int, capacity: Int, layers: Int, heads: Int, headSize: Int) {
    self.batch = batch
    self.capacity = capacity
    self.heads = heads
    self.headSize = headSize
    let size = batch * heads * capacity * headSize
    keys = (0..<layers).map { _ in FloatBuffer(count: size) }
    values = (0..<layers).map { _ in FloatBuffer(count: size) }
    lengths = [Int](repeating: 0, count: batch)
  }

  /// Start of (row, head)'s [capacity, headSize] block.
  @inline(__always)
  func offset(row: Int, head: Int) -> Int { (row * heads + head) * capacity * headSize }
}

extension GPT2Model {
  /// An empty cache for `batch` sequences of up to `capacity` tokens each.
  public func makeCache(batch: Int, capacity: Int) throws -> GPT2KVCache {
    guard batch >= 1 else { throw ModelError.badInput("a decoding batch needs at least one row") }
    guard (1...config.nPositions).contains(capacity) else {
      throw ModelError.badInput("cache capacity \(capacity) is outside 1...\(config.nPositions)")
    }
    return GPT2KVCache(batch: batch, capacity: capacity, layers: config.nLayer, heads: config.nHead, headSize: config.headSize)
  }

  /// Appends `tokens[b]` to row b of the cache (any number per row, 0 to leave a row as it is) and returns the
  /// next-token logits after each row's last token, [batch, vocab] row-major (zeros for rows given no tokens).
  ///
  /// The arithmetic is the full forward's (`hiddenStates`), restricted to the new positions: the new rows are
  /// projected together, their keys and values written into the cache at positions lengths[b]..<lengths[b]+nᵦ, and
  /// new row i of sequence b attends over cache positions 0...lengths[b]+i with softmax(q·Kᵀ/√dh)·V.
  /// A prompt is one call; each generated token is another with one token per row.
  public func extend(_ cache: GPT2KVCache, tokens: [[Int32]]) throws -> [Float] {
    let d = config.nEmbd, inner = config.innerSize, dh = config.headSize, heads = config.nHead, vocab = config.vocabSize
    guard tokens.count == cache.batch else {
      throw ModelError.badInput("\(tokens.count) token rows for a cache of \(cache.batch)")
    }
    var starts: [Int] = []  // first new row of each sequence in the stacked [rows, d] activations
    var rows = 0
    for (b, t) in tokens.enumerated() {
      guard cache.lengths[b] + t.count <= cache.capacity else {
        throw ModelError.badInput("row \(b) would hold \(cache.lengths[b] + t.count) tokens; the cache holds \(cache.capacity)")
      }
      for id in t where id < 0 || Int(id) >= vocab {
        throw ModelError.badInput("token id \(id) is outside the vocabulary (0..<\(vocab))")
      }
      starts.append(rows)
      rows += t.count
    }
    var logits = [Float](repeating: 0, count: cache.batch * vocab)
    guard rows > 0 else { return logits }

    let x = FloatBuffer(count: rows * d)
    let normed = FloatBuffer(count: rows * d)
    let qkv = FloatBuffer(count: rows * 3 * d)
    let attended = FloatBuffer(count: rows * d)
    let hidden = FloatBuffer(count: rows * inner)
    for (b, t) in tokens.enumerated() {
      for (i, id) in t.enumerated() {
        let dst = x.pointer + (starts[b] + i) * d
        let e = tokenEmbedding.pointer + Int(id) * d, p = positionEmbedding.pointer + (cache.lengths[b] + i) * d
        Kernels.addRow(e, p, out: dst, count: d)
      }
    }
    let eps = Float(config.layerNormEpsilon)
    let scale = 1 / Float(dh).squareRoot()
    for (l, layer) in layers.enumerated() {
      Kernels.layerNorm(x.pointer, rows: rows, cols: d, gamma: layer.ln1Gamma.pointer, beta: layer.ln1Beta.pointer, eps: eps, out: normed.pointer)
      Self.project(normed.pointer, rows: rows, k: d, n: 3 * d, weight: layer.qkvWeight.pointer, bias: layer.qkvBias.pointer, out: qkv.pointer)
      // Keys and values of the new positions into the cache.
      let kc = cache.keys[l].pointer, vc = cache.values[l].pointer
      for (b, t) in tokens.enumerated() {
        for i in 0..<t.count {
          let src = qkv.pointer + (starts[b] + i) * 3 * d
          for h in 0..<heads {
            let at = cache.offset(row: b, head: h) + (cache.lengths[b] + i) * dh
            (kc + at).update(from: src + d + h * dh, count: dh)
            (vc + at).update(from: src + 2 * d + h * dh, count: dh)
          }
        }
      }
      cachedAttention(cache: cache, layer: l, qkv: qkv.pointer, out: attended.pointer, tokens: tokens, starts: starts, scale: scale)
      Self.project(attended.pointer, rows: rows, k: d, n: d, weight: layer.attnProjWeight.pointer, bias: layer.attnProjBias.pointer, out: normed.pointer)
      Kernels.add(normed.pointer, into: x.pointer, count: rows * d)
      Kernels.layerNorm(x.pointer, rows: rows, cols: d, gamma: layer.ln2Gamma.pointer, beta: layer.ln2Beta.pointer, eps: eps, out: normed.pointer)
      Self.project(normed.pointer, rows: rows, k: d, n: inner, weight: layer.fcWeight.pointer, bias: layer.fcBias.pointer, out: hidden.pointer)
      Kernels.geluTanh(hidden.pointer, count: rows * inner)
      Self.project(hidden.pointer, rows: rows, k: inner, n: d, weight: layer.mlpProjWeight.pointer, bias: layer.mlpProjBias.pointer, out: normed.pointer)
      Kernels.add(normed.pointer, into: x.pointer, count: rows * d)
    }
    for (b, t) in tokens.enumerated() { cache.lengths[b] += t.count }

    // ln_f and the tied head on each row's last new position only.
    let active = tokens.indices.filter { !tokens[$0].isEmpty }
    let last = FloatBuffer(count: active.count * d)
    for (r, b) in active.enumerated() {
      (last.pointer + r * d).update(from: x.pointer + (starts[b] + tokens[b].count - 1) * d, count: d)
    }
    Kernels.layerNorm(last.pointer, rows: active.count, cols: d, gamma: finalGamma.pointer, beta: finalBeta.pointer, eps: eps, out: last.pointer)
    let out = FloatBuffer(count: active.count * vocab)
    if active.count == 1 {
      BLAS.gemv(transposed: false, rows: vocab, cols: d, a: tokenEmbedding.pointer, x: last.pointer, y: out.pointer)
    } else {
      BLAS.gemm(transB: true, m: active.count, n: vocab, k: d, a: last.pointer, lda: d, b: tokenEmbedding.pointer, ldb: d, c: out.pointer, ldc: vocab)
    }
    logits.withUnsafeMutableBufferPointer { lb in
      for (r, b) in active.enumerated() { (lb.baseAddress! + b * vocab).update(from: out.pointer + r * vocab, count: vocab) }
    }
    return logits
  }

  /// out[rows, n] = x[rows, k] · W[k, n] + bias. One row is a matrix–vector product (gemv streams W once at
  /// memory speed, where a 1-row gemm packs it first).
  static func project(
    _ x: UnsafePointer<Float>, rows: Int, k: Int, n: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>
  ) {
    if rows == 1 {
      BLAS.gemv(transposed: true, rows: k, cols: n, a: weight, x: x, y: out)
    } else {
      BLAS.gemm(m: rows, n: n, k: k, a: x, lda: k, b: weight, ldb: n, c: out, ldc: n)
    }
    Kernels.addBias(out, rows: rows, cols: n, bias: bias)
  }

  /// Attention of the new rows over the cache, for every (sequence, head) pair on the `Parallel` threads with
  /// single-threaded GEMMs, query rows in tiles of `attentionTile`. New row i of sequence b sees cache positions
  /// 0..<lengths[b] + i + 1 (the lengths are those before this call's tokens were counted).
  func cachedAttention(
    cache: GPT2KVCache, layer l: Int, qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, tokens: [[Int32]],
    starts: [Int], scale: Float
  ) {
    let d = config.nEmbd, dh = config.headSize, heads = config.nHead
    let pairs = tokens.indices.flatMap { b in tokens[b].isEmpty ? [] : (0..<heads).map { (b, $0) } }
    let workers = Swift.max(1, Swift.min(Parallel.threads, pairs.count))
    let tile = Self.attentionTile
    let kc = cache.keys[l].pointer, vc = cache.values[l].pointer
    BLAS.withSingleThreadedCalls {
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: tile * cache.capacity)
        defer { scores.deallocate() }
        for index in stride(from: w, to: pairs.count, by: workers) {
          let (b, h) = pairs[index]
          let past = cache.lengths[b], count = tokens[b].count
          let keys = kc + cache.offset(row: b, head: h), vals = vc + cache.offset(row: b, head: h)
          for r0 in stride(from: 0, to: count, by: tile) {
            let r = Swift.min(tile, count - r0), visible = past + r0 + r
            let q = qkv + (starts[b] + r0) * 3 * d + h * dh
            BLAS.gemm(transB: true, m: r, n: visible, k: dh, alpha: scale, a: q, lda: 3 * d, b: keys, ldb: dh, c: scores, ldc: visible)
            Kernels.softmaxRows(scores, rows: r, cols: visible, stride: visible) { past + r0 + $0 + 1 }
            BLAS.gemm(m: r, n: dh, k: visible, a: scores, lda: visible, b: vals, ldb: dh,
                      c: out + (starts[b] + r0) * d + h * dh, ldc: d)
          }
        }
      }
    }
  }
}
