import Foundation
import LTMModels
import LTMReports
import LTMTasks
import LTMTokenizer

/// Everything `ltm-bench fewshot` needs; validated by `FewShotRunner` before any work starts.
public struct FewShotConfiguration: Sendable {
  public var modelPaths: [URL]
  public var taskNames: [String]
  /// Shot counts to run (`--shots 0,5,10`); nil: each task's `num_fewshot`.
  public var shots: [Int]?
  /// The first N documents of each task's evaluation split.
  public var limit: Int?
  public var dataDirectory: URL
  public var outputDirectory: URL
  /// The folder of few-shot task files (`tasks/fewshot`).
  public var tasksDirectory: URL
  public var tokenizerDirectory: URL?
  public var seed: UInt64
  public var shotPool: ShotPool
  public var shard: ShardInfo?
  public var threads: Int
  public var useCache: Bool
  /// Passed to the model factory (LTM fits, inference steps, fast lr).
  public var adapter: FewShotAdapterOptions
  /// Resamples for the bootstrap standard error of perplexity.
  public var bootstrapIterations: Int

  public init(
    modelPaths: [URL], taskNames: [String], shots: [Int]? = nil, limit: Int? = nil, dataDirectory: URL,
    outputDirectory: URL, tasksDirectory: URL, tokenizerDirectory: URL? = nil, seed: UInt64 = 0,
    shotPool: ShotPool = .fewshot, shard: ShardInfo? = nil, threads: Int = ThreadCount.usable, useCache: Bool = true,
    adapter: FewShotAdapterOptions = FewShotAdapterOptions(), bootstrapIterations: Int = 1000
  ) {
    self.modelPaths = modelPaths
    self.taskNames = taskNames
    self.shots = shots
    self.limit = limit
    self.dataDirectory = dataDirectory
    self.outputDirectory = outputDirectory
    self.tasksDirectory = tasksDirectory
    self.tokenizerDirectory = tokenizerDirectory
    self.seed = seed
    self.shotPool = shotPool
    self.shard = shard
    self.threads = threads
    self.useCache = useCache
    self.adapter = adapter
    self.bootstrapIterations = bootstrapIterations
  }

  /// Parses `--shots`: "5" or "0,5,10".
  public static func parseShots(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let values = try parts.map { part -> Int in
      guard let k = Int(part), k >= 0 else {
        throw HarnessError.invalidArgument("--shots expects non-negative integers like 5 or 0,5,10, got '\(text)'")
      }
      return k
    }
    guard Set(values).count == values.count else { throw HarnessError.invalidArgument("--shots lists a value twice: \(text)") }
    return values
  }

  /// Parses `--shot-pool`.
  public static func parseShotPool(_ text: String) throws -> ShotPool {
    guard let pool = ShotPool(rawValue: text) else {
      throw HarnessError.invalidArgument(
        "--shot-pool must be \(ShotPool.allCases.map(\.rawValue).joined(separator: " or ")), got '\(text)'")
    }
    return pool
  }

  func validate() throws {
    if modelPaths.isEmpty { throw HarnessError.invalidArgument("no model given: pass --model PATH") }
    if taskNames.isEmpty { throw HarnessError.invalidArgument("no task given: pass --tasks gsm8k_ltm,arithmetic_2da,lambada_openai") }
    if let limit, limit < 1 { throw HarnessError.invalidArgument("--limit must be at least 1, got \(limit)") }
    if let shots, shots.isEmpty { throw HarnessError.invalidArgument("--shots needs at least one value") }
    try ThreadCount.validate(threads)
    if bootstrapIterations < 2 { throw HarnessError.invalidArgument("bootstrap iterations must be at least 2") }
    try InputChecks.validate(dataDirectory: dataDirectory, modelPaths: modelPaths, shard: shard)
    try adapter.validate()
  }
}

/// Family-specific settings handed to the model factory (`makeFewShotModel`).
public struct FewShotAdapterOptions: Sendable, Equatable {
  /// LTM: independent posterior fits per document, each decoded greedily (pass@K); nil: the task's candidates.
  public var fits: Int?
  /// LTM: posterior-inference steps; nil: the checkpoint's num_steps.
  public var inferenceSteps: Int?
  /// LTM: fast-loop learning rate; nil: the checkpoint's fast_lr.
  public var fastLearningRate: Double?
  /// MDLM: (t, mask) draws per NELBO of a loglikelihood (`--time-samples`); nil: 1.
  public var timeSamples: Int?
  /// MDLM: reverse steps T of the prefix-conditioned sampler (`--steps`); nil: 128.
  public var samplerSteps: Int?

  public init(fits: Int? = nil, inferenceSteps: Int? = nil, fastLearningRate: Double? = nil, timeSamples: Int? = nil, samplerSteps: Int? = nil) {
    self.fits = fits
    self.inferenceSteps = inferenceSteps
    self.fastLearningRate = fastLearningRate
    self.timeSamples = timeSamples
    self.samplerSteps = samplerSteps
  }

  public var isDefault: Bool { self == FewShotAdapterOptions() }

  func validate() throws {
    if let fits, fits < 1 { throw HarnessError.invalidArgument("--fits must be at least 1, got \(fits)") }
    if let t = inferenceSteps, t < 0 { throw HarnessError.invalidArgument("--inference-steps must be ≥ 0, got \(t)") }
    if let lr = fastLearningRate, !(lr > 0 && lr.isFinite) {
      throw HarnessError.invalidArgument("--fast-lr must be a positive number, got \(lr)")
    }
    if let k = timeSamples, !(1...OptionBounds.samples).contains(k) {
      throw HarnessError.invalidArgument("--time-samples must be in 1...\(OptionBounds.samples), got \(k)")
    }
    if let t = samplerSteps, t < 1 { throw HarnessError.invalidArgument("--steps must be at least 1, got \(t)") }
  }
}

/// A model ready for few-shot evaluation: the adapter, its tokenizer and what the report records about it.
public struct FewShotModelEntry {
  public var model: FewShotLanguageModel
  public var tokenizer: GPT2Tokenizer
  public var info: ModelInfo
  /// The checkpoint's part of the cache key (family + checkpoint file digests).
  public var cacheKey: String

  public init(model: FewShotLanguageModel, tokenizer: GPT2Tokenizer, info: ModelInfo, cacheKey: String) {
    self.model = model
    self.tokenizer = tokenizer
    self.info = info
    self.cacheKey = cacheKey
  }
}

/// The few-shot adapter of a loaded checkpoint (GPT-2, LTM or MDLM; `FewShotAdapters.swift`), with the command's
/// family settings mapped onto it.
public func makeFewShotModel(loaded: LoadedModel, options: FewShotAdapterOptions) throws -> FewShotLanguageModel {
  try options.validate()
  let defaults = FewShotModelOptions()
  return try fewShotModel(loaded, options: FewShotModelOptions(
    ltmSteps: options.inferenceSteps, ltmFastLearningRate: options.fastLearningRate, ltmFits: options.fits ?? defaults.ltmFits,
    mdlmTimeSamples: options.timeSamples ?? defaults.mdlmTimeSamples, mdlmSamplerSteps: options.samplerSteps ?? defaults.mdlmSamplerSteps))
}
