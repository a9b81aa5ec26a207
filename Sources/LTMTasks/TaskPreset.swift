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

  /// Read as strictly as a task file, by the same reader (`TaskDefinition.topLevel`, its `Context`).
  static func parse(yaml text: String, file: String) throws -> TaskPreset {
    let context = TaskDefinition.Context(file: file)
    let values = try TaskDefinition.topLevel(yaml: text, keys: keys, context: context)
    let name = try context.requiredString("name", in: values)
    guard case .sequence(let list)? = values["tasks"], !list.isEmpty else {
      throw context.fail("key 'tasks': expected a non-empty list of task names", at: values["tasks"])
    }
    let tasks = try context.names("tasks", values["tasks"]!)
    guard Set(tasks).count == tasks.count else { throw context.fail("key 'tasks': a task is listed twice", at: values["tasks"]) }
    return TaskPreset(name: name, description: try context.optionalString("description", in: values), tasks: tasks)
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
