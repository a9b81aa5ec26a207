import Foundation
import LTMModels
import LTMReports

/// Everything `ltm-bench zero-shot` needs; validated by `ZeroShotRunner` before any work starts.
public struct ZeroShotConfiguration: Sendable {
  public var modelPaths: [URL]
  public var taskNames: [String]
  public var dataDirectory: URL
  /// nil: each task's default split (as the reference code uses).
  public var split: String?
  public var protocolName: String
  public var limitBlocks: Int?
  public var threads: Int
  /// Blocks per forward call (larger batches make larger GEMMs; memory grows linearly).
  public var batchBlocks: Int
  public var outputDirectory: URL
  public var tokenizerDirectory: URL?
  public var tasksDirectory: URL
  public var seed: UInt64
  /// Reuse per-block scores from the output directory's block cache (`--no-cache` turns this off).
  public var useCache: Bool
  /// Score only this shard's blocks (`--shard i/n`) and record them per block for `ltm-bench merge`.
  public var shard: ShardInfo?
  /// Compare the results against this baseline file and show the deltas in the report (`--baseline`).
  public var baseline: URL?
  public var comparison: ComparisonOptions
  /// The family settings (posterior inference, with a steps sweep when several T; diffusion-bound draws), read by
  /// the families that accept them.
  public var modelOptions: ModelRunOptions

  public init(
    modelPaths: [URL], taskNames: [String], dataDirectory: URL, split: String? = nil, protocolName: String = "ltm",
    limitBlocks: Int? = nil, threads: Int = ThreadCount.usable, batchBlocks: Int = 1, outputDirectory: URL,
    tokenizerDirectory: URL? = nil, tasksDirectory: URL, seed: UInt64 = 0, useCache: Bool = true,
    shard: ShardInfo? = nil, baseline: URL? = nil, comparison: ComparisonOptions = ComparisonOptions(),
    modelOptions: ModelRunOptions = .init()
  ) {
    self.modelOptions = modelOptions
    self.modelPaths = modelPaths
    self.taskNames = taskNames
    self.dataDirectory = dataDirectory
    self.split = split
    self.protocolName = protocolName
    self.limitBlocks = limitBlocks
    self.threads = threads
    self.batchBlocks = batchBlocks
    self.outputDirectory = outputDirectory
    self.tokenizerDirectory = tokenizerDirectory
    self.tasksDirectory = tasksDirectory
    self.seed = seed
    self.useCache = useCache
    self.shard = shard
    self.baseline = baseline
    self.comparison = comparison
  }

  func validate() throws {
    if modelPaths.isEmpty { throw HarnessError.invalidArgument("no model given: pass --model PATH") }
    if taskNames.isEmpty { throw HarnessError.invalidArgument("no task given: pass --tasks ptb,wikitext2,lm1b") }
    if let limit = limitBlocks, limit < 1 { throw HarnessError.invalidArgument("--limit-blocks must be at least 1, got \(limit)") }
    try ThreadCount.validate(threads)
    if batchBlocks < 1 { throw HarnessError.invalidArgument("--batch-blocks must be at least 1, got \(batchBlocks)") }
    try InputChecks.validate(dataDirectory: dataDirectory, modelPaths: modelPaths, shard: shard)
    try modelOptions.validate()
    if let t = comparison.tolerance, !(t >= 0) { throw HarnessError.invalidArgument("--tolerance must be at least 0, got \(t)") }
  }
}

/// Checks every command makes of its paths and shard before any work starts.
enum InputChecks {
  static func validate(dataDirectory: URL, modelPaths: [URL], shard: ShardInfo?) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dataDirectory.path, isDirectory: &isDir), isDir.boolValue else {
      throw HarnessError.invalidArgument("--data-dir \(dataDirectory.path) is not a directory")
    }
    for path in modelPaths where !FileManager.default.fileExists(atPath: path.path) {
      throw HarnessError.invalidArgument("--model \(path.path) does not exist")
    }
    if let shard, shard.count < 1 || !(0..<shard.count).contains(shard.index) {
      throw HarnessError.invalidArgument("--shard \(shard.index)/\(shard.count): i is 0-based and must be in 0...\(max(shard.count - 1, 0))")
    }
  }
}
