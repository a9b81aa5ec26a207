import Foundation
import LTMReports
import LTMMetrics

/// How far a zero-shot run got, read from its output folders without touching them: one folder (a run or one
/// shard), or a base folder whose subfolders are the shards of one run (`--output-dir BASE/shard-{shard}`).
/// Blocks done are counted in each shard's block cache, so a killed or requeued element shows what it kept.
public struct RunStatus: Sendable {
  public struct Shard: Sendable {
    public var directory: URL
    public var progress: RunProgress
    public var units: [Unit]
    /// When the block cache last grew (its modification time), or when the run started.
    public var lastActivity: Date
    /// Seconds left at this shard's rate since it started; nil when finished or when no block was computed yet.
    public var etaSeconds: Double?

    public var finished: Bool { progress.finished }
    public var done: Int { units.reduce(0) { $0 + $1.done } }
    public var total: Int { units.reduce(0) { $0 + $1.total } }
    public var resultsJSON: URL { directory.appendingPathComponent("results.json") }
  }

  public struct Unit: Sendable {
    public var model: String
    public var task: String
    public var split: String
    public var done: Int
    public var total: Int
  }

  public var shards: [Shard]
  /// The shard count all shards name (nil for an unsharded run), and the indices with no folder.
  public var shardCount: Int?
  public var missing: [Int]

  public static func read(_ directory: URL) throws -> RunStatus {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw HarnessError.invalidArgument("\(directory.path) is not a folder")
    }
    var folders = [directory]
    if try RunProgress.load(in: directory) == nil {
      let children = try fm.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.isDirectoryKey])
      folders = children.filter { fm.fileExists(atPath: RunProgress.url(in: $0).path) }.sorted { $0.path < $1.path }
    }
    guard !folders.isEmpty else {
      throw HarnessError.invalidArgument(
        "\(directory.path) holds no zero-shot run: no \(RunProgress.fileName) in it or in its subfolders (written by ltm-bench zero-shot when it starts scoring)")
    }
    let shards = try folders.map { try shard(in: $0) }
    return try RunStatus(shards: shards)
  }

  init(shards: [Shard]) throws {
    self.shards = shards.sorted { ($0.progress.shard?.index ?? -1) < ($1.progress.shard?.index ?? -1) }
    guard shards.count > 1 || shards.first?.progress.shard != nil else {
      (shardCount, missing) = (nil, [])
      return
    }
    var seen: [Int: URL] = [:]
    for s in shards {
      guard let info = s.progress.shard else {
        throw HarnessError.invalidArgument("\(s.directory.path) is an unsharded run, beside shard folders: not one sharded run")
      }
      if let count = shardCount, count != info.count {
        throw HarnessError.invalidArgument("\(s.directory.path) is shard \(info.index)/\(info.count), but other folders are shards of \(count)")
      }
      if let other = seen[info.index] {
        throw HarnessError.invalidArgument("shard \(info.index)/\(info.count) is in two folders, \(other.path) and \(s.directory.path)")
      }
      (shardCount, seen[info.index]) = (info.count, s.directory)
    }
    missing = (0..<shardCount!).filter { seen[$0] == nil }
  }

  /// The shards' results.json files, for `merge`: every shard present and finished, or an error naming the first
  /// one that is not.
  public func finishedResults() throws -> [URL] {
    if let count = shardCount, let index = missing.first {
      throw HarnessError.invalidArgument(
        "shard \(index)/\(count) is missing: no folder of it has started (\(missing.count) of \(count) shards missing)")
    }
    for s in shards where !s.finished || !FileManager.default.fileExists(atPath: s.resultsJSON.path) {
      let name = s.progress.shard.map { "shard \($0.index)/\($0.count)" } ?? "the run"
      throw HarnessError.invalidArgument(
        "\(name) in \(s.directory.path) has not finished: \(s.done) of \(s.total) blocks done; rerun it (it resumes from its block cache)")
    }
    return shards.map(\.resultsJSON)
  }

  private static func shard(in directory: URL) throws -> Shard {
    guard let progress = try RunProgress.load(in: directory) else {
      throw HarnessError.invalidArgument("\(directory.path) has no \(RunProgress.fileName)")
    }
    let cacheURL = directory.appendingPathComponent(BlockCache.fileName)
    var done = Set<BlockCache.Key>()
    var lastActivity = progress.startedAt
    if FileManager.default.fileExists(atPath: cacheURL.path) {
      done = Set(try Journal<BlockCache.Key, BlockRecord>.read(cacheURL).entries.keys)
      let modified = try FileManager.default.attributesOfItem(atPath: cacheURL.path)[.modificationDate] as? Date
      lastActivity = max(lastActivity, modified ?? lastActivity)
    }
    let units = progress.units.map { unit in
      let count = done.filter { key in
        key.model == unit.modelKey && key.task == unit.task && key.split == unit.split
          && key.protocolName == unit.protocolName && key.settings == unit.settings && progress.selects(block: key.block, of: unit)
      }.count
      return Unit(model: unit.model, task: unit.task, split: unit.split, done: min(count, unit.blocks), total: unit.blocks)
    }
    var shard = Shard(directory: directory, progress: progress, units: units, lastActivity: lastActivity, etaSeconds: nil)
    let computed = units.reduce(0) { $0 + $1.done } - progress.units.reduce(0) { $0 + $1.cachedAtStart }
    let elapsed = lastActivity.timeIntervalSince(progress.startedAt)
    if !progress.finished, computed > 0, elapsed > 0 {
      shard.etaSeconds = Double(shard.total - shard.done) * elapsed / Double(computed)
    }
    return shard
  }
}
