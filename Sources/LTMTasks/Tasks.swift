import Foundation

/// Errors of task definitions and data files: one line each, naming the file, task or split.
public enum TaskError: Error, CustomStringConvertible, Equatable {
  case unknownTask(name: String, known: [String])
  case invalidDefinition(file: String, reason: String)
  case unknownSplit(task: String, split: String, known: [String])
  case missingFile(task: String, split: String, path: String)
  case unreadable(path: String, reason: String)
  case emptyDataset(task: String, split: String)
  case unknownProtocol(name: String, known: [String])
  case noBlocks(source: String, protocolName: String, tokens: Int, blockLength: Int)

  public var description: String {
    switch self {
    case .unknownTask(let name, let known):
      return "unknown task '\(name)' (known: \(known.joined(separator: ", ")); or pass a path to a task YAML file)"
    case .invalidDefinition(let file, let reason): return "task definition \(file): \(reason)"
    case .unknownSplit(let task, let split, let known):
      return "task \(task) has no split '\(split)' (it has: \(known.joined(separator: ", ")))"
    case .missingFile(let task, let split, let path): return "task \(task) split \(split): missing data file \(path)"
    case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
    case .emptyDataset(let task, let split): return "task \(task) split \(split): the data files hold no examples"
    case .unknownProtocol(let name, let known):
      return "unknown protocol '\(name)' (known: \(known.joined(separator: ", ")))"
    case .noBlocks(let source, let proto, let tokens, let blockLength):
      return "\(source): protocol \(proto) makes 0 blocks of \(blockLength) tokens from \(tokens) tokens"
    }
  }
}

/// How a task's files are read into examples (one example = one string handed to the detokenizer).
public enum ReaderKind: String, Sendable, Codable, CaseIterable {
  /// PTB: one example per line, stripped (HF `ptb_text_only`).
  case ptbLines = "ptb_lines"
  /// WikiText raw: every line with its trailing newline; blank lines as "" (HF `wikitext` loader).
  case wikitextRaw = "wikitext_raw"
  /// LM1B heldout shards: one example per stripped line, all files of the split in sorted order.
  case lm1bLines = "lm1b_lines"
  /// A user's plain text: one example per line, stripped, empty lines skipped.
  case plainText = "plain_text"
  /// JSON Lines: one example per line, the string field named by `field`.
  case jsonl
}

/// Per-example text normalisation applied before tokenization (rules in `Detokenizers.swift`).
public enum Detokenizer: String, Sendable, Codable, CaseIterable {
  case none, ptb, wikitext, lm1b, lambada
  case scientificPapers = "scientific_papers"

  /// (Stub.)
  public func apply(_ text: String) -> String { text }
}

/// One task, decoded from a YAML file in `tasks/`.
public struct TaskSpec: Sendable, Codable, Equatable {
  public var name: String
  public var description: String?
  public var reader: ReaderKind
  public var detokenizer: Detokenizer
  /// The split the reference code evaluates (validation for PTB/WikiText, test for LM1B).
  public var defaultSplit: String
  /// Split name → file names or glob patterns relative to `--data-dir`.
  public var splits: [String: [String]]
  /// JSONL reader: the text field.
  public var field: String?

  enum CodingKeys: String, CodingKey {
    case name, description, reader, detokenizer, defaultSplit = "default_split", splits, field
  }

  /// The data files of `split`, in reading order. Throws naming the split or the first missing file. (Stub.)
  public func files(split: String, dataDirectory: URL) throws -> [URL] {
    throw TaskError.unknownSplit(task: name, split: split, known: splits.keys.sorted())
  }

  /// Reads and detokenizes every example of `split`. (Stub.)
  public func examples(split: String, dataDirectory: URL) throws -> [String] {
    throw TaskError.emptyDataset(task: name, split: split)
  }
}

/// The task definitions of a `tasks/` directory.
public struct TaskCatalog: Sendable {
  public var tasks: [String: TaskSpec]

  /// Loads every `*.yaml` in `directory`. (Stub.)
  public static func load(directory: URL) throws -> TaskCatalog { TaskCatalog(tasks: [:]) }

  /// A task by name, or by path to a YAML file. (Stub.)
  public func task(named name: String) throws -> TaskSpec {
    throw TaskError.unknownTask(name: name, known: tasks.keys.sorted())
  }
}

/// Fixed-length token blocks, stored flat: block i is `tokens[i*blockLength ..< (i+1)*blockLength]`.
public struct TokenBlocks: Sendable, Equatable {
  public var blockLength: Int
  public var tokens: [Int32]
  public var count: Int { blockLength == 0 ? 0 : tokens.count / blockLength }

  public init(blockLength: Int, tokens: [Int32]) {
    self.blockLength = blockLength
    self.tokens = tokens
  }

  public func block(_ i: Int) -> ArraySlice<Int32> { tokens[(i * blockLength)..<((i + 1) * blockLength)] }
}

/// A named block layout: how tokenized examples become the blocks that are scored, and which aggregation is the
/// headline. (Stub.)
public struct BlockProtocol: Sendable, Equatable {
  public var name: String
  public var blockLength: Int
  /// `token_weighted` or `block_mean` (LTMMetrics.PerplexityAggregation raw values).
  public var headline: String

  public static let names = ["ltm", "mdlm"]

  public static func named(_ name: String) throws -> BlockProtocol {
    throw TaskError.unknownProtocol(name: name, known: names)
  }

  /// Appends EOS to every example, cuts blocks (remainder dropped per 1000-example batch), keeps the first
  /// `limit`. Throws `noBlocks` when the result is empty. (Stub.)
  public func makeBlocks(examples: [[Int32]], limit: Int?, source: String) throws -> TokenBlocks {
    throw TaskError.noBlocks(source: source, protocolName: name, tokens: 0, blockLength: blockLength)
  }
}
