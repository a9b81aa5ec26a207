import Foundation

/// Added special tokens in prompt text, as Hugging Face tokenizers treat them: the text is split at every
/// occurrence of a special token's string, each occurrence becomes its id, and the text between them is encoded
/// normally (so `"18<|endoftext|>Question"` is `encode("18") + [50256] + encode("Question")`, never BPE over the
/// angle brackets). Few-shot prompts need this: the LTM paper's demonstrations start with `<|beginoftext|>` (the
/// LTM tokenizer's added BOS, id 50257) and the GPT-2 baseline's end with `<|endoftext|>` (50256).
extension GPT2Tokenizer {
  /// `<|beginoftext|>`: the BOS the LTM authors added to GPT-2's vocabulary (id 50257, vocabulary 50258).
  public static let beginOfText: Int32 = 50257
  public static let endOfTextString = "<|endoftext|>"
  public static let beginOfTextString = "<|beginoftext|>"

  /// The special tokens a model with `modelVocabularySize` ids knows: `<|endoftext|>` always, `<|beginoftext|>`
  /// only when the vocabulary has room for id 50257 (LTM checkpoints); for GPT-2 it stays plain text, as it does
  /// in GPT-2's own tokenizer.
  public static func specialTokens(modelVocabularySize: Int) -> [String: Int32] {
    var tokens = [endOfTextString: endOfText]
    if modelVocabularySize > Int(beginOfText) { tokens[beginOfTextString] = beginOfText }
    return tokens
  }

  /// Token ids of `text` with every occurrence of a key of `specialTokens` mapped to its id (leftmost match
  /// first; at one position the longest string wins). Thread-safe.
  public func encode(_ text: String, specialTokens: [String: Int32]) -> [Int32] {
    guard !specialTokens.isEmpty else { return encode(text) }
    let bytes = Array(text.utf8)
    let patterns = specialTokens.map { (Array($0.key.utf8), $0.value) }.filter { !$0.0.isEmpty }
      .sorted { $0.0.count > $1.0.count }
    var out: [Int32] = []
    var segmentStart = 0
    var i = 0
    while i < bytes.count {
      // Every special token string starts with '<' in practice; checking all patterns keeps this general.
      var matched: (length: Int, id: Int32)?
      for (pattern, id) in patterns where i + pattern.count <= bytes.count && bytes[i] == pattern[0] {
        if bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
          matched = (pattern.count, id)
          break
        }
      }
      if let (length, id) = matched {
        out += encodeSegment(bytes, segmentStart, i)
        out.append(id)
        i += length
        segmentStart = i
      } else {
        i += 1
      }
    }
    out += encodeSegment(bytes, segmentStart, bytes.count)
    return out
  }

  private func encodeSegment(_ bytes: [UInt8], _ start: Int, _ end: Int) -> [Int32] {
    guard start < end else { return [] }
    return bytes[start..<end].withUnsafeBufferPointer { encode(utf8: $0) }
  }

  /// The text of `ids`, with `<|beginoftext|>` (50257, outside GPT-2's vocabulary) written as its string rather
  /// than U+FFFD; otherwise as `decode(_:)`.
  public func decode(_ ids: [Int32], specialTokens: [String: Int32]) -> String {
    let names = Dictionary(specialTokens.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
    var bytes: [UInt8] = []
    var run: [Int32] = []
    for id in ids {
      if id != GPT2Tokenizer.endOfText, let name = names[id] {
        bytes += decodeBytes(run)
        run.removeAll(keepingCapacity: true)
        bytes += Array(name.utf8)
      } else {
        run.append(id)
      }
    }
    bytes += decodeBytes(run)
    return String(decoding: bytes, as: UTF8.self)
  }
}
