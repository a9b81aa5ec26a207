import Foundation
import LTMCheckpoint
import LTMModels
import LTMReports
import LTMTasks
import LTMTensor
import LTMTokenizer
import LTMMetrics

/// Runs every model on every task under one block protocol and writes `results.json` and `report.html`
/// (with the deltas against a baseline, when one is given).
public final class ZeroShotRunner {
  public let configuration: ZeroShotConfiguration
  private let progress: ProgressReporter

  public init(configuration: ZeroShotConfiguration, progress: ProgressReporter = SilentProgress()) {
    self.configuration = configuration
    self.progress = progress
  }

  /// The files a run writes into the output directory, and the comparison against `--baseline` when given.
  public struct Outputs: Sendable {
    public var document: ResultsDocument
    public var resultsJSON: URL
    public var reportHTML: URL
    public var comparison: Comparison?
    /// Models and results left out (non-finite weights or scores), one line each; the others are in the reports,
    /// and the command exits 1 after writing them.
    public var failures: [String] = []
  }

  public func run() throws -> Outputs {
    let config = configuration
    try config.validate()
    // Read the baseline first: a typo in its path should not cost a whole run.
    let baseline = try config.baseline.map { try ResultsDocument.load(from: $0) }
    let started = Date()
    HarnessSettings.setThreads(config.threads)

    // Resolve all inputs before any expensive work, so a typo fails in a second, not after an hour.
    let blockProtocol = try BlockProtocol.named(config.protocolName)
    let catalog = try TaskCatalog.load(directory: config.tasksDirectory)
    let published = try PublishedTable.load(file: PublishedTable.location(tasksDirectory: config.tasksDirectory))
    let taskPlans = try catalog.expand(config.taskNames).map { name -> (TaskSpec, String, [URL]) in
      let spec = try catalog.task(named: name)
      let split = config.split ?? blockProtocol.split ?? spec.defaultSplit
      let files = try spec.files(split: split, dataDirectory: config.dataDirectory)
      return (spec, split, files)
    }
    try OutputFolder.prepare(config.outputDirectory)
    let cache = try BlockCache(
      url: config.outputDirectory.appendingPathComponent(BlockCache.fileName), reuse: config.useCache)
    if let first = cache.damagedLines.first {
      progress.report(.stage(
        "\(cache.url.path): \(cache.damagedLines.count) damaged line(s) ignored (first: line \(first)); their blocks are computed again"))
    }

    // Models, with provenance and a tokenizer each.
    let (loaded, loadFailures) = try RunFailures.loadModels(config.modelPaths, progress: progress) { path, index, loaded in
      try prepareModel(path: path, index: index, taken: loaded.map(\.info.id), protocol: blockProtocol)
    }
    try RunMemory.check(
      loaded.map(\.loaded.model.descriptor), tokensPerBatch: config.batchBlocks * blockProtocol.blockLength,
      batchLabel: "a \(config.batchBlocks)-block batch (--batch-blocks)")

    try config.modelOptions.rejectUnused(byFamilies: loaded.map(\.loaded.family))

    let (units, taskInfos) = try plan(taskPlans, models: loaded, protocol: blockProtocol)
    var progressFile = RunProgress(
      shard: config.shard, startedAt: started, host: ProcessInfo.processInfo.hostName, finished: false,
      units: units.map { $0.progress(cache: cache) })
    try progressFile.write(in: config.outputDirectory)

    let (results, failures, resumedTotal) = try scoreAll(units, cache: cache)

    let document = ResultsDocument(
      command: "zero-shot",
      tool: ToolInfo(version: LTMBenchVersion.current),
      run: RunInfo(
        startedAt: ISO8601DateFormatter().string(from: started),
        wallSeconds: Date().timeIntervalSince(started), seed: config.seed, threads: config.threads,
        protocolName: blockProtocol.name, split: config.split, limitBlocks: config.limitBlocks,
        dataDirectory: config.dataDirectory.path, host: ProcessInfo.processInfo.hostName, resumedBlocks: resumedTotal,
        protocolSummary: blockProtocol.summary, shard: config.shard,
        os: ProcessInfo.processInfo.operatingSystemVersionString, blas: BLAS.configuration, blasKernels: HarnessSettings.blasKernels),
      models: loaded.map(\.info), tasks: taskInfos, results: results)
    let comparison = baseline.map { Comparison.compare(current: document, baseline: $0, options: config.comparison) }
    var outputs = try ReportWriter.write(document, comparison: comparison, published: published, to: config.outputDirectory)
    outputs.failures = loadFailures + failures
    progressFile.finished = failures.isEmpty && loadFailures.isEmpty
    try progressFile.write(in: config.outputDirectory)
    return outputs
  }

  // MARK: - Steps

  /// Loads one model with its provenance, tokenizer and scoring variants, and checks it takes the protocol's blocks.
  private func prepareModel(path: URL, index: Int, taken: [String], protocol blockProtocol: BlockProtocol) throws -> PreparedModel {
    let config = configuration
    let model = try ModelRegistry.load(path: path)
    let provenance = try CheckpointProvenance(
      model: model, path: path, index: index, taken: taken, configuredTokenizer: config.tokenizerDirectory, progress: progress)
    let d = model.model.descriptor
    if blockProtocol.blockLength > d.contextLength {
      throw HarnessError.blockTooLong(model: provenance.id, blockLength: blockProtocol.blockLength, contextLength: d.contextLength)
    }
    return PreparedModel(
      loaded: model, tokenizer: provenance.tokenizer, tokenizerKey: provenance.tokenizerDirectory.standardizedFileURL.path,
      cacheKey: provenance.cacheKey(family: d.family),
      variants: try model.model.zeroShotVariants(
        ZeroShotContext(options: config.modelOptions, seed: config.seed, ignoreBOS: blockProtocol.ignoreBOS)),
      info: ModelInfo(
        id: provenance.id, path: path.path, family: d.family, parameters: d.parameterCount, bound: d.bound.rawValue,
        checkpointFiles: provenance.digests))
  }

  /// Every task is read, tokenized and cut into blocks before the first block is scored: a bad data file fails in
  /// seconds, and progress.json lists the whole run for `ltm-bench status`. Units come in result order: task, then
  /// model, then the model's scoring variants.
  private func plan(
    _ taskPlans: [(TaskSpec, String, [URL])], models loaded: [PreparedModel], protocol blockProtocol: BlockProtocol
  ) throws -> (units: [ScoringUnit], tasks: [TaskInfo]) {
    var taskInfos: [TaskInfo] = []
    var units: [ScoringUnit] = []
    // Token blocks depend on the tokenizer: prepare each task once per distinct tokenizer.
    var blockCache: [String: PreparedTask] = [:]
    for (spec, split, files) in taskPlans {
      for model in loaded {
        let cacheKey = "\(spec.name)|\(split)|\(model.tokenizerKey)"
        let task: PreparedTask
        if let cached = blockCache[cacheKey] {
          task = cached
        } else {
          task = try prepare(
            spec: spec, split: split, files: files, tokenizer: model.tokenizer,
            tokenizerDirectory: URL(fileURLWithPath: model.tokenizerKey), protocol: blockProtocol)
          blockCache[cacheKey] = task
          if !taskInfos.contains(where: { $0.name == task.info.name && $0.split == split && $0.blocksSHA256 == task.info.blocksSHA256 }) {
            taskInfos.append(task.info)
          }
        }
        for variant in model.variants {
          units.append(try ScoringUnit(model: model, variant: variant, task: task, protocol: blockProtocol, configuration: configuration))
        }
      }
    }
    return (units, taskInfos)
  }

  private struct PreparedModel {
    var loaded: LoadedModel
    var tokenizer: GPT2Tokenizer
    var tokenizerKey: String
    /// The checkpoint's part of the block-cache key: family and checkpoint file digests.
    var cacheKey: String
    /// One per result row: GPT-2 has one, an LTM one per `--inference-steps` value.
    var variants: [ScoringVariant]
    var info: ModelInfo
  }

  private struct PreparedTask {
    var info: TaskInfo
    var blocks: TokenBlocks
  }

  /// Reads, detokenizes and tokenizes a split, appends EOS per example and cuts blocks per the protocol.
  private func prepare(
    spec: TaskSpec, split: String, files: [URL], tokenizer: GPT2Tokenizer, tokenizerDirectory: URL,
    protocol blockProtocol: BlockProtocol
  ) throws -> PreparedTask {
    let digests = try files.map { try Digests.fileDigest($0, relativeTo: configuration.dataDirectory) }
    let tokenKey = try tokenCacheKey(spec: spec, split: split, files: digests, tokenizerDirectory: tokenizerDirectory)
    let ids: [[Int32]]
    if let cached = TokenCache.load(key: tokenKey) {
      ids = cached
    } else {
      progress.report(.stage("reading \(spec.name)/\(split)"))
      let examples = try spec.examples(split: split, dataDirectory: configuration.dataDirectory)
      progress.report(.stage("tokenizing \(examples.count) examples of \(spec.name)/\(split)"))
      ids = Tokenization.encodeAll(examples, with: tokenizer, threads: configuration.threads)
      TokenCache.store(ids, key: tokenKey)
    }
    let all = try blockProtocol.makeBlocks(examples: ids, limit: nil as Int?, source: "\(spec.name)/\(split)")
    let blocks = try configuration.limitBlocks.map { try blockProtocol.makeBlocks(examples: ids, limit: $0, source: "\(spec.name)/\(split)") } ?? all
    let info = TaskInfo(
      name: spec.name, split: split, detokenizer: spec.detokenizer.rawValue, files: digests, examples: ids.count,
      tokens: ids.reduce(0) { $0 + $1.count }, blocksAvailable: all.count, blocksScored: blocks.count,
      blocksSHA256: Digests.sha256(int32LE: blocks.tokens[...]), filesExpected: spec.expectedFileCount(split: split))
    progress.report(.taskPrepared(
      task: spec.name, split: split, examples: info.examples, tokens: info.tokens, blocksScored: blocks.count,
      blocksAvailable: all.count))
    return PreparedTask(info: info, blocks: blocks)
  }

  /// What a split's token ids depend on: the task's reading rules, the data files' and the tokenizer files' digests,
  /// and the tool version (a change to the reader, detokenizer or tokenizer code ships with a new version).
  private func tokenCacheKey(spec: TaskSpec, split: String, files: [FileDigest], tokenizerDirectory: URL) throws -> String {
    let tokenizerFiles = try GPT2Tokenizer.sourceFiles(directory: tokenizerDirectory).map { try Digests.sha256(file: $0).hex }
    let rules = [spec.reader.rawValue, spec.detokenizer.rawValue, spec.field?.canonical ?? "", spec.columns.joined(separator: ","), split]
    let parts = ["tokens-v2", LTMBenchVersion.current] + rules + files.map { "\($0.path)=\($0.sha256)" } + tokenizerFiles
    return Digests.sha256(string: parts.joined(separator: "\n"))
  }

  /// One result row: a model's scoring variant on a task, with the blocks this run (or shard) scores and their
  /// block-cache keys.
  private struct ScoringUnit {
    var model: PreparedModel
    var variant: ScoringVariant
    var task: PreparedTask
    var blockProtocol: BlockProtocol
    /// The variant's canonical settings, plus the seed for stochastic scorers.
    var settings: String
    var selected: [Int]
    var keys: [Int: BlockCache.Key]

    init(model: PreparedModel, variant: ScoringVariant, task: PreparedTask, protocol blockProtocol: BlockProtocol, configuration: ZeroShotConfiguration) throws {
      let blocks = task.blocks
      let shard = configuration.shard
      let selected = (0..<blocks.count).filter { shard?.contains(block: $0) ?? true }
      if let shard, selected.isEmpty {
        throw HarnessError.invalidArgument(
          "shard \(shard.index)/\(shard.count) has no blocks of \(task.info.name) (\(blocks.count) blocks): use at most \(blocks.count) shards")
      }
      // The seed changes only what a stochastic scorer draws (LTM's ε, MDLM's t and masks); an exact scorer's blocks
      // are reused under any --seed.
      let settings = variant.settings.canonical + (model.info.bound == BoundKind.exact.rawValue ? "" : ";seed=\(configuration.seed)")
      self.keys = Dictionary(uniqueKeysWithValues: selected.map { i in
        (i, BlockCache.Key(
          model: model.cacheKey, task: task.info.name, split: task.info.split, protocolName: blockProtocol.name,
          settings: settings, block: i, tokensSHA256: Digests.sha256(int32LE: blocks.block(i))))
      })
      (self.model, self.variant, self.task, self.blockProtocol) = (model, variant, task, blockProtocol)
      (self.settings, self.selected) = (settings, selected)
    }

    func progress(cache: BlockCache) -> RunProgress.Unit {
      RunProgress.Unit(
        model: model.info.id, task: task.info.name, split: task.info.split, protocolName: blockProtocol.name,
        modelKey: model.cacheKey, settings: settings, blocksInRun: task.blocks.count, blocks: selected.count,
        cachedAtStart: selected.filter { cache.lookup(keys[$0]!) != nil }.count)
    }
  }

  /// Scores every unit in order. One model's NaN must not cost the others their results: a unit whose score is not
  /// finite is left out and named in `failures`, and the run goes on (the command fails at the end).
  private func scoreAll(_ units: [ScoringUnit], cache: BlockCache) throws -> (results: [ResultEntry], failures: [String], resumed: Int) {
    var results: [ResultEntry] = []
    var failures: [String] = []
    var resumedTotal = 0
    for unit in units {
      let scored: (entry: ResultEntry, resumed: Int)
      do {
        scored = try score(unit, cache: cache)
      } catch let failure as RunFailures.NonFiniteScore {
        failures.append(failure.description)
        continue
      }
      let (entry, resumed) = scored
      resumedTotal += resumed
      results.append(entry)
      let steps = entry.inferenceSteps.map { ", T=\($0)" } ?? ""
      progress.report(.finished(model: entry.model, task: entry.task, summary: "ppl \(entry.pplLabel) (\(entry.protocolName), \(entry.bound), \(entry.headline)\(steps))"))
    }
    return (results, failures, resumedTotal)
  }

  /// Scores every block of the unit not already in the cache, in batches, caching each record as it arrives; then
  /// builds the result from the records in block order.
  private func score(_ unit: ScoringUnit, cache: BlockCache) throws -> (ResultEntry, resumed: Int) {
    let (model, variant, task, selected, keys) = (unit.model, unit.variant, unit.task, unit.selected, unit.keys)
    let blocks = task.blocks
    let id = model.info.id
    let shard = configuration.shard
    var records: [Int: BlockRecord] = [:]
    for i in selected { records[i] = cache.lookup(keys[i]!) }
    let resumed = records.count
    if resumed > 0 { progress.report(.resumed(model: id, task: task.info.name, blocks: resumed)) }

    let pending = selected.filter { records[$0] == nil }
    let computedWith = HarnessSettings.computeSignature
    let started = Date()
    var tokensDone = 0
    for batchStart in stride(from: 0, to: pending.count, by: configuration.batchBlocks) {
      let batch = Array(pending[batchStart..<min(batchStart + configuration.batchBlocks, pending.count)])
      for var record in try variant.score(batch.map { Array(blocks.block($0)) }, batch) {
        guard record.nll.isFinite, record.kl?.isFinite ?? true else {
          throw RunFailures.NonFiniteScore(model: id, task: task.info.name, item: "block \(record.index) (NLL)", value: record.nll)
        }
        record.computedWith = computedWith
        try cache.record(record, for: keys[record.index]!)
        records[record.index] = record
        tokensDone += record.tokens
      }
      let elapsed = max(Date().timeIntervalSince(started), 1e-9)
      progress.report(.scoring(model: id, task: task.info.name, done: records.count, total: selected.count, tokensPerSecond: Double(tokensDone) / elapsed))
    }

    let entry = try ResultEntry(
      model: id, task: task.info.name, split: task.info.split, protocolName: unit.blockProtocol.name,
      bound: model.loaded.model.descriptor.bound.rawValue, headline: unit.blockProtocol.headline,
      examples: task.info.examples, partialReasons: task.info.partialReasons + (shard.map { [$0.partialReason] } ?? []),
      wallSeconds: Date().timeIntervalSince(started), inferenceSteps: variant.settings.inferenceSteps,
      scorerSettings: variant.settings.values, records: selected.map { records[$0]! }, keepBlocks: shard != nil)
    return (entry, resumed)
  }
}
