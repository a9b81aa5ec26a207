/// Errors of task definitions, data files and block protocols.
///
/// Each message is one line and names the culprit (the file, key, task, split, pattern or protocol), because
/// the command-line front end prints it verbatim as its single `error:` line.
public enum TaskError: Error, CustomStringConvertible, Equatable {
  case unknownTask(name: String, known: [String])
  /// A task YAML that does not parse or has an unknown key or a bad value; `reason` names the key.
  case invalidDefinition(file: String, reason: String)
  case unknownSplit(task: String, split: String, known: [String])
  /// A listed data file is absent; `path` is as written in the task, relative to `root` ("--data-dir", or the
  /// task file's folder for a task with `relative_to: task_file`).
  case missingFile(task: String, split: String, path: String, root: String = "--data-dir")
  /// A glob pattern of the task matched no file under `root` (as for `missingFile`).
  case noMatchingFiles(task: String, split: String, pattern: String, root: String = "--data-dir")
  case unreadable(path: String, reason: String)
  /// One record of a data file is unusable (a JSON line without its text field, say); `line` is 1-based.
  case invalidRecord(file: String, line: Int, reason: String)
  case emptyDataset(task: String, split: String)
  case unknownProtocol(name: String, known: [String])
  /// The protocol cut no block; `tokens` is the length of the concatenated stream (document EOS included when
  /// the protocol inserts it).
  case noBlocks(source: String, protocolName: String, tokens: Int, blockLength: Int)
  /// `makeBlocks(limit:)` with a limit below 1.
  case invalidLimit(Int)
  /// More demonstrations asked for than the shot pool holds (the document itself excluded where it is).
  case notEnoughShots(requested: Int, available: Int)

  public var description: String {
    switch self {
    case .unknownTask(let name, let known):
      return "unknown task '\(name)' (known: \(known.joined(separator: ", ")); or pass a path to a task YAML file)"
    case .invalidDefinition(let file, let reason): return "task definition \(file): \(reason)"
    case .unknownSplit(let task, let split, let known):
      return "task \(task) has no split '\(split)' (it has: \(known.joined(separator: ", ")))"
    case .missingFile(let task, let split, let path, let root):
      return "task \(task) split \(split): missing data file \(path) (relative to \(root))"
    case .noMatchingFiles(let task, let split, let pattern, let root):
      return "task \(task) split \(split): no data file matches \(pattern) (relative to \(root))"
    case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
    case .invalidRecord(let file, let line, let reason): return "\(file) line \(line): \(reason)"
    case .emptyDataset(let task, let split): return "task \(task) split \(split): the data files hold no examples"
    case .unknownProtocol(let name, let known):
      return "unknown protocol '\(name)' (known: \(known.joined(separator: ", ")))"
    case .noBlocks(let source, let proto, let tokens, let blockLength):
      return "\(source): protocol \(proto) makes 0 blocks of \(blockLength) tokens from \(tokens) tokens"
        + " in the concatenated stream (remainders shorter than a block are dropped per batch of examples)"
    case .invalidLimit(let limit): return "the block limit must be at least 1, got \(limit)"
    case .notEnoughShots(let requested, let available):
      return "\(requested) shots requested, but the shot pool holds \(available) documents"
    }
  }
}
