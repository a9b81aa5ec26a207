import Foundation
import LTMCheckpoint
import LTMMetrics
import LTMModels
import LTMReports
import LTMTasks
import LTMTensor
import LTMTokenizer

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
  public var resume: Bool

  public init(
    modelPaths: [URL], taskNames: [String], dataDirectory: URL, split: String? = nil, protocolName: String = "ltm",
    limitBlocks: Int? = nil, threads: Int = 1, batchBlocks: Int = 1, outputDirectory: URL,
    tokenizerDirectory: URL? = nil, tasksDirectory: URL, seed: UInt64 = 0, resume: Bool = true
  ) {
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
    self.resume = resume
  }
}

/// Runs every model on every task under one block protocol and writes `results.json` and `report.html`.
public final class ZeroShotRunner {
  public let configuration: ZeroShotConfiguration
  private let progress: ProgressReporter

  public init(configuration: ZeroShotConfiguration, progress: ProgressReporter = SilentProgress()) {
    self.configuration = configuration
    self.progress = progress
  }

  /// The files a run writes into the output directory.
  public struct Outputs: Sendable {
    public var document: ResultsDocument
    public var resultsJSON: URL
    public var reportHTML: URL
  }

  public func run() throws -> Outputs {
    let config = configuration
    try validate(config)
    let started = Date()
    BLAS.threads = config.threads

    // Resolve all inputs before any expensive work, so a typo fails in a second, not after an hour.
    let blockProtocol = try BlockProtocol.named(config.protocolName)
    let catalog = try TaskCatalog.load(directory: config.tasksDirectory)
    let taskPlans = try config.taskNames.map { name -> (TaskSpec, String, [URL]) in
      let spec = try catalog.task(named: name)
      let split = config.split ?? spec.defaultSplit
      let files = try spec.files(split: split, dataDirectory: config.dataDirectory)
      return (spec, split, files)
    }
    try FileManager.default.createDirectory(at: config.outputDirectory, withIntermediateDirectories: true)
    let journal = try BlockJournal(
      url: config.outputDirectory.appendingPathComponent("journal.jsonl"), resume: config.resume)

    // Models, with provenance and a tokenizer each.
    var loaded: [PreparedModel] = []
    for (index, path) in config.modelPaths.enumerated() {
      progress.report(.stage("loading model \(path.path)"))
      let model = try ModelRegistry.load(path: path)
      let id = uniqueID(for: path, index: index, taken: loaded.map(\.info.id))
      progress.report(.stage("hashing checkpoint files of \(id)"))
      let digests = try model.checkpointFiles.map { try Digests.fileDigest($0, relativeTo: path.hasDirectoryPath ? path : path.deletingLastPathComponent()) }
      let tokenizerDir = config.tokenizerDirectory ?? model.tokenizerDirectory
      let tokenizer: GPT2Tokenizer
      do {
        tokenizer = try GPT2Tokenizer.load(directory: tokenizerDir)
      } catch {
        if config.tokenizerDirectory == nil { throw HarnessError.noTokenizer(model: id, directory: tokenizerDir.path) }
        throw error
      }
      if blockProtocol.blockLength > model.model.descriptor.contextLength {
        throw HarnessError.blockTooLong(
          model: id, blockLength: blockProtocol.blockLength, contextLength: model.model.descriptor.contextLength)
      }
      let d = model.model.descriptor
      let key = Digests.sha256(string: ([d.family, config.protocolName, String(config.seed)] + digests.map { $0.sha256 }).joined(separator: "|"))
      loaded.append(PreparedModel(
        loaded: model, tokenizer: tokenizer, tokenizerKey: tokenizerDir.standardizedFileURL.path, journalKey: key,
        info: ModelInfo(id: id, path: path.path, family: d.family, parameters: d.parameterCount, bound: d.bound.rawValue, checkpointFiles: digests)))
    }

    var taskInfos: [TaskInfo] = []
    var results: [ResultEntry] = []
    var resumedTotal = 0
    // Token blocks depend on the tokenizer: prepare each task once per distinct tokenizer.
    var blockCache: [String: PreparedTask] = [:]
    for (spec, split, files) in taskPlans {
      for model in loaded {
        let cacheKey = "\(spec.name)|\(split)|\(model.tokenizerKey)"
        let task: PreparedTask
        if let cached = blockCache[cacheKey] {
          task = cached
        } else {
          task = try prepare(spec: spec, split: split, files: files, tokenizer: model.tokenizer, protocol: blockProtocol)
          blockCache[cacheKey] = task
          if !taskInfos.contains(where: { $0.name == task.info.name && $0.split == split && $0.blocksSHA256 == task.info.blocksSHA256 }) {
            taskInfos.append(task.info)
          }
        }
        let (entry, resumed) = try score(model: model, task: task, protocol: blockProtocol, journal: journal)
        resumedTotal += resumed
        results.append(entry)
        progress.report(.finished(model: entry.model, task: entry.task, summary: "ppl \(entry.pplLabel) (\(entry.protocolName), \(entry.bound), \(entry.headline))"))
      }
    }

    let document = ResultsDocument(
      command: "zero-shot",
      tool: ToolInfo(version: LTMBenchVersion.current),
      run: RunInfo(
        startedAt: ISO8601DateFormatter().string(from: started),
        wallSeconds: Date().timeIntervalSince(started), seed: config.seed, threads: config.threads,
        protocolName: blockProtocol.name, split: config.split, limitBlocks: config.limitBlocks,
        dataDirectory: config.dataDirectory.path, host: ProcessInfo.processInfo.hostName, resumedBlocks: resumedTotal),
      models: loaded.map(\.info), tasks: taskInfos, results: results)
    return try ReportWriter.write(document, to: config.outputDirectory)
  }

  // MARK: - Steps

  private struct PreparedModel {
    var loaded: LoadedModel
    var tokenizer: GPT2Tokenizer
    var tokenizerKey: String
    var journalKey: String
    var info: ModelInfo
  }

  private struct PreparedTask {
    var info: TaskInfo
    var blocks: TokenBlocks

    /// Why a number over these blocks is not the split's perplexity (empty: it is).
    var partialReasons: [String] {
      var reasons: [String] = []
      if info.blocksScored < info.blocksAvailable {
        reasons.append("\(info.blocksScored) of \(info.blocksAvailable) blocks (--limit-blocks)")
      }
      if let expected = info.filesExpected, info.files.count < expected {
        reasons.append("\(info.files.count) of \(expected) data files")
      }
      return reasons
    }
  }

  private func validate(_ c: ZeroShotConfiguration) throws {
    if c.modelPaths.isEmpty { throw HarnessError.invalidArgument("no model given: pass --model PATH") }
    if c.taskNames.isEmpty { throw HarnessError.invalidArgument("no task given: pass --tasks ptb,wikitext2,lm1b") }
    if let limit = c.limitBlocks, limit < 1 { throw HarnessError.invalidArgument("--limit-blocks must be at least 1, got \(limit)") }
    if c.threads < 1 { throw HarnessError.invalidArgument("--threads must be at least 1, got \(c.threads)") }
    if c.batchBlocks < 1 { throw HarnessError.invalidArgument("--batch-blocks must be at least 1, got \(c.batchBlocks)") }
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: c.dataDirectory.path, isDirectory: &isDir), isDir.boolValue else {
      throw HarnessError.invalidArgument("--data-dir \(c.dataDirectory.path) is not a directory")
    }
    for path in c.modelPaths where !FileManager.default.fileExists(atPath: path.path) {
      throw HarnessError.invalidArgument("--model \(path.path) does not exist")
    }
  }

  /// Reads, detokenizes and tokenizes a split, appends EOS per example and cuts blocks per the protocol.
  private func prepare(
    spec: TaskSpec, split: String, files: [URL], tokenizer: GPT2Tokenizer, protocol blockProtocol: BlockProtocol
  ) throws -> PreparedTask {
    progress.report(.stage("reading \(spec.name)/\(split)"))
    let examples = try spec.examples(split: split, dataDirectory: configuration.dataDirectory)
    progress.report(.stage("tokenizing \(examples.count) examples of \(spec.name)/\(split)"))
    let ids = Tokenization.encodeAll(examples, with: tokenizer, threads: configuration.threads)
    let all = try blockProtocol.makeBlocks(examples: ids, limit: nil as Int?, source: "\(spec.name)/\(split)")
    let blocks = try configuration.limitBlocks.map { try blockProtocol.makeBlocks(examples: ids, limit: $0, source: "\(spec.name)/\(split)") } ?? all
    let digests = try files.map { try Digests.fileDigest($0, relativeTo: configuration.dataDirectory) }
    let info = TaskInfo(
      name: spec.name, split: split, detokenizer: spec.detokenizer.rawValue, files: digests, examples: examples.count,
      tokens: ids.reduce(0) { $0 + $1.count }, blocksAvailable: all.count, blocksScored: blocks.count,
      blocksSHA256: Digests.sha256(int32LE: blocks.tokens[...]), filesExpected: spec.expectedFileCount(split: split))
    progress.report(.taskPrepared(
      task: spec.name, split: split, examples: info.examples, tokens: info.tokens, blocksScored: blocks.count,
      blocksAvailable: all.count))
    return PreparedTask(info: info, blocks: blocks)
  }

  /// Scores every block not already in the journal, in batches, journaling each result as it arrives.
  private func score(
    model: PreparedModel, task: PreparedTask, protocol blockProtocol: BlockProtocol, journal: BlockJournal
  ) throws -> (ResultEntry, resumed: Int) {
    let blocks = task.blocks
    let length = blocks.blockLength
    let id = model.info.id
    let blockSHA = (0..<blocks.count).map { Digests.sha256(int32LE: blocks.tokens[($0 * length)..<(($0 + 1) * length)]) }
    var scored: [Int: (nll: Double, tokens: Int)] = [:]
    for (i, sha) in blockSHA.enumerated() {
      if let hit = journal.lookup(model: model.journalKey, protocolName: blockProtocol.name, block: sha) {
        scored[i] = (hit.nll, hit.tokens)
      }
    }
    let resumed = scored.count
    if resumed > 0 { progress.report(.resumed(model: id, task: task.info.name, blocks: resumed)) }

    let pending = (0..<blocks.count).filter { scored[$0] == nil }
    let started = Date()
    var tokensDone = 0
    for batchStart in stride(from: 0, to: pending.count, by: configuration.batchBlocks) {
      let batch = Array(pending[batchStart..<min(batchStart + configuration.batchBlocks, pending.count)])
      let inputs = batch.map { Array(blocks.tokens[($0 * length)..<(($0 + 1) * length)]) }
      let scores = try model.loaded.model.score(blocks: inputs)
      for (i, s) in zip(batch, scores) {
        let entry = BlockJournal.Entry(model: model.journalKey, protocolName: blockProtocol.name, block: blockSHA[i], nll: s.nllSum, tokens: s.scoredTokens)
        try journal.record(entry)
        scored[i] = (s.nllSum, s.scoredTokens)
        tokensDone += s.scoredTokens
      }
      let elapsed = max(Date().timeIntervalSince(started), 1e-9)
      progress.report(.scoring(model: id, task: task.info.name, done: scored.count, total: blocks.count, tokensPerSecond: Double(tokensDone) / elapsed))
    }

    // Accumulate in block order so the sums do not depend on batching or on what was resumed.
    var acc = PerplexityAccumulator()
    for i in 0..<blocks.count {
      let s = scored[i]!
      try acc.add(blockNLL: s.nll, scoredTokens: s.tokens)
    }
    let summary = try acc.summary()
    let headline = PerplexityAggregation(rawValue: blockProtocol.headline) ?? .tokenWeighted
    let entry = ResultEntry(
      model: id, task: task.info.name, split: task.info.split, protocolName: blockProtocol.name,
      bound: model.loaded.model.descriptor.bound.rawValue, headline: headline.rawValue, ppl: summary.ppl(headline),
      pplTokenWeighted: summary.pplTokenWeighted, pplBlockMean: summary.pplBlockMean, nllSum: summary.nllSum,
      scoredTokens: summary.scoredTokens, blocks: summary.blocks, examples: task.info.examples,
      partialReasons: task.partialReasons, wallSeconds: Date().timeIntervalSince(started))
    return (entry, resumed)
  }

  /// Table label for a model: its folder (or file) name, suffixed when two models share one.
  private func uniqueID(for path: URL, index: Int, taken: [String]) -> String {
    let base = path.standardizedFileURL.lastPathComponent
    return taken.contains(base) ? "\(base)#\(index + 1)" : base
  }
}
