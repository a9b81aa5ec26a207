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
  /// The family settings handed to each model's few-shot adapter (posterior fits, steps, fast lr; diffusion draws
  /// and sampler steps), read by the families that accept them.
  public var modelOptions: ModelRunOptions
  /// Resamples for the bootstrap standard error of perplexity.
  public var bootstrapIterations: Int

  public init(
    modelPaths: [URL], taskNames: [String], shots: [Int]? = nil, limit: Int? = nil, dataDirectory: URL,
    outputDirectory: URL, tasksDirectory: URL, tokenizerDirectory: URL? = nil, seed: UInt64 = 0,
    shotPool: ShotPool = .fewshot, shard: ShardInfo? = nil, threads: Int = ThreadCount.usable, useCache: Bool = true,
    modelOptions: ModelRunOptions = .init(), bootstrapIterations: Int = 1000
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
    self.modelOptions = modelOptions
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

  func validate() throws {
    if modelPaths.isEmpty { throw HarnessError.invalidArgument("no model given: pass --model PATH") }
    if taskNames.isEmpty { throw HarnessError.invalidArgument("no task given: pass --tasks gsm8k_ltm,arithmetic_2da,lambada_openai") }
    if let limit, limit < 1 { throw HarnessError.invalidArgument("--limit must be at least 1, got \(limit)") }
    if let shots, shots.isEmpty { throw HarnessError.invalidArgument("--shots needs at least one value") }
    try ThreadCount.validate(threads)
    if bootstrapIterations < 2 { throw HarnessError.invalidArgument("bootstrap iterations must be at least 2") }
    try InputChecks.validate(dataDirectory: dataDirectory, modelPaths: modelPaths, shard: shard)
    try modelOptions.validate()
    _ = try modelOptions.latent.singleSteps(command: "fewshot")
    if let k = modelOptions.latent.freshSamples {
      throw HarnessError.invalidArgument("--elbo-samples \(k): fresh-ε bounds are a zero-shot estimate; few-shot fits report the fitted ε's bound")
    }
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
