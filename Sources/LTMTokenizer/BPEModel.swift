/// The immutable data behind a `GPT2Tokenizer`, whatever file format it came from: token bytes by id, the
/// single-byte tokens every merge starts from, and the pair table that decides the merges.
final class BPEModel: @unchecked Sendable {
  let tokens: TokenTable
  let pairs: PairRankTable
  /// Id of the one-byte token for each byte value.
  let byteTokens: [Int32]
  /// One past the largest id, the special token included (50257 for GPT-2).
  let vocabularySize: Int

  /// The bytes `decode` writes for `<|endoftext|>`.
  static let endOfTextText: [UInt8] = Array("<|endoftext|>".utf8)

  typealias Pair = (left: UInt32, right: UInt32, rank: UInt32, merged: UInt32)

  /// `tokenList[id]` are the bytes of ordinary token `id` (nil: unused id); `makePairs` derives the merges once
  /// the tokens can be looked up. `file` names the source in errors. Id 50256 is reserved for `<|endoftext|>`.
  init(tokens tokenList: [[UInt8]?], file: String, pairs makePairs: (TokenTable) throws -> [Pair]) throws {
    let special = Int(GPT2Tokenizer.endOfText)
    if special < tokenList.count, tokenList[special] != nil {
      throw TokenizerError.malformed(file: file, reason: "id \(special) is an ordinary token; it is reserved for <|endoftext|>")
    }
    var duplicate: (Int, Int)?
    tokens = TokenTable(tokens: tokenList, duplicate: &duplicate)
    if let (a, b) = duplicate {
      throw TokenizerError.malformed(file: file, reason: "ids \(a) and \(b) have the same bytes")
    }
    var singles = [Int32](repeating: -1, count: 256)
    for byte in 0..<256 {
      guard let id = tokens.lookup([UInt8(byte)]) else {
        throw TokenizerError.malformed(
          file: file, reason: "no token for the single byte 0x\(String(byte, radix: 16)); byte-level BPE needs all 256")
      }
      singles[byte] = Int32(id)
    }
    byteTokens = singles
    self.pairs = PairRankTable(pairs: try makePairs(tokens))
    vocabularySize = max(tokenList.count, special + 1)
  }
}
