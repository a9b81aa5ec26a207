import LTMProcessLimits

/// Errors of the orchestration layer: bad arguments and unusable inputs. One line each, naming the culprit.
public enum HarnessError: Error, CustomStringConvertible, Equatable {
  case invalidArgument(String)
  case unreadable(String)
  case noTokenizer(model: String, directory: String)
  case blockTooLong(model: String, blockLength: Int, contextLength: Int)
  case cache(String)
  /// A run whose estimated working set exceeds what this process may use (`what` says what was counted).
  case exceedsMemory(what: String, estimatedBytes: UInt64, limit: UsableMemory.Limit, advice: String)

  public var description: String {
    switch self {
    case .invalidArgument(let message): return message
    case .unreadable(let path): return "cannot read \(path)"
    case .noTokenizer(let model, let dir):
      return "no tokenizer for model \(model): no vocab.json+merges.txt, encoder.json+vocab.bpe or *.tiktoken in \(dir); pass --tokenizer DIR"
    case .blockTooLong(let model, let blockLength, let contextLength):
      return "model \(model) accepts at most \(contextLength) tokens, but the protocol makes \(blockLength)-token blocks"
    case .cache(let message): return "block cache: \(message)"
    case .exceedsMemory(let what, let bytes, let limit, let advice): return limit.refusal("this run", needs: bytes, for: what) + "; \(advice)"
    }
  }
}
