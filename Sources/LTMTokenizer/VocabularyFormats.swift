/// The three on-disk forms of the GPT-2 vocabulary, each turned into a `BPEModel`.
///
/// - `vocab.json` + `merges.txt` (Hugging Face) and `encoder.json` + `vocab.bpe` (OpenAI's original release) are
///   the same data: token text in GPT-2's byte alphabet (see `ByteUnicodeTable`) → id, and the merges in rank
///   order, one `left right` pair a line after a `#version` header.
/// - a `.tiktoken` file lists `base64(token bytes) rank` and has no merges: a pair may merge when the
///   concatenation is a token, and the merge's rank is that token's rank. For GPT-2 the ranks are the ids and
///   every merge in `merges.txt` makes the token with id 256 + its line, so both forms give the same tokens.
/// `<|endoftext|>` is id 50256 in every form (added when the file lacks it, as `.tiktoken` files do).
enum VocabularyFormats {
  /// Ids above this are taken as a corrupt file rather than allocated for.
  static let maxID = 1 << 22

  static func model(vocabJSON: [UInt8], merges: [UInt8], vocabFile: String, mergesFile: String) throws -> BPEModel {
    let entries: [(key: [Unicode.Scalar], id: Int)]
    do {
      entries = try VocabularyJSON.parse(vocabJSON)
    } catch {
      throw TokenizerError.malformed(file: vocabFile, reason: error.reason)
    }
    let special = Array("<|endoftext|>".unicodeScalars)
    var tokens: [[UInt8]?] = []
    for (key, id) in entries {
      guard id < maxID else { throw TokenizerError.malformed(file: vocabFile, reason: "id \(id) is out of range") }
      if key == special {
        guard id == Int(GPT2Tokenizer.endOfText) else {
          throw TokenizerError.malformed(file: vocabFile, reason: "<|endoftext|> has id \(id), expected 50256")
        }
        continue
      }
      guard let bytes = ByteUnicodeTable.bytes(of: key), !bytes.isEmpty else {
        throw TokenizerError.malformed(
          file: vocabFile, reason: "token \(quoted(key)) (id \(id)) is empty or not in GPT-2's byte alphabet")
      }
      if id >= tokens.count { tokens += [[UInt8]?](repeating: nil, count: id + 1 - tokens.count) }
      guard tokens[id] == nil else { throw TokenizerError.malformed(file: vocabFile, reason: "id \(id) is used twice") }
      tokens[id] = bytes
    }
    return try BPEModel(tokens: tokens, file: vocabFile) { table in
      let pairs = try mergePairs(merges, file: mergesFile, tokens: table)
      try checkEveryTokenIsMerged(tokens, pairs: pairs, mergesFile: mergesFile)
      return pairs
    }
  }

  /// A vocabulary token longer than one byte comes out of BPE only as some merge's result. An empty or truncated
  /// merges file leaves tokens that can never be produced and silently changes every id (GPT-2 has 50,000 merges for
  /// its 50,000 multi-byte tokens), so it is an error, not a smaller tokenizer.
  private static func checkEveryTokenIsMerged(_ tokens: [[UInt8]?], pairs: [BPEModel.Pair], mergesFile: String) throws {
    var merged = [Bool](repeating: false, count: tokens.count)
    for p in pairs where Int(p.merged) < merged.count { merged[Int(p.merged)] = true }
    let unreachable = tokens.indices.filter { (tokens[$0]?.count ?? 0) > 1 && !merged[$0] }
    guard let first = unreachable.first else { return }
    throw TokenizerError.malformed(
      file: mergesFile,
      reason: "\(pairs.count) merges leave \(unreachable.count) multi-byte vocabulary tokens unreachable (first: id \(first)): the file is empty, truncated or from another vocabulary")
  }

  /// Pairs of `merges.txt`: rank = position among the merge lines.
  private static func mergePairs(_ data: [UInt8], file: String, tokens: TokenTable) throws -> [BPEModel.Pair] {
    guard let text = String(validating: data, as: UTF8.self) else {
      throw TokenizerError.malformed(file: file, reason: "not valid UTF-8")
    }
    var pairs: [BPEModel.Pair] = []
    var lineNumber = 0
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      var line = Substring(rawLine)
      if line.hasSuffix("\r") { line = line.dropLast() }  // tolerate CRLF files
      if lineNumber == 1 && line.hasPrefix("#version") { continue }
      if line.isEmpty { continue }
      let halves = line.split(separator: " ", omittingEmptySubsequences: false)
      guard halves.count == 2, !halves[0].isEmpty, !halves[1].isEmpty else {
        throw TokenizerError.malformed(file: file, reason: "line \(lineNumber) is not two tokens separated by one space")
      }
      guard let left = ByteUnicodeTable.bytes(of: halves[0].unicodeScalars),
        let right = ByteUnicodeTable.bytes(of: halves[1].unicodeScalars)
      else {
        throw TokenizerError.malformed(file: file, reason: "line \(lineNumber) has a character outside GPT-2's byte alphabet")
      }
      guard let l = tokens.lookup(left), let r = tokens.lookup(right), let merged = tokens.lookup(left + right) else {
        throw TokenizerError.malformed(
          file: file, reason: "line \(lineNumber) (\(line)) merges tokens that are not in the vocabulary")
      }
      pairs.append((l, r, UInt32(pairs.count), merged))
    }
    return pairs
  }

  static func model(tiktoken data: [UInt8], file: String) throws -> BPEModel {
    var tokens: [[UInt8]?] = []
    var lineNumber = 0
    var start = 0
    while start < data.count {
      var end = start
      while end < data.count && data[end] != UInt8(ascii: "\n") { end += 1 }
      lineNumber += 1
      var line = data[start..<end]
      start = end + 1
      if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
      if line.isEmpty { continue }
      guard let space = line.firstIndex(of: UInt8(ascii: " ")),
        let bytes = Base64.decode(line[line.startIndex..<space]), !bytes.isEmpty,
        let rank = decimal(line[(space + 1)...]), rank < maxID
      else {
        throw TokenizerError.malformed(file: file, reason: "line \(lineNumber) is not 'base64-token rank'")
      }
      if rank >= tokens.count { tokens += [[UInt8]?](repeating: nil, count: rank + 1 - tokens.count) }
      guard tokens[rank] == nil else {
        throw TokenizerError.malformed(file: file, reason: "rank \(rank) is used twice (line \(lineNumber))")
      }
      tokens[rank] = bytes
    }
    guard !tokens.isEmpty else { throw TokenizerError.malformed(file: file, reason: "no tokens") }
    return try BPEModel(tokens: tokens, file: file) { table in rankPairs(tokens: table) }
  }

  /// Every split of every token into two tokens, ranked by the whole token's rank: exactly the merges tiktoken's
  /// rank-based loop can make (its parts are always tokens, starting from single bytes).
  private static func rankPairs(tokens: TokenTable) -> [BPEModel.Pair] {
    var pairs: [BPEModel.Pair] = []
    for id in 0..<tokens.idLimit {
      let token = tokens.bytes(of: id)
      guard token.count >= 2, let p = token.baseAddress else { continue }
      for k in 1..<token.count {
        guard let left = tokens.lookup(p, k, hash: hashBytes(p, k)),
          let right = tokens.lookup(p + k, token.count - k, hash: hashBytes(p + k, token.count - k))
        else { continue }
        pairs.append((left, right, UInt32(id), UInt32(id)))
      }
    }
    return pairs
  }

  private static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
    guard !digits.isEmpty, digits.count <= 9 else { return nil }
    var value = 0
    for d in digits {
      guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return nil }
      value = value * 10 + Int(d - UInt8(ascii: "0"))
    }
    return value
  }

  private static func quoted(_ scalars: [Unicode.Scalar]) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars.prefix(40))
    return String(reflecting: String(view))
  }
}

/// Strict standard base64 (with `=` padding), as Python's `base64.b64encode` writes it in `.tiktoken` files.
enum Base64 {
  private static let values: [Int8] = {
    var table = [Int8](repeating: -1, count: 256)
    for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
      table[Int(c)] = Int8(i)
    }
    return table
  }()

  static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
    guard !text.isEmpty, text.count % 4 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 4 * 3)
    var i = text.startIndex
    while i < text.endIndex {
      let last = i + 4 == text.endIndex
      var quad: UInt32 = 0
      var padding = 0
      for k in 0..<4 {
        let c = text[i + k]
        if c == UInt8(ascii: "=") && last && k >= 2 {
          padding += 1
          quad <<= 6
          continue
        }
        let v = values[Int(c)]
        guard v >= 0, padding == 0 else { return nil }
        quad = quad << 6 | UInt32(v)
      }
      out.append(UInt8(quad >> 16))
      if padding < 2 { out.append(UInt8(truncatingIfNeeded: quad >> 8)) }
      if padding < 1 { out.append(UInt8(truncatingIfNeeded: quad)) }
      i += 4
    }
    return out
  }
}
