import Foundation

/// Errors loading tokenizer files. One line each, naming the file.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
  case missingFiles(directory: String)
  case malformed(file: String, reason: String)

  public var description: String {
    switch self {
    case .missingFiles(let dir):
      return "no tokenizer in \(dir): expected vocab.json+merges.txt, encoder.json+vocab.bpe or a *.tiktoken file"
    case .malformed(let file, let reason): return "tokenizer file \(file): \(reason)"
    }
  }
}

/// GPT-2 byte-level BPE. (API stub: implementation in progress.)
public final class GPT2Tokenizer: @unchecked Sendable {
  /// `<|endoftext|>`: GPT-2's only special token, used as EOS (and BOS) by every protocol.
  public static let endOfText: Int32 = 50256

  /// Number of ids (50257 for GPT-2: 50256 BPE tokens plus `<|endoftext|>`).
  public var vocabularySize: Int { 0 }

  /// Loads from a directory holding vocab.json+merges.txt, encoder.json+vocab.bpe, or one *.tiktoken file.
  public static func load(directory: URL) throws -> GPT2Tokenizer {
    throw TokenizerError.missingFiles(directory: directory.path)
  }

  /// Token ids of `text` (no special tokens are parsed: `<|endoftext|>` in text is plain text). Thread-safe.
  public func encode(_ text: String) -> [Int32] { [] }

  /// The text of `ids`; invalid UTF-8 byte sequences decode to U+FFFD.
  public func decode(_ ids: [Int32]) -> String { "" }
}
