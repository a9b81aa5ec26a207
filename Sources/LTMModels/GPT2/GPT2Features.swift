import LTMTensor

/// Text embeddings for MAUVE, as mauve-text featurizes with `GPT2Model` (mauve.md §2.1): the final hidden state
/// after `ln_f` at the last real token of each text. Empty texts are dropped and counted (the reference drops them
/// silently, which changes n); longer texts keep their first `maxLength` tokens.
public struct TextFeatures: Sendable {
  /// [rows, dims] row-major fp32, one row per kept text, in input order.
  public var values: [Float]
  public var rows: Int
  public var dims: Int
  /// Index in the input of each row.
  public var keptIndices: [Int]
  public var droppedEmpty: Int
  /// Texts cut to `maxLength` tokens.
  public var truncated: Int
}

extension GPT2Model {
  /// Featurizes token-id texts. Texts of equal (truncated) length run together, `batch` at a time; the result does
  /// not depend on the grouping beyond fp32 BLAS blocking (no padding is ever involved).
  public func features(texts: [[Int32]], maxLength: Int = 1024, batch: Int = 8) throws -> TextFeatures {
    guard maxLength >= 1 else { throw ModelError.badInput("maxLength must be at least 1") }
    let limit = Swift.min(maxLength, config.nPositions)
    let d = config.nEmbd
    let kept = texts.indices.filter { !texts[$0].isEmpty }
    var values = [Float](repeating: 0, count: kept.count * d)
    // Group rows by truncated length, preserving input order inside each group.
    var groups: [Int: [Int]] = [:]
    for (row, i) in kept.enumerated() { groups[Swift.min(texts[i].count, limit), default: []].append(row) }
    for (length, rows) in groups.sorted(by: { $0.key < $1.key }) {
      for start in stride(from: 0, to: rows.count, by: Swift.max(1, batch)) {
        let chunk = Array(rows[start..<Swift.min(rows.count, start + Swift.max(1, batch))])
        let blocks = chunk.map { Array(texts[kept[$0]].prefix(length)) }
        let (h, _) = try hiddenStates(blocks)
        for (b, row) in chunk.enumerated() {
          let src = h.pointer + (b * length + length - 1) * d
          for c in 0..<d { values[row * d + c] = src[c] }
        }
      }
    }
    return TextFeatures(
      values: values, rows: kept.count, dims: d, keptIndices: kept, droppedEmpty: texts.count - kept.count,
      truncated: kept.filter { texts[$0].count > limit }.count)
  }
}
