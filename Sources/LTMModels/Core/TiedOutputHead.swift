import Foundation
import LTMTensor

/// The output layer shared by GPT-2 and the LTM decoder: logits = h · Eᵀ with E the token embedding (tied), and
/// the next-token cross-entropy −log softmax(logits)[target] = logsumexp(logits) − logits[target].
///
/// The [T, vocab] logits of a 1024-token block are 206 MB; they are computed `rowsPerChunk` rows at a time so the
/// buffer stays cache- and memory-friendly, and the log-sum-exps of a chunk run on all threads.
public enum TiedOutputHead {
  public static let rowsPerChunk = 512

  /// NLL of tokens[i+1] given hidden row i, for i in 0..<tokens.count−1.
  public static func nextTokenNLL(
    hidden: UnsafePointer<Float>, tokens: [Int32], width d: Int, embedding: UnsafePointer<Float>, vocabSize: Int
  ) -> [Float] {
    let scored = tokens.count - 1
    guard scored > 0 else { return [] }
    var nll = [Float](repeating: 0, count: scored)
    let logits = FloatBuffer(count: Swift.min(rowsPerChunk, scored) * vocabSize)
    nll.withUnsafeMutableBufferPointer { out in
      let outBase = out.baseAddress!
      tokens.withUnsafeBufferPointer { tok in
        let tokBase = tok.baseAddress!
        for r0 in stride(from: 0, to: scored, by: rowsPerChunk) {
          let rows = Swift.min(rowsPerChunk, scored - r0)
          BLAS.gemm(transB: true, m: rows, n: vocabSize, k: d, a: hidden + r0 * d, lda: d, b: embedding, ldb: d,
                    c: logits.pointer, ldc: vocabSize)
          Parallel.forChunks(of: rows, minimumChunk: 8) { range in
            for r in range {
              let row = logits.pointer + r * vocabSize
              outBase[r0 + r] = crossEntropy(row: row, count: vocabSize, target: Int(tokBase[r0 + r + 1]))
            }
          }
        }
      }
    }
    return nll
  }

  /// logsumexp(row) − row[target], with the sum in Double.
  @inlinable
  public static func crossEntropy(row: UnsafePointer<Float>, count: Int, target: Int) -> Float {
    Float(logSumExp(row: row, count: count) - Double(row[target]))
  }

  /// log Σ exp(row), shifted by the row's maximum, the sum in Double.
  @inlinable
  public static func logSumExp(row: UnsafePointer<Float>, count: Int) -> Double {
    let m = VectorMath.max(row, count: count)
    return Double(m) + Foundation.log(VectorMath.sumExpShifted(row, shift: m, count: count))
  }

  /// For selected hidden rows (continuation positions of few-shot requests): log p(target) = row[target] −
  /// logsumexp(row) in Double, and whether target is the argmax (lowest index on ties, as torch.argmax), the logits
  /// computed `rowsPerChunk` rows at a time so a long continuation never materialises [n, vocab] at once.
  static func scoreRows(
    hidden: UnsafePointer<Float>, rows: [(hidden: Int, target: Int32)], width d: Int, embedding: UnsafePointer<Float>,
    vocabSize v: Int
  ) -> [(logprob: Double, isArgmax: Bool)] {
    guard !rows.isEmpty else { return [] }
    var out = [(logprob: Double, isArgmax: Bool)](repeating: (0, false), count: rows.count)
    let chunk = Swift.min(rowsPerChunk, rows.count)
    let gathered = FloatBuffer(count: chunk * d), logits = FloatBuffer(count: chunk * v)
    for r0 in stride(from: 0, to: rows.count, by: chunk) {
      let n = Swift.min(chunk, rows.count - r0)
      for j in 0..<n { (gathered.pointer + j * d).update(from: hidden + rows[r0 + j].hidden * d, count: d) }
      BLAS.gemm(transB: true, m: n, n: v, k: d, a: gathered.pointer, lda: d, b: embedding, ldb: d, c: logits.pointer, ldc: v)
      for j in 0..<n {
        let row = logits.pointer + j * v, target = Int(rows[r0 + j].target)
        out[r0 + j] = (Double(row[target]) - logSumExp(row: row, count: v), argmax(row, count: v) == target)
      }
    }
    return out
  }

  /// The lowest index of the largest value (torch.argmax's tie rule).
  static func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for i in 1..<count where row[i] > row[best] { best = i }
    return best
  }
}
