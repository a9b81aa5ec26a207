import Foundation

/// The task definitions of a `tasks/` directory, plus any YAML file a user names by path.
public struct TaskCatalog: Sendable {
  public var tasks: [String: TaskSpec]
  /// Named task lists (`presets/` below the tasks directory), e.g. `paper`.
  public var presets: [String: TaskPreset]

  public init(tasks: [String: TaskSpec], presets: [String: TaskPreset] = [:]) {
    self.tasks = tasks
    self.presets = presets
  }

  /// The task names, sorted.
  public var names: [String] { tasks.keys.sorted() }

  /// Loads every `*.yaml` and `*.yml` file of `directory` (not recursively). Any invalid file is an error,
  /// so a broken definition is found at once rather than when someone first asks for that task; two files
  /// defining the same name are an error naming both.
  public static func load(directory: URL) throws -> TaskCatalog {
    let tasks = try TaskFiles.loadAll(directory: directory, kind: "tasks", load: TaskSpec.load(file:), name: \.name)
    let presetDirectory = directory.appendingPathComponent("presets")
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: presetDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      return TaskCatalog(tasks: tasks)
    }
    let presets = try TaskFiles.loadAll(directory: presetDirectory, kind: "presets", load: TaskPreset.load(file:), name: \.name)
    for preset in presets.values {
      if tasks[preset.name] != nil {
        throw TaskError.invalidDefinition(file: presetDirectory.path, reason: "preset '\(preset.name)' has the name of a task")
      }
      if let unknown = preset.tasks.first(where: { tasks[$0] == nil }) {
        throw TaskError.invalidDefinition(file: presetDirectory.path, reason: "preset '\(preset.name)' lists unknown task '\(unknown)'")
      }
    }
    return TaskCatalog(tasks: tasks, presets: presets)
  }

  /// A task by name, or, when `name` is not a catalog name and looks like a path (it ends in `.yaml`/`.yml`
  /// or holds a `/`), the task defined in that file.
  public func task(named name: String) throws -> TaskSpec {
    if let spec = tasks[name] { return spec }
    return try TaskSpec.load(file: TaskFiles.path(for: name, known: names + presets.keys.sorted().map { "\($0) (preset)" }))
  }

  static func isTaskFile(_ name: String) -> Bool { name.hasSuffix(".yaml") || name.hasSuffix(".yml") }
}

/// Reading a folder of task files, shared by the zero-shot and few-shot catalogs.
enum TaskFiles {
  /// Every `*.yaml` / `*.yml` of `directory` (not recursively, hidden files skipped), by name. Any invalid file is
  /// an error, so a broken definition is found at once rather than when someone first asks for that task; two
  /// files defining the same name are an error naming both.
  static func loadAll<T>(directory: URL, kind: String, load: (URL) throws -> T, name: (T) -> String) throws -> [String: T] {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    } catch {
      throw TaskError.unreadable(path: directory.path, reason: "not a readable \(kind) directory")
    }
    var tasks: [String: T] = [:]
    var origin: [String: String] = [:]
    for fileName in names.sorted() where TaskCatalog.isTaskFile(fileName) && !fileName.hasPrefix(".") {
      let url = directory.appendingPathComponent(fileName)
      let task = try load(url)
      if let first = origin[name(task)] {
        throw TaskError.invalidDefinition(file: url.path, reason: "task name '\(name(task))' is already defined in \(first)")
      }
      origin[name(task)] = url.path
      tasks[name(task)] = task
    }
    return tasks
  }

  /// The task file `name` stands for when it is not a catalog name: a path (ending in `.yaml`/`.yml` or holding a
  /// `/`) to an existing file; otherwise the unknown-task error listing `known`.
  static func path(for name: String, known: [String]) throws -> URL {
    guard TaskCatalog.isTaskFile(name) || name.contains("/") else {
      throw TaskError.unknownTask(name: name, known: known)
    }
    let url = URL(fileURLWithPath: (name as NSString).expandingTildeInPath)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
      throw TaskError.unreadable(path: name, reason: "no such task file (known task names: \(known.joined(separator: ", ")))")
    }
    return url
  }
}
