import Foundation

/// One task, decoded from a YAML file in `tasks/` (see `TaskDefinition.swift` for the accepted keys).
///
/// File entries are relative to `--data-dir` and keep the layout of the original distributions (PTB
/// `ptb/ptb.valid.txt`, WikiText `wikitext/wiki.test.raw`, LM1B `lm1b/news.en.heldout-*`), so a user points the
/// harness at an unpacked download instead of a converted copy.
public struct TaskSpec: Sendable, Codable, Equatable {
  /// The task-file format this build reads (`version:` in the YAML; optional, 1 when absent).
  public static let currentVersion = 1

  public var version: Int
  public var name: String
  public var description: String?
  public var reader: ReaderKind
  public var detokenizer: Detokenizer
  /// The split the reference code evaluates (validation for PTB/WikiText, test for LM1B).
  public var defaultSplit: String
  /// Split name → file names or glob patterns relative to `--data-dir`.
  public var splits: [String: [String]]
  /// jsonl and csv readers: the field(s) that make an example's text.
  public var field: TextFields?
  /// csv reader: the names of the columns (the files have no header row).
  public var columns: [String]
  /// Set for a task file with `relative_to: task_file`: its split files are read from this folder (the task file's)
  /// instead of `--data-dir`, so a user's own data needs no data directory of its own.
  public var taskFileDirectory: URL?
  /// Split name → the number of files the complete distribution has (LM1B test: 50 shards). A split read
  /// from fewer files is still evaluated, but its result should be reported as partial.
  public var expectedFiles: [String: Int]

  enum CodingKeys: String, CodingKey {
    case version, name, description, reader, detokenizer, defaultSplit = "default_split", splits, field, columns
    case expectedFiles = "expected_files"
  }

  public init(
    name: String, description: String? = nil, reader: ReaderKind, detokenizer: Detokenizer, defaultSplit: String,
    splits: [String: [String]], field: TextFields? = nil, columns: [String] = [], expectedFiles: [String: Int] = [:],
    version: Int = TaskSpec.currentVersion, taskFileDirectory: URL? = nil
  ) {
    self.taskFileDirectory = taskFileDirectory
    self.version = version
    self.name = name
    self.description = description
    self.reader = reader
    self.detokenizer = detokenizer
    self.defaultSplit = defaultSplit
    self.splits = splits
    self.field = field
    self.columns = columns
    self.expectedFiles = expectedFiles
  }

  /// `version` and `expected_files` are optional, as in the YAML.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    version = try c.decodeIfPresent(Int.self, forKey: .version) ?? TaskSpec.currentVersion
    name = try c.decode(String.self, forKey: .name)
    description = try c.decodeIfPresent(String.self, forKey: .description)
    reader = try c.decode(ReaderKind.self, forKey: .reader)
    detokenizer = try c.decode(Detokenizer.self, forKey: .detokenizer)
    defaultSplit = try c.decode(String.self, forKey: .defaultSplit)
    splits = try c.decode([String: [String]].self, forKey: .splits)
    field = try c.decodeIfPresent(TextFields.self, forKey: .field)
    columns = try c.decodeIfPresent([String].self, forKey: .columns) ?? []
    expectedFiles = try c.decodeIfPresent([String: Int].self, forKey: .expectedFiles) ?? [:]
  }

  /// Reads and validates a task YAML file.
  public static func load(file: URL) throws -> TaskSpec {
    let data: Data
    do {
      data = try Data(contentsOf: file)
    } catch {
      throw TaskError.unreadable(path: file.path, reason: oneLine(error))
    }
    guard let text = String(validating: [UInt8](data), as: UTF8.self) else {
      throw TaskError.invalidDefinition(file: file.path, reason: "not valid UTF-8")
    }
    return try TaskDefinition.parse(yaml: text, file: file.path)
  }

  /// Parses and validates task YAML text; `file` names it in errors.
  public static func parse(yaml: String, file: String) throws -> TaskSpec {
    try TaskDefinition.parse(yaml: yaml, file: file)
  }

  /// The split names, sorted.
  public var splitNames: [String] { splits.keys.sorted() }

  /// The number of files the complete distribution has for `split`, when the task says so (`expected_files`).
  /// Compare it with `files(split:dataDirectory:).count` to tell a partial local copy from a complete one.
  public func expectedFileCount(split: String) -> Int? { expectedFiles[split] }

  /// The data files of `split`, in reading order: entries in their listed order, the matches of a glob pattern
  /// sorted by code point, each file once. Throws naming the split, the first missing file or the first
  /// pattern that matches nothing.
  public func files(split: String, dataDirectory: URL) throws -> [URL] {
    try resolvedFiles(split: split, dataDirectory: dataDirectory).map(\.url)
  }

  /// The files of `split` with their paths relative to `dataDirectory` (as error messages name them).
  public func resolvedFiles(split: String, dataDirectory: URL) throws -> [(url: URL, relativePath: String)] {
    let root = taskFileDirectory ?? dataDirectory
    // How errors name the root: the option, or the task file's folder.
    let rootName = taskFileDirectory.map { "the task file's folder \($0.path)" } ?? "--data-dir"
    guard let entries = splits[split] else {
      throw TaskError.unknownSplit(task: name, split: split, known: splitNames)
    }
    var seen = Set<String>()
    var out: [(url: URL, relativePath: String)] = []
    func add(_ relative: String) {
      guard seen.insert(relative).inserted else { return }
      out.append((root.appendingPathComponent(relative), relative))
    }
    for entry in entries {
      if DataFiles.isPattern(entry) {
        let matches = DataFiles.expand(entry, under: root)
        guard !matches.isEmpty else { throw TaskError.noMatchingFiles(task: name, split: split, pattern: entry, root: rootName) }
        matches.forEach(add)
      } else {
        var isDirectory: ObjCBool = false
        let path = root.appendingPathComponent(entry).path
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
          throw TaskError.missingFile(task: name, split: split, path: entry, root: rootName)
        }
        guard !isDirectory.boolValue else {
          throw TaskError.unreadable(path: entry, reason: "is a directory, not a data file")
        }
        add(entry)
      }
    }
    return out
  }

  /// Every example of `split` as the reader yields it, before detokenization.
  public func rawExamples(split: String, dataDirectory: URL) throws -> [String] {
    var examples: [String] = []
    for file in try resolvedFiles(split: split, dataDirectory: dataDirectory) {
      examples += try reader.read(file: file.url, displayPath: file.relativePath, fields: field, columns: columns)
    }
    guard !examples.isEmpty else { throw TaskError.emptyDataset(task: name, split: split) }
    return examples
  }

  /// Reads and detokenizes every example of `split`: the strings the tokenizer sees.
  public func examples(split: String, dataDirectory: URL) throws -> [String] {
    let raw = try rawExamples(split: split, dataDirectory: dataDirectory)
    guard detokenizer != .none else { return raw }
    return raw.map(detokenizer.apply)
  }
}
