import Foundation
import LTMDownload
import LTMTasks

/// Download on first use: the manifest files a zero-shot run reads, so that a run without `--data-dir`
/// can fill (or, offline, check) the cache first and then read it as its data directory.
public enum DataProvisioning {
  /// The files of each task's scored split (`split`, else the protocol's, else the task's default), by the
  /// same rule as `ZeroShotRunner` (no protocol: `split` or the default, as mauve reads prompts). A task the
  /// download manifest does not know is an error naming it.
  public static func requiredFiles(
    taskNames: [String], split: String?, protocolName: String?, tasksDirectory: URL
  ) throws -> [ManifestFile] {
    let manifest = try DatasetManifest.load(file: DatasetManifest.location(tasksDirectory: tasksDirectory))
    let catalog = try TaskCatalog.load(directory: tasksDirectory)
    let protocolSplit = try protocolName.flatMap { try BlockProtocol.named($0).split }
    var files: [ManifestFile] = []
    for name in try catalog.expand(taskNames) {
      let spec = try catalog.task(named: name)
      // A user's task whose data lies beside its file needs nothing from the cache.
      if spec.taskFileDirectory != nil { continue }
      guard manifest.names.contains(spec.name) else {
        throw HarnessError.invalidArgument(
          "task \(spec.name) has no download source (known: \(manifest.names.joined(separator: ", "))); pass --data-dir DIR with its files")
      }
      let chosen = split ?? protocolSplit ?? spec.defaultSplit
      for file in try manifest.files(datasets: [spec.name], split: chosen) where !files.contains(where: { $0.path == file.path }) {
        files.append(file)
      }
    }
    return files
  }
}

extension DataProvisioning {
  /// Few-shot: the manifest files behind every data file the tasks name, all splits (the evaluated one and the shot
  /// pool), matched by path. A file the manifest does not know is an error naming it and its task.
  public static func requiredFewShotFiles(
    taskNames: [String], fewShotTasksDirectory: URL, manifestTasksDirectory: URL
  ) throws -> [ManifestFile] {
    let manifest = try DatasetManifest.load(file: DatasetManifest.location(tasksDirectory: manifestTasksDirectory))
    let catalog = try FewShotCatalog.load(directory: fewShotTasksDirectory)
    var files: [ManifestFile] = []
    for name in taskNames {
      let task = try catalog.task(named: name)
      for path in task.splits.keys.sorted().flatMap({ task.splits[$0]! }) where !files.contains(where: { $0.path == path }) {
        guard let file = manifest.files.first(where: { $0.path == path }) else {
          throw HarnessError.invalidArgument("few-shot task \(task.name) reads \(path), which has no download source; pass --data-dir DIR with its files")
        }
        files.append(file)
      }
    }
    return files
  }
}
