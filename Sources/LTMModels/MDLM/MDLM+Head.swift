import Foundation
import LTMTensor

extension MDLMModel {
  /// Rows of the output head computed per tile when only some positions need it: the logits of a tile, never of the
  /// whole block (206 MB at 1024 × 50258); each tile is one multi-threaded GEMM, its rows spread over threads.
  static let headTile = 512

  /// The DDiT's output head on `count` hidden rows (row i's d floats at `hiddenRow(i)`), in tiles of `headTile`: the
  /// bias is added to the first `columns` logits (the others, MASK under SUBS, are never read) and `body(i, logits)`
  /// sees row i, concurrently for different i, at least `minimumChunk` rows per thread. MDLM's SUBS scores and
  /// sampler and SEDD's score entropy and samplers all read the head this way.
  func forEachHeadRow(
    count: Int, columns: Int, minimumChunk: Int, hiddenRow: (Int) -> UnsafeMutablePointer<Float>,
    _ body: (_ index: Int, _ logits: UnsafeMutablePointer<Float>) -> Void
  ) {
    guard count > 0 else { return }
    let d = config.hiddenDim, v = config.vocabSize, tile = Self.headTile
    let gathered = FloatBuffer(count: Swift.min(tile, count) * d)
    let logits = FloatBuffer(count: Swift.min(tile, count) * v)
    for r0 in stride(from: 0, to: count, by: tile) {
      let r = Swift.min(tile, count - r0)
      for j in 0..<r { (gathered.pointer + j * d).update(from: hiddenRow(r0 + j), count: d) }
      BLAS.gemm(transB: true, m: r, n: v, k: d, a: gathered.pointer, lda: d, b: headWeight.pointer, ldb: d, c: logits.pointer, ldc: v)
      Parallel.forChunks(of: r, minimumChunk: minimumChunk) { range in
        for j in range {
          let row = logits.pointer + j * v
          Kernels.addRow(headBias.pointer, into: row, count: columns)
          body(r0 + j, row)
        }
      }
    }
  }
}
