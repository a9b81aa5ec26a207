import Foundation

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

  public init(
    command: String, tool: ToolInfo, run: RunInfo, models: [ModelInfo], tasks: [TaskInfo], results: [ResultEntry]
  ) {
    self.schemaVersion = Self.currentSchemaVersion
    self.command = command
    self.tool = tool
    self.run = run
    self.models = models
    self.tasks = tasks
    self.results = results
  }

  enum CodingKeys: String, CodingKey {
    case schemaVersion = "schema_version", command, tool, run, models, tasks, results
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

  public init(
    startedAt: String, wallSeconds: Double, seed: UInt64, threads: Int, protocolName: String, split: String?,
    limitBlocks: Int?, dataDirectory: String, host: String, resumedBlocks: Int
  ) {
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

  public init(
    model: String, task: String, split: String, protocolName: String, bound: String, headline: String, ppl: Double,
    pplTokenWeighted: Double, pplBlockMean: Double, nllSum: Double, scoredTokens: Int, blocks: Int, examples: Int,
    partialReasons: [String] = [], wallSeconds: Double
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
  }

  enum CodingKeys: String, CodingKey {
    case model, task, split, protocolName = "protocol", bound, headline, ppl
    case pplTokenWeighted = "ppl_token_weighted", pplBlockMean = "ppl_block_mean", nllSum = "nll_sum"
    case scoredTokens = "scored_tokens", blocks, examples, complete, partialReasons = "partial_reasons"
    case wallSeconds = "wall_seconds"
  }

  /// "≤ 95.26" for a bound, "82.05" for an exact value: a bound is never printed without its sign.
  public var pplLabel: String { (bound == "upper" ? "≤ " : "") + formatPPL(ppl) }
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
