import Foundation
import LTMTensor

/// The output layer shared by GPT-2 and the LTM decoder: logits = h · Eᵀ with E the token embedding (tied), and
/// the next-token cross-entropy −log softmax(logits)[target] = logsumexp(logits) − logits[target].
///
/// The [T, vocab] logits of a 1024-token block are 206 MB; they are computed `rowsPerChunk` rows at a time so the
/// buffer stays cache- and memory-friendly, and the log-sum-exps of a chunk run on all threads.
public enum TiedOutputHead {
  public static let rowsPerChunk = 128

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
    let m = VectorMath.max(row, count: count)
    let sum = VectorMath.sumExpShifted(row, shift: m, count: count)
    return Float(Double(m) + Foundation.log(sum) - Double(row[target]))
  }
}
