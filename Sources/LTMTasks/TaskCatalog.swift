import Foundation

/// The task definitions of a `tasks/` directory, plus any YAML file a user names by path.
public struct TaskCatalog: Sendable {
  public var tasks: [String: TaskSpec]

  public init(tasks: [String: TaskSpec]) {
    self.tasks = tasks
  }

  /// The task names, sorted.
  public var names: [String] { tasks.keys.sorted() }

  /// Loads every `*.yaml` and `*.yml` file of `directory` (not recursively). Any invalid file is an error,
  /// so a broken definition is found at once rather than when someone first asks for that task; two files
  /// defining the same name are an error naming both.
  public static func load(directory: URL) throws -> TaskCatalog {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    } catch {
      throw TaskError.unreadable(path: directory.path, reason: "not a readable tasks directory")
    }
    var tasks: [String: TaskSpec] = [:]
    var origin: [String: String] = [:]
    for fileName in names.sorted() where isTaskFile(fileName) && !fileName.hasPrefix(".") {
      let url = directory.appendingPathComponent(fileName)
      let spec = try TaskSpec.load(file: url)
      if let first = origin[spec.name] {
        throw TaskError.invalidDefinition(file: url.path, reason: "task name '\(spec.name)' is already defined in \(first)")
      }
      origin[spec.name] = url.path
      tasks[spec.name] = spec
    }
    return TaskCatalog(tasks: tasks)
  }

  /// A task by name, or, when `name` is not a catalog name and looks like a path (it ends in `.yaml`/`.yml`
  /// or holds a `/`), the task defined in that file.
  public func task(named name: String) throws -> TaskSpec {
    if let spec = tasks[name] { return spec }
    guard Self.isTaskFile(name) || name.contains("/") else {
      throw TaskError.unknownTask(name: name, known: names)
    }
    let url = URL(fileURLWithPath: (name as NSString).expandingTildeInPath)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
      throw TaskError.unreadable(path: name, reason: "no such task file (known task names: \(names.joined(separator: ", ")))")
    }
    return try TaskSpec.load(file: url)
  }

  static func isTaskFile(_ name: String) -> Bool { name.hasSuffix(".yaml") || name.hasSuffix(".yml") }
}
