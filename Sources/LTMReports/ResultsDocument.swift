import Foundation
import LTMTensor
import LTMMetrics

/// The `results.json` schema (documented in `docs/results-schema.md`). Bump `currentSchemaVersion` on any
/// change that renames or removes a field or changes a field's meaning; adding a field is not a bump.
public struct ResultsDocument: Codable, Sendable, Equatable {
  public static let currentSchemaVersion = 1

  public var schemaVersion: Int
  public var command: String
  public var tool: ToolInfo
  public var run: RunInfo
  public var models: [ModelInfo]
  public var tasks: [TaskInfo]
  public var results: [ResultEntry]
  /// In a baseline file: the relative tolerance of every result without its own `tolerance` (see
  /// `ToleranceResolver` for the precedence). Absent in a plain run's results.
  public var defaultTolerance: Double?
  /// `ltm-bench fewshot` runs: the few-shot results (absent in zero-shot files; adding it is not a schema bump).
  public var fewshot: FewShotSection?

  public init(
    command: String, tool: ToolInfo, run: RunInfo, models: [ModelInfo], tasks: [TaskInfo], results: [ResultEntry],
    defaultTolerance: Double? = nil, fewshot: FewShotSection? = nil
  ) {
    self.fewshot = fewshot
    self.schemaVersion = Self.currentSchemaVersion
    self.command = command
    self.tool = tool
    self.run = run
    self.models = models
    self.tasks = tasks
    self.results = results
    self.defaultTolerance = defaultTolerance
  }

  enum CodingKeys: String, CodingKey {
    case schemaVersion = "schema_version", command, tool, run, models, tasks, results
    case defaultTolerance = "default_tolerance", fewshot
  }
}

public struct ToolInfo: Codable, Sendable, Equatable {
  public var name: String
  public var version: String
  public init(name: String = "ltm-bench", version: String) {
    self.name = name
    self.version = version
  }
}

/// Settings and environment of the run: everything needed to reproduce it.
public struct RunInfo: Codable, Sendable, Equatable {
  public var startedAt: String
  public var wallSeconds: Double
  public var seed: UInt64
  public var threads: Int
  public var protocolName: String
  public var split: String?
  public var limitBlocks: Int?
  public var dataDirectory: String
  public var host: String
  public var resumedBlocks: Int
  /// The protocol's one-line description (what the block layout is and where it comes from).
  public var protocolSummary: String?
  /// Set when this file holds one shard of a run (`--shard i/n`): its results cover only that shard's blocks.
  public var shard: ShardInfo?
  /// Set on a file made by `ltm-bench merge`: how many shard files it combines.
  public var mergedShards: Int?
  /// Operating system and BLAS build, for provenance (BLAS kernels differ in rounding between CPUs).
  public var os: String?
  public var blas: String?
  /// The OpenBLAS kernels that ran (core, how they were chosen, the CPU): they decide a matmul's last bits and speed.
  public var blasKernels: BLASKernelStatus?

  public init(
    startedAt: String, wallSeconds: Double, seed: UInt64, threads: Int, protocolName: String, split: String?,
    limitBlocks: Int?, dataDirectory: String, host: String, resumedBlocks: Int, protocolSummary: String? = nil,
    shard: ShardInfo? = nil, mergedShards: Int? = nil, os: String? = nil, blas: String? = nil,
    blasKernels: BLASKernelStatus? = nil
  ) {
    self.blasKernels = blasKernels
    self.protocolSummary = protocolSummary
    self.shard = shard
    self.mergedShards = mergedShards
    self.os = os
    self.blas = blas
    self.startedAt = startedAt
    self.wallSeconds = wallSeconds
    self.seed = seed
    self.threads = threads
    self.protocolName = protocolName
    self.split = split
    self.limitBlocks = limitBlocks
    self.dataDirectory = dataDirectory
    self.host = host
    self.resumedBlocks = resumedBlocks
  }

  enum CodingKeys: String, CodingKey {
    case startedAt = "started_at", wallSeconds = "wall_seconds", seed, threads, protocolName = "protocol", split
    case limitBlocks = "limit_blocks", dataDirectory = "data_dir", host, resumedBlocks = "resumed_blocks"
    case protocolSummary = "protocol_summary", shard, mergedShards = "merged_shards", os, blas
    case blasKernels = "blas_kernels"
  }
}

/// A file with its SHA-256, for provenance.
public struct FileDigest: Codable, Sendable, Equatable {
  public var path: String
  public var bytes: Int
  public var sha256: String
  public init(path: String, bytes: Int, sha256: String) {
    self.path = path
    self.bytes = bytes
    self.sha256 = sha256
  }
}

public struct ModelInfo: Codable, Sendable, Equatable {
  /// Short label used in tables (the checkpoint folder's name, made unique).
  public var id: String
  public var path: String
  public var family: String
  public var parameters: Int
  public var bound: String
  public var checkpointFiles: [FileDigest]

  public init(id: String, path: String, family: String, parameters: Int, bound: String, checkpointFiles: [FileDigest]) {
    self.id = id
    self.path = path
    self.family = family
    self.parameters = parameters
    self.bound = bound
    self.checkpointFiles = checkpointFiles
  }

  enum CodingKeys: String, CodingKey {
    case id, path, family, parameters, bound, checkpointFiles = "checkpoint_files"
  }
}

public struct TaskInfo: Codable, Sendable, Equatable {
  public var name: String
  public var split: String
  public var detokenizer: String
  public var files: [FileDigest]
  public var examples: Int
  public var tokens: Int
  /// Blocks the protocol makes from the whole split, before `--limit-blocks`.
  public var blocksAvailable: Int
  /// Blocks actually scored (after `--limit-blocks`).
  public var blocksScored: Int
  /// SHA-256 of the scored blocks as little-endian int32: two runs scored the same tokens iff these match.
  public var blocksSHA256: String

  /// How many data files the full split has (LM1B test: 50 shards), when the task says; `files` may hold fewer.
  public var filesExpected: Int?

  public init(
    name: String, split: String, detokenizer: String, files: [FileDigest], examples: Int, tokens: Int,
    blocksAvailable: Int, blocksScored: Int, blocksSHA256: String, filesExpected: Int? = nil
  ) {
    self.filesExpected = filesExpected
    self.name = name
    self.split = split
    self.detokenizer = detokenizer
    self.files = files
    self.examples = examples
    self.tokens = tokens
    self.blocksAvailable = blocksAvailable
    self.blocksScored = blocksScored
    self.blocksSHA256 = blocksSHA256
  }

  enum CodingKeys: String, CodingKey {
    case name, split, detokenizer, files, examples, tokens
    case blocksAvailable = "blocks_available", blocksScored = "blocks_scored", blocksSHA256 = "blocks_sha256"
    case filesExpected = "files_expected"
  }

  /// Why a number over these blocks is not the split's perplexity (empty: it is).
  public var partialReasons: [String] {
    var reasons: [String] = []
    if blocksScored < blocksAvailable {
      reasons.append("\(blocksScored) of \(blocksAvailable) blocks (--limit-blocks)")
    }
    if let expected = filesExpected, files.count < expected {
      reasons.append("\(files.count) of \(expected) data files")
    }
    return reasons
  }
}

/// One model on one task. `ppl` is the protocol's headline aggregation; both aggregations are always given.
public struct ResultEntry: Codable, Sendable, Equatable {
  public var model: String
  public var task: String
  public var split: String
  public var protocolName: String
  /// `exact` (the model's NLL) or `upper` (an NLL upper bound, i.e. the PPL is a bound: "≤").
  public var bound: String
  /// Which aggregation `ppl` is: `block_mean` or `token_weighted`.
  public var headline: String
  public var ppl: Double
  public var pplTokenWeighted: Double
  public var pplBlockMean: Double
  public var nllSum: Double
  public var scoredTokens: Int
  public var blocks: Int
  public var examples: Int
  /// False when the number does not cover the whole split (`--limit-blocks`, or fewer data files than the split
  /// has): it is then not the split's perplexity. `partialReasons` says why, one phrase per cause.
  public var complete: Bool
  public var partialReasons: [String]
  public var wallSeconds: Double

  /// Posterior-inference steps of an LTM scorer; the rows of a steps sweep differ only by this. nil for models
  /// without inference (GPT-2).
  public var inferenceSteps: Int?
  /// Every other setting the scorer's numbers depend on (LTM: `fast_lr`, `posterior_init`, `elbo_samples`, …),
  /// as strings so that a comparison is plain equality. Empty for GPT-2.
  public var scorerSettings: [String: String]
  /// The bound's two terms (`nll_sum` = reconstruction + `kl_sum`); set for `upper` bounds that have a KL part.
  public var boundParts: BoundParts?
  /// The same bound re-estimated with fresh noise, with its Monte Carlo error (LTM; nil when not computed).
  public var freshBound: FreshBound?
  /// In a baseline file: this result's relative tolerance, overriding the file's `default_tolerance`.
  public var tolerance: Double?
  /// Every block's score, in block order; written by shard runs so `ltm-bench merge` can recombine them exactly.
  public var perBlock: [BlockRecord]?
  /// The distinct (thread count, BLAS kernels) its blocks were computed with; more than one means cached or
  /// merged blocks from runs that differed there (numbers then agree to ~1e-9 relative, not bit for bit).
  public var computedWith: [String]?

  public init(
    model: String, task: String, split: String, protocolName: String, bound: String, headline: String, ppl: Double,
    pplTokenWeighted: Double, pplBlockMean: Double, nllSum: Double, scoredTokens: Int, blocks: Int, examples: Int,
    partialReasons: [String] = [], wallSeconds: Double, inferenceSteps: Int? = nil,
    scorerSettings: [String: String] = [:], boundParts: BoundParts? = nil, freshBound: FreshBound? = nil,
    tolerance: Double? = nil, perBlock: [BlockRecord]? = nil
  ) {
    self.partialReasons = partialReasons
    self.model = model
    self.task = task
    self.split = split
    self.protocolName = protocolName
    self.bound = bound
    self.headline = headline
    self.ppl = ppl
    self.pplTokenWeighted = pplTokenWeighted
    self.pplBlockMean = pplBlockMean
    self.nllSum = nllSum
    self.scoredTokens = scoredTokens
    self.blocks = blocks
    self.examples = examples
    self.complete = partialReasons.isEmpty
    self.wallSeconds = wallSeconds
    self.inferenceSteps = inferenceSteps
    self.scorerSettings = scorerSettings
    self.boundParts = boundParts
    self.freshBound = freshBound
    self.tolerance = tolerance
    self.perBlock = perBlock
  }

  enum CodingKeys: String, CodingKey {
    case model, task, split, protocolName = "protocol", bound, headline, ppl
    case pplTokenWeighted = "ppl_token_weighted", pplBlockMean = "ppl_block_mean", nllSum = "nll_sum"
    case scoredTokens = "scored_tokens", blocks, examples, complete, partialReasons = "partial_reasons"
    case wallSeconds = "wall_seconds", inferenceSteps = "inference_steps", scorerSettings = "scorer_settings"
    case boundParts = "bound_parts", freshBound = "fresh_bound", tolerance, perBlock = "per_block"
    case computedWith = "computed_with"
  }

  /// Decodes files written before the LTM fields existed: `scorer_settings` defaults to empty.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    model = try c.decode(String.self, forKey: .model)
    task = try c.decode(String.self, forKey: .task)
    split = try c.decode(String.self, forKey: .split)
    protocolName = try c.decode(String.self, forKey: .protocolName)
    bound = try c.decode(String.self, forKey: .bound)
    headline = try c.decode(String.self, forKey: .headline)
    ppl = try c.decode(Double.self, forKey: .ppl)
    pplTokenWeighted = try c.decode(Double.self, forKey: .pplTokenWeighted)
    pplBlockMean = try c.decode(Double.self, forKey: .pplBlockMean)
    nllSum = try c.decode(Double.self, forKey: .nllSum)
    scoredTokens = try c.decode(Int.self, forKey: .scoredTokens)
    blocks = try c.decode(Int.self, forKey: .blocks)
    examples = try c.decode(Int.self, forKey: .examples)
    complete = try c.decode(Bool.self, forKey: .complete)
    partialReasons = try c.decode([String].self, forKey: .partialReasons)
    wallSeconds = try c.decode(Double.self, forKey: .wallSeconds)
    inferenceSteps = try c.decodeIfPresent(Int.self, forKey: .inferenceSteps)
    scorerSettings = try c.decodeIfPresent([String: String].self, forKey: .scorerSettings) ?? [:]
    boundParts = try c.decodeIfPresent(BoundParts.self, forKey: .boundParts)
    freshBound = try c.decodeIfPresent(FreshBound.self, forKey: .freshBound)
    tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance)
    perBlock = try c.decodeIfPresent([BlockRecord].self, forKey: .perBlock)
    computedWith = try c.decodeIfPresent([String].self, forKey: .computedWith)
  }

  /// "≤ 95.26" for a bound, "82.05" for an exact value: a bound is never printed without its sign.
  public var pplLabel: String { boundSign + formatPPL(ppl) }

  /// "≤ " for an upper bound, "" for an exact number.
  public var boundSign: String { bound == "upper" ? "≤ " : "" }

  /// "steps 16, fast_lr=0.34": what tells this row apart from others of the same model and task ("" for GPT-2).
  public var settingsLabel: String {
    ((inferenceSteps.map { ["steps \($0)"] } ?? []) + (scorerSettings.isEmpty ? [] : [scorerSettingsLabel])).joined(separator: ", ")
  }

  /// The standard error (nats/token) of a diffusion bound estimated with K ≥ 2 (t, mask) draws per block, whose
  /// `fresh_bound` is the headline itself (`time_samples` in the settings); nil otherwise (LTM's fresh bound is a
  /// second estimate, not the headline's error).
  public var monteCarloStandardError: Double? {
    guard scorerSettings["time_samples"] != nil else { return nil }
    return freshBound?.stderrNLLPerToken
  }

  /// "fast_lr=0.34, posterior_init=zeros": the scorer settings alone, keys sorted ("" when there are none).
  public var scorerSettingsLabel: String {
    scorerSettings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
  }

  /// "ltm-x on ptb (steps 16)": how messages name a result (scorer settings are left to messages that differ in them).
  public var subject: String { "\(model) on \(task)\(inferenceSteps.map { " (steps \($0))" } ?? "")" }
}

/// The two terms of a latent-variable bound: Σ reconstruction NLL and Σ KL, in nats (their sum is `nll_sum`).
public struct BoundParts: Codable, Sendable, Equatable {
  public var nllSum: Double
  public var klSum: Double
  public init(nllSum: Double, klSum: Double) {
    self.nllSum = nllSum
    self.klSum = klSum
  }
  enum CodingKeys: String, CodingKey { case nllSum = "nll_sum", klSum = "kl_sum" }
}

/// An LTM bound re-estimated with `samples` fresh noise draws per block instead of the ε the posterior was fitted
/// with: an unbiased NELBO estimate, with the Monte Carlo standard error of its per-token NLL.
public struct FreshBound: Codable, Sendable, Equatable {
  public var ppl: Double
  public var pplTokenWeighted: Double
  public var pplBlockMean: Double
  public var nllSum: Double
  public var klSum: Double
  public var samples: Int
  public var stderrNLLPerToken: Double

  public init(
    ppl: Double, pplTokenWeighted: Double, pplBlockMean: Double, nllSum: Double, klSum: Double, samples: Int,
    stderrNLLPerToken: Double
  ) {
    self.ppl = ppl
    self.pplTokenWeighted = pplTokenWeighted
    self.pplBlockMean = pplBlockMean
    self.nllSum = nllSum
    self.klSum = klSum
    self.samples = samples
    self.stderrNLLPerToken = stderrNLLPerToken
  }

  enum CodingKeys: String, CodingKey {
    case ppl, pplTokenWeighted = "ppl_token_weighted", pplBlockMean = "ppl_block_mean", nllSum = "nll_sum"
    case klSum = "kl_sum", samples, stderrNLLPerToken = "stderr_nll_per_token"
  }
}

/// Perplexities span 1 to 10⁶ (random-weight fixtures); keep 2 decimals below 10⁴, 5 significant digits above.
public func formatPPL(_ value: Double) -> String {
  guard value.isFinite else { return String(describing: value) }
  return value < 10_000 ? String(format: "%.2f", value) : String(format: "%.5g", value)
}

extension ResultsDocument {
  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }

  public static func decode(from data: Data) throws -> ResultsDocument {
    try JSONDecoder().decode(ResultsDocument.self, from: data)
  }
}
