import Foundation

/// Errors loading tokenizer files. One line each, naming the file, so the command line can show them as they are.
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
