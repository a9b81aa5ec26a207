import Foundation
import Yams

/// A named list of tasks (`tasks/presets/*.yaml`), so `--tasks paper` runs the papers' whole zero-shot table in their
/// column order. Strictly read, like a task file:
///
/// ```yaml
/// name: paper
/// description: the papers' seven zero-shot columns     # optional
/// tasks: [ptb, wikitext2, lm1b, lambada, ag_news, pubmed, arxiv]
/// ```
public struct TaskPreset: Sendable, Equatable {
  public var name: String
  public var description: String?
  public var tasks: [String]

  static let keys = ["name", "description", "tasks"]

  static func load(file: URL) throws -> TaskPreset {
    guard let text = try? String(contentsOf: file, encoding: .utf8) else {
      throw TaskError.invalidDefinition(file: file.path, reason: "not readable as UTF-8 text")
    }
    return try parse(yaml: text, file: file.path)
  }

  static func parse(yaml text: String, file: String) throws -> TaskPreset {
    let fail = { (reason: String) in TaskError.invalidDefinition(file: file, reason: reason) }
    let root: Node?
    do { root = try Yams.compose(yaml: text) } catch { throw fail("not valid YAML: \(oneLine(error))") }
    guard case .mapping(let mapping)? = root else { throw fail("expected a mapping of keys (\(keys.joined(separator: ", ")))") }
    var values: [String: Node] = [:]
    for (key, value) in mapping {
      guard let name = key.scalar?.string, keys.contains(name) else {
        throw fail("unknown key '\(key.scalar?.string ?? "?")' (allowed: \(keys.joined(separator: ", ")))")
      }
      values[name] = value
    }
    guard let name = values["name"]?.scalar?.string, !name.isEmpty else { throw fail("missing key 'name'") }
    guard case .sequence(let list)? = values["tasks"], !list.isEmpty,
      case let tasks = list.compactMap({ $0.scalar?.string }), tasks.count == list.count, !tasks.contains("")
    else { throw fail("key 'tasks': expected a non-empty list of task names") }
    guard Set(tasks).count == tasks.count else { throw fail("key 'tasks': a task is listed twice") }
    return TaskPreset(name: name, description: values["description"]?.scalar?.string, tasks: tasks)
  }
}

extension TaskCatalog {
  /// `names` with every preset replaced by its tasks, in order, each task once. Unknown names are left for
  /// `task(named:)` to report (a path to a user's task file is not a catalog name either).
  public func expand(_ names: [String]) throws -> [String] {
    var out: [String] = []
    for name in names {
      for task in presets[name]?.tasks ?? [name] where !out.contains(task) { out.append(task) }
    }
    return out
  }
}
