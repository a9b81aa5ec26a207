import Foundation
import LTMPaths
import Yams

/// Strict reading of a task YAML file.
///
/// A decoder that ignores unknown keys would let a typo such as `detokeniser: wikitext` silently evaluate raw
/// text, which changes the perplexity without any sign. So the YAML is read as a node tree and every key and
/// value is checked, and each error names the file, the line and the key:
///
/// ```yaml
/// version: 1                     # optional; only 1 exists
/// name: lm1b                     # letters, digits, '.', '_', '-'
/// description: One Billion Word  # optional
/// reader: lm1b_lines             # ptb_lines | wikitext_raw | lm1b_lines | plain_text | jsonl | csv
/// detokenizer: lm1b              # none | ptb | wikitext | lm1b | lambada | scientific_papers
/// default_split: test            # one of the splits
/// splits:                        # split -> file names or glob patterns, relative to --data-dir
///   test: ["lm1b/news.en.heldout-*"]
/// expected_files:                # optional: split -> file count of the complete distribution
///   test: 50
/// field: text                    # jsonl and csv, required there: the text field, or a list of fields
/// join: " "                      # optional: joins a list of fields, or the strings of a list-valued field
/// columns: [label, title, text]  # csv only, required there: the column names (the files have no header)
/// relative_to: task_file         # optional: split files lie beside this task file (default: data_dir, --data-dir)
/// ```
enum TaskDefinition {
  static let keys = [
    "version", "name", "description", "reader", "detokenizer", "default_split", "splits", "expected_files", "field",
    "join", "columns", "relative_to",
  ]

  static func parse(yaml: String, file: String) throws -> TaskSpec {
    let context = Context(file: file)
    let values = try topLevel(yaml: yaml, keys: keys, context: context)

    var version = TaskSpec.currentVersion
    if let node = values["version"], !isNull(node) {
      guard node.tag.rawValue == Tag.Name.int.rawValue, let v = node.int else {
        throw context.fail("key 'version': expected an integer, got '\(describe(node))'", at: node)
      }
      guard v == TaskSpec.currentVersion else {
        throw context.fail("key 'version': unsupported version \(v) (this build reads version \(TaskSpec.currentVersion))", at: node)
      }
      version = v
    }

    let name = try context.requiredString("name", in: values)
    guard name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
    else {
      throw context.fail("key 'name': '\(name)' may only hold letters, digits, '.', '_' and '-'", at: values["name"])
    }
    let description = try context.optionalString("description", in: values)
    let reader: ReaderKind = try context.requiredEnum("reader", in: values)
    let detokenizer: Detokenizer = try context.requiredEnum("detokenizer", in: values)
    let defaultSplit = try context.requiredString("default_split", in: values)

    let splits = try parseSplits(values["splits"], context: context)
    guard splits[defaultSplit] != nil else {
      throw context.fail(
        "key 'default_split': '\(defaultSplit)' is not one of the splits (\(splits.keys.sorted().joined(separator: ", ")))",
        at: values["default_split"])
    }

    var expectedFiles: [String: Int] = [:]
    if let node = values["expected_files"], !isNull(node) {
      guard case .mapping(let counts) = node else {
        throw context.fail("key 'expected_files': expected a mapping of split names to file counts", at: node)
      }
      for (splitKey, countNode) in counts {
        let split = splitKey.scalar?.string ?? ""
        guard splits[split] != nil else {
          throw context.fail("key 'expected_files': '\(split)' is not one of the splits", at: splitKey)
        }
        guard countNode.tag.rawValue == Tag.Name.int.rawValue, let count = countNode.int, count >= 1 else {
          throw context.fail("key 'expected_files.\(split)': expected a positive integer, got '\(describe(countNode))'", at: countNode)
        }
        expectedFiles[split] = count
      }
    }

    let (field, columns) = try textFields(reader: reader, values: values, context: context)
    var taskFileDirectory: URL?
    switch try context.optionalString("relative_to", in: values) {
    case nil, "data_dir": break
    case "task_file": taskFileDirectory = URL(fileURLWithPath: file).deletingLastPathComponent()
    case let other?: throw context.fail("key 'relative_to': '\(other)' (known: data_dir, task_file)", at: values["relative_to"])
    }

    return TaskSpec(
      name: name, description: description, reader: reader, detokenizer: detokenizer, defaultSplit: defaultSplit,
      splits: splits, field: field, columns: columns, expectedFiles: expectedFiles, version: version, taskFileDirectory: taskFileDirectory)
  }

  /// The top-level mapping of a task or preset file, key → node, every key one of `keys` and none twice.
  static func topLevel(yaml: String, keys: [String], context: Context) throws -> [String: Node] {
    let root: Node?
    do {
      root = try Yams.compose(yaml: yaml)
    } catch {
      throw context.fail("not valid YAML: \(yamlMessage(error))")
    }
    guard let root else { throw context.fail("the file is empty") }
    guard case .mapping(let mapping) = root else {
      throw context.fail("expected a mapping of keys (\(keys.joined(separator: ", ")))", at: root)
    }
    var values: [String: Node] = [:]
    for (keyNode, value) in mapping {
      guard case .scalar(let scalar) = keyNode else { throw context.fail("keys must be plain words", at: keyNode) }
      let key = scalar.string
      guard keys.contains(key) else {
        throw context.fail("unknown key '\(key)' (allowed: \(keys.joined(separator: ", ")))", at: keyNode)
      }
      guard values[key] == nil else { throw context.fail("key '\(key)' appears twice", at: keyNode) }
      values[key] = value
    }
    return values
  }

  /// `splits`: split name → file names or glob patterns, each a plain relative path (read under --data-dir, or beside
  /// the task file with `relative_to: task_file`, never above it).
  private static func parseSplits(_ node: Node?, context: Context) throws -> [String: [String]] {
    guard let splitsNode = node, !isNull(splitsNode) else {
      throw context.fail("missing key 'splits' (split name -> list of files or glob patterns under --data-dir)")
    }
    guard case .mapping(let splitMapping) = splitsNode, !splitMapping.isEmpty else {
      throw context.fail("key 'splits': expected a mapping of split names to lists of files, e.g. test: [data.txt]", at: splitsNode)
    }
    var splits: [String: [String]] = [:]
    for (splitKey, list) in splitMapping {
      guard case .scalar(let s) = splitKey, !s.string.isEmpty else {
        throw context.fail("key 'splits': split names must be plain words", at: splitKey)
      }
      let split = s.string
      guard splits[split] == nil else { throw context.fail("key 'splits': split '\(split)' appears twice", at: splitKey) }
      guard case .sequence(let items) = list, !items.isEmpty else {
        throw context.fail("key 'splits.\(split)': expected a non-empty list of file names or glob patterns", at: list)
      }
      splits[split] = try items.map { item in
        guard case .scalar(let entry) = item, !isNull(item), !entry.string.isEmpty else {
          throw context.fail("key 'splits.\(split)': every entry must be a file name or glob pattern", at: item)
        }
        do {
          return try RelativePath(validating: entry.string).string
        } catch {
          throw context.fail("key 'splits.\(split)': \(error); entries are read under --data-dir", at: item)
        }
      }
    }
    return splits
  }

  /// `field`, `join` and `columns`: what the jsonl and csv readers take from a record (`TextFields`).
  private static func textFields(reader: ReaderKind, values: [String: Node], context: Context) throws -> (TextFields?, [String]) {
    let structured: Set<ReaderKind> = [.jsonl, .csv]
    for key in ["field", "join", "columns"] where values[key] != nil && !structured.contains(reader) {
      throw context.fail("key '\(key)': only the jsonl and csv readers use it (reader is \(reader.rawValue))", at: values[key])
    }
    guard structured.contains(reader) else { return (nil, []) }
    guard let fieldNode = values["field"], !isNull(fieldNode) else {
      throw context.fail("missing key 'field': the \(reader.rawValue) reader needs the name of the text field")
    }
    let names = try context.names("field", fieldNode)
    var join: String?
    if let node = values["join"], !isNull(node) {
      guard case .scalar(let scalar) = node else { throw context.fail("key 'join': expected a string", at: node) }
      join = scalar.string
    }
    if names.count > 1 && join == nil {
      throw context.fail("key 'field': several fields need 'join', the text between them", at: fieldNode)
    }
    var columns: [String] = []
    if let node = values["columns"], !isNull(node) {
      guard reader == .csv else { throw context.fail("key 'columns': only the csv reader uses it", at: node) }
      columns = try context.names("columns", node)
      guard Set(columns).count == columns.count else { throw context.fail("key 'columns': a column is named twice", at: node) }
      if let unknown = names.first(where: { !columns.contains($0) }) {
        throw context.fail("key 'field': '\(unknown)' is not one of the columns (\(columns.joined(separator: ", ")))", at: fieldNode)
      }
    } else if reader == .csv {
      throw context.fail("missing key 'columns': the csv reader needs the column names (the files have no header row)")
    }
    return (TextFields(names, join: join), columns)
  }

  /// Builds the one-line errors of one file (task and preset files).
  struct Context {
    var file: String

    func fail(_ reason: String, at node: Node? = nil) -> TaskError {
      let line = node?.mark.map { "line \($0.line): " } ?? ""
      return .invalidDefinition(file: file, reason: line + oneLine(reason))
    }

    func requiredString(_ key: String, in values: [String: Node]) throws -> String {
      guard let value = try optionalString(key, in: values) else { throw fail("missing key '\(key)'") }
      return value
    }

    func optionalString(_ key: String, in values: [String: Node]) throws -> String? {
      guard let node = values[key], !isNull(node) else { return nil }
      guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
        throw fail("key '\(key)': expected a string", at: node)
      }
      return scalar.string
    }

    /// A name or a non-empty list of names.
    func names(_ key: String, _ node: Node) throws -> [String] {
      let items: [Node]
      switch node {
      case .scalar: items = [node]
      case .sequence(let sequence): items = Array(sequence)
      default: throw fail("key '\(key)': expected a name or a list of names", at: node)
      }
      let names = try items.map { item -> String in
        guard case .scalar(let scalar) = item, !TaskDefinition.isNull(item), !scalar.string.isEmpty else {
          throw fail("key '\(key)': expected a name or a list of names", at: item)
        }
        return scalar.string
      }
      guard !names.isEmpty else { throw fail("key '\(key)': expected at least one name", at: node) }
      return names
    }

    func requiredEnum<T: RawRepresentable & CaseIterable>(_ key: String, in values: [String: Node]) throws -> T
    where T.RawValue == String {
      let raw = try requiredString(key, in: values)
      guard let value = T(rawValue: raw) else {
        let known = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw fail("key '\(key)': unknown value '\(raw)' (known: \(known))", at: values[key])
      }
      return value
    }
  }

  private static func isNull(_ node: Node) -> Bool {
    if case .scalar = node { return node.tag.rawValue == Tag.Name.null.rawValue }
    return false
  }

  private static func describe(_ node: Node) -> String {
    switch node {
    case .scalar(let s): return s.string
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
  }

  /// Yams' messages quote the offending YAML over several lines; keep the position and the problem.
  private static func yamlMessage(_ error: Error) -> String {
    guard let yamlError = error as? YamlError else { return oneLine(error) }
    switch yamlError {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
      .composer(_, let problem, let mark, _):
      return "line \(mark.line), column \(mark.column): \(problem)"
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
      return "line \(context.mark.line): key \(keys) appears twice"
    default:
      return oneLine(String(describing: yamlError))
    }
  }
}
