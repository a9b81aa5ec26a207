import Foundation

/// GPT-2 byte-level BPE, giving the same ids as tiktoken's `gpt2` encoding.
///
/// Encoding splits text with a hand-written scanner for GPT-2's pre-tokenizer pattern (`PreTokenScanner`), then
/// looks each piece up as a whole token and otherwise merges its bytes (`BytePairMerge`), remembering merged
/// pieces in a cache shared by all threads (`BPECache`). Everything but the cache is immutable after loading,
/// so `encode` and `decode` may be called from any number of threads at once.
public final class GPT2Tokenizer: @unchecked Sendable {
  /// `<|endoftext|>`: GPT-2's only special token, used as EOS (and BOS) by every protocol.
  public static let endOfText: Int32 = 50256

  let model: BPEModel
  let cache: BPECache

  /// Number of ids (50257 for GPT-2: 50256 BPE tokens plus `<|endoftext|>`).
  public var vocabularySize: Int { model.vocabularySize }

  init(model: BPEModel, cache: BPECache = BPECache()) {
    self.model = model
    self.cache = cache
    // Build the character-class table (a few milliseconds, once per process) while loading, not in the first
    // `encode`, so that call's time is only the text's.
    _ = CharacterClasses.basicPlane
  }

  /// From the contents of Hugging Face's `vocab.json` and `merges.txt`.
  public convenience init(vocabJSON: Data, merges: Data) throws {
    try self.init(
      model: VocabularyFormats.model(
        vocabJSON: [UInt8](vocabJSON), merges: [UInt8](merges), vocabFile: "vocab.json", mergesFile: "merges.txt"))
  }

  /// From the contents of OpenAI's original `encoder.json` and `vocab.bpe` (the same data as vocab.json+merges.txt).
  public convenience init(encoderJSON: Data, vocabBPE: Data) throws {
    try self.init(
      model: VocabularyFormats.model(
        vocabJSON: [UInt8](encoderJSON), merges: [UInt8](vocabBPE), vocabFile: "encoder.json", mergesFile: "vocab.bpe"))
  }

  /// From the contents of a tiktoken rank file (`base64(token bytes) rank` a line); `<|endoftext|>` is added as 50256.
  public convenience init(tiktoken: Data) throws {
    try self.init(model: VocabularyFormats.model(tiktoken: [UInt8](tiktoken), file: "gpt2.tiktoken"))
  }

  /// Loads from a directory holding vocab.json+merges.txt, encoder.json+vocab.bpe, or one *.tiktoken file, in that
  /// order of preference. Errors name the file by its full path.
  public static func load(directory: URL) throws -> GPT2Tokenizer {
    let files = try sourceFiles(directory: directory)
    if files.count == 2 {
      return GPT2Tokenizer(
        model: try VocabularyFormats.model(
          vocabJSON: try read(files[0]), merges: try read(files[1]), vocabFile: files[0].path, mergesFile: files[1].path))
    }
    return GPT2Tokenizer(model: try VocabularyFormats.model(tiktoken: try read(files[0]), file: files[0].path))
  }

  /// The files `load(directory:)` reads, in its order of preference: [vocab, merges] or [rank file]. Their digests
  /// identify the tokenizer (the token cache is keyed by them).
  public static func sourceFiles(directory: URL) throws -> [URL] {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw TokenizerError.missingFiles(directory: directory.path)
    }
    func existing(_ name: String) -> URL? {
      let url = directory.appendingPathComponent(name)
      return fm.fileExists(atPath: url.path) ? url : nil
    }
    for (vocabName, mergesName) in [("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")] {
      if let vocab = existing(vocabName), let merges = existing(mergesName) { return [vocab, merges] }
    }
    let rankFiles = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? [])
      .filter { $0.hasSuffix(".tiktoken") }.sorted()
    guard let first = rankFiles.first else { throw TokenizerError.missingFiles(directory: directory.path) }
    guard rankFiles.count == 1 else {
      throw TokenizerError.malformed(
        file: directory.path, reason: "\(rankFiles.count) *.tiktoken files (\(rankFiles.joined(separator: ", "))); expected one")
    }
    return [directory.appendingPathComponent(first)]
  }

  private static func read(_ url: URL) throws -> [UInt8] {
    do {
      return [UInt8](try Data(contentsOf: url))
    } catch {
      throw TokenizerError.malformed(file: url.path, reason: "cannot be read")
    }
  }

  /// Token ids of `text` (no special tokens are parsed: `<|endoftext|>` in text is plain text). Thread-safe.
  public func encode(_ text: String) -> [Int32] {
    var text = text
    return text.withUTF8 { encode(utf8: $0) }
  }

  /// Token ids of UTF-8 bytes; the scanner treats bytes that are not valid UTF-8 as punctuation.
  func encode(utf8 text: UnsafeBufferPointer<UInt8>) -> [Int32] {
    var out: [Int32] = []
    guard let base = text.baseAddress, !text.isEmpty else { return out }
    out.reserveCapacity(text.count / 3 + 1)
    let tokens = model.tokens
    var scanner = PreTokenScanner(text)
    model.byteTokens.withUnsafeBufferPointer { singles in
      while let (start, end) = scanner.next() {
        let p = base + start
        let n = end - start
        if n == 1 {
          out.append(singles[Int(p[0])])
          continue
        }
        let hash = hashBytes(p, n)
        if let id = tokens.lookup(p, n, hash: hash) {
          out.append(Int32(bitPattern: id))
          continue
        }
        guard n <= BPECache.maxPieceLength else {
          model.merge(p, n, into: &out)
          continue
        }
        if cache.append(p, n, hash: hash, to: &out) { continue }
        let before = out.count
        model.merge(p, n, into: &out)
        cache.insert(p, n, hash: hash, tokens: out[before...])
      }
    }
    return out
  }

  /// The text of `ids`; byte sequences that are not valid UTF-8 (a character split across a slice of ids, or a
  /// stray byte token) decode to U+FFFD, as does an id outside the vocabulary.
  public func decode(_ ids: [Int32]) -> String {
    String(decoding: decodeBytes(ids), as: UTF8.self)
  }

  /// The raw bytes of `ids` (`<|endoftext|>` as its text, an unknown id as the UTF-8 of U+FFFD), for callers that
  /// count bytes or join slices before turning them into text.
  public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(ids.count * 5)
    for id in ids {
      if id == GPT2Tokenizer.endOfText {
        bytes.append(contentsOf: BPEModel.endOfTextText)
        continue
      }
      let token = model.tokens.bytes(of: Int(id))
      if token.isEmpty {
        bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
      } else {
        bytes.append(contentsOf: token)
      }
    }
    return bytes
  }
}
