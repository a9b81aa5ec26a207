import Foundation
import LTMReports

/// `progress.json` in a zero-shot output directory: what the run set out to score, so that `ltm-bench status` can
/// count, from the block cache, how far a running, killed or finished shard got, and `merge` can name a shard
/// that has not finished. Written atomically when every task is prepared (before the first block is scored) and
/// again, with `finished` set, after results.json.
public struct RunProgress: Codable, Sendable, Equatable {
  public static let fileName = "progress.json"

  /// One result row to compute: a model (one scoring variant of it) on one task.
  public struct Unit: Codable, Sendable, Equatable {
    public var model: String
    public var task: String
    public var split: String
    public var protocolName: String
    /// The block-cache key parts that identify this row's records (`BlockCache.Key` minus block and tokens).
    public var modelKey: String
    public var settings: String
    /// The run's blocks of the task (before sharding); the shard scores those with `index % count == shard`.
    public var blocksInRun: Int
    /// The blocks this process scores, and how many of them the cache already held when it started.
    public var blocks: Int
    public var cachedAtStart: Int

    enum CodingKeys: String, CodingKey {
      case model, task, split, protocolName = "protocol", modelKey = "model_key", settings
      case blocksInRun = "blocks_in_run", blocks, cachedAtStart = "cached_at_start"
    }

    public init(
      model: String, task: String, split: String, protocolName: String, modelKey: String, settings: String,
      blocksInRun: Int, blocks: Int, cachedAtStart: Int
    ) {
      (self.model, self.task, self.split, self.protocolName) = (model, task, split, protocolName)
      (self.modelKey, self.settings) = (modelKey, settings)
      (self.blocksInRun, self.blocks, self.cachedAtStart) = (blocksInRun, blocks, cachedAtStart)
    }
  }

  public var shard: ShardInfo?
  public var startedAt: Date
  public var host: String
  public var finished: Bool
  public var units: [Unit]

  enum CodingKeys: String, CodingKey { case shard, startedAt = "started_at", host, finished, units }

  public init(shard: ShardInfo?, startedAt: Date, host: String, finished: Bool, units: [Unit]) {
    (self.shard, self.startedAt, self.host, self.finished, self.units) = (shard, startedAt, host, finished, units)
  }

  public static func url(in directory: URL) -> URL { directory.appendingPathComponent(fileName) }

  /// The progress file of `directory`, or nil when there is none (no zero-shot run has started there).
  public static func load(in directory: URL) throws -> RunProgress? {
    let url = url(in: directory)
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    do {
      let decoder = JSONDecoder()
      decoder.dateDecodingStrategy = .iso8601
      return try decoder.decode(RunProgress.self, from: Data(contentsOf: url))
    } catch {
      throw HarnessError.invalidArgument("\(url.path) is not an ltm-bench progress file (\(error.localizedDescription))")
    }
  }

  func write(in directory: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    try encoder.encode(self).write(to: Self.url(in: directory), options: .atomic)
  }

  /// Whether a block of the run belongs to this progress file's shard.
  func selects(block: Int, of unit: Unit) -> Bool {
    block < unit.blocksInRun && (shard?.contains(block: block) ?? true)
  }
}
