import Foundation
import LTMMetrics
import LTMModels
import LTMReports
import LTMTasks
import LTMTensor
import LTMTokenizer

/// Runs every model on every few-shot task at every shot count, one adapter call per document, and writes
/// `results.json`, `report.html` and the per-sample log `samples.jsonl`. Every document's model output is
/// journalled in `fewshot-cache.jsonl` as soon as it is computed, so a killed run resumes without recomputing.
public final class FewShotRunner {
  /// Loads model `index` of the run (path, position, labels already taken). Tests pass a fake; the default loads
  /// the checkpoint and asks its family for its adapter (`fewShotModel`).
  public typealias ModelSource = (_ path: URL, _ index: Int, _ taken: [String]) throws -> FewShotModelEntry

  public static let samplesFileName = "samples.jsonl"
  public static let cacheFileName = "fewshot-cache.jsonl"

  public let configuration: FewShotConfiguration
  private let progress: ProgressReporter
  private let modelSource: ModelSource

  public init(configuration: FewShotConfiguration, progress: ProgressReporter = SilentProgress(), modelSource: ModelSource? = nil) {
    self.configuration = configuration
    self.progress = progress
    let config = configuration
    self.modelSource = modelSource ?? { path, index, taken in try FewShotRunner.loadModel(path: path, index: index, taken: taken, configuration: config) }
  }

  public struct Outputs {
    public var document: ResultsDocument
    public var resultsJSON: URL
    public var reportHTML: URL
    public var samples: URL
    /// The same results in lm-evaluation-harness's layout, one file per model (`lm-eval/<model>.json`).
    public var lmEvalResults: [URL]
    /// Documents whose model output came from the cache of an earlier run.
    public var resumedDocuments: Int
    /// Documents the models were called on in this run.
    public var computedDocuments: Int
    /// Models and results left out (non-finite weights or scores), one line each; the others are in the reports,
    /// and the command exits 1 after writing them.
    public var failures: [String] = []
  }

  public func run() throws -> Outputs {
    let config = configuration
    try config.validate()
    let started = Date()
    HarnessSettings.setThreads(config.threads)

    // Resolve tasks and read their data before loading any model: a typo fails in a second.
    let plans = try planTasks()

    try OutputFolder.prepare(config.outputDirectory)
    let cache = try Journal<FewShotCacheKey, FewShotOutcome>(
      url: config.outputDirectory.appendingPathComponent(Self.cacheFileName), reuse: config.useCache)

    let (models, loadFailures) = try RunFailures.loadModels(config.modelPaths, progress: progress) { path, index, loaded in
      try modelSource(path, index, loaded.map(\.info.id))
    }
    let descriptors = models.map(\.model.descriptor)
    try RunMemory.check(descriptors, tokensPerBatch: descriptors.map(\.contextLength).max() ?? 0, batchLabel: "one full-context document")
    try config.modelOptions.rejectUnused(byFamilies: models.map(\.model.descriptor.family))

    var results: [FewShotResult] = []
    var samples: [FewShotSample] = []
    var resumed = 0
    var computed = 0
    var failures = loadFailures
    for model in models {
      for plan in plans {
        for shots in config.shots ?? [plan.task.numFewshot] {
          let outcome: (result: FewShotResult, samples: [FewShotSample])
          do {
            outcome = try evaluate(model: model, plan: plan, shots: shots, cache: cache)
          } catch let failure as RunFailures.NonFiniteScore {
            failures.append(failure.description)
            continue
          }
          results.append(outcome.result)
          samples += outcome.samples
          resumed += outcome.result.resumedDocuments
          computed += outcome.result.documents - outcome.result.resumedDocuments
          let headline = outcome.result.headline.map { "\($0.name) \($0.label)" } ?? "no metric"
          progress.report(.finished(model: model.info.id, task: "\(plan.task.name) (\(shots)-shot)", summary: headline))
        }
      }
    }

    let samplesURL = config.outputDirectory.appendingPathComponent(Self.samplesFileName)
    try FewShotSample.write(samples, to: samplesURL)
    let section = FewShotSection(
      samplesFile: Self.samplesFileName, shotPool: config.shotPool.rawValue, limit: config.limit,
      tasks: plans.map(\.record), results: results)
    let document = ResultsDocument(
      command: "fewshot", tool: ToolInfo(version: LTMBenchVersion.current),
      run: RunInfo(
        startedAt: ISO8601DateFormatter().string(from: started), wallSeconds: Date().timeIntervalSince(started),
        seed: config.seed, threads: config.threads, protocolName: "fewshot", split: nil, limitBlocks: nil,
        dataDirectory: config.dataDirectory.path, host: ProcessInfo.processInfo.hostName, resumedBlocks: 0,
        protocolSummary: "few-shot in-context evaluation: lm-eval prompt assembly, per-document seeded shots, the LTM paper's GSM8K formats per family",
        shard: config.shard, os: ProcessInfo.processInfo.operatingSystemVersionString, blas: BLAS.configuration, blasKernels: HarnessSettings.blasKernels),
      models: models.map(\.info), tasks: [], results: [], fewshot: section)
    let written = try ReportWriter.write(document, to: config.outputDirectory)
    let lmEval = try ReportWriter.writeLMEval(document, to: config.outputDirectory)
    return Outputs(
      document: document, resultsJSON: written.resultsJSON, reportHTML: written.reportHTML, samples: samplesURL,
      lmEvalResults: lmEval, resumedDocuments: resumed, computedDocuments: computed, failures: failures)
  }

  /// Every task's documents, shot pool and record, with the shot counts checked against the pool.
  private func planTasks() throws -> [TaskPlan] {
    let config = configuration
    let catalog = try FewShotCatalog.load(directory: config.tasksDirectory)
    var plans: [TaskPlan] = []
    for name in config.taskNames {
      let task = try catalog.task(named: name)
      progress.report(.stage("reading \(task.name)"))
      let docs = try task.documents(split: task.evalSplit, dataDirectory: config.dataDirectory)
      let poolSplit = config.shotPool == .test ? task.evalSplit : (task.fewshotSplit ?? task.evalSplit)
      let pool = poolSplit == task.evalSplit ? docs : try task.documents(split: poolSplit, dataDirectory: config.dataDirectory)
      // The document itself is excluded when shots come from its own split, except under the paper's quirk.
      let excludeSelf = poolSplit == task.evalSplit && config.shotPool == .fewshot
      let files = try (Set(task.splits[task.evalSplit]! + task.splits[poolSplit]!)).sorted().map {
        try Digests.fileDigest(config.dataDirectory.appendingPathComponent($0), relativeTo: config.dataDirectory)
      }
      let source = config.shotPool == .test
        ? "\(poolSplit) (--shot-pool test: the evaluated split, the document included, as the LTM paper)"
        : poolSplit + (excludeSelf ? " (minus the document)" : "")
      let record = FewShotTaskRecord(
        name: task.name, version: task.version, promptSHA256: Digests.sha256(data: task.canonicalJSON),
        outputType: task.outputType.rawValue, evalSplit: task.evalSplit, shotSource: source,
        documentsAvailable: docs.count, files: files)
      let selected = Array(docs.prefix(config.limit ?? docs.count)).filter { config.shard?.contains(block: $0.id) ?? true }
      if let shard = config.shard, selected.isEmpty {
        throw HarnessError.invalidArgument("shard \(shard.index)/\(shard.count) has no documents of \(task.name): use at most \(min(docs.count, config.limit ?? docs.count)) shards")
      }
      for k in config.shots ?? [task.numFewshot] {
        if task.outputType == .loglikelihoodRolling && k != 0 {
          throw HarnessError.invalidArgument("\(task.name) scores whole documents (loglikelihood_rolling): it takes 0 shots, not \(k)")
        }
        let available = pool.count - (excludeSelf ? 1 : 0)
        guard k <= available else {
          throw HarnessError.invalidArgument("\(task.name): \(k) shots requested, but its shot pool (\(source)) holds \(available) documents")
        }
      }
      plans.append(TaskPlan(task: task, documents: selected, pool: pool, excludeSelf: excludeSelf, record: record))
    }

    return plans
  }

  // MARK: - One model × task × shot count

  struct TaskPlan {
    var task: FewShotTask
    var documents: [FewShotDocument]
    var pool: [FewShotDocument]
    var excludeSelf: Bool
    var record: FewShotTaskRecord
  }

  /// The shots of one document: pool indices drawn by `ShotSampler` (never the document itself unless the pool
  /// is the paper's test-file draw) from SplitMix64 seeded by the first 8 bytes of SHA-256("seed|task|document").
  static func shotIDs(task: String, document: Int, shots: Int, poolSize: Int, excludeSelf: Bool, seed: UInt64) throws -> [Int] {
    var rng = SplitMix64(seed: Digests.seed("\(seed)|\(task)|\(document)"))
    return try ShotSampler.sample(k: shots, poolSize: poolSize, exclude: excludeSelf ? document : nil, using: &rng)
  }

  private func evaluate(model: FewShotModelEntry, plan: TaskPlan, shots: Int, cache: Journal<FewShotCacheKey, FewShotOutcome>) throws
    -> (result: FewShotResult, samples: [FewShotSample])
  {
    let config = configuration
    let task = plan.task
    let descriptor = model.model.descriptor
    let family = descriptor.family
    let encoder = FewShotEncoder(
      tokenizer: model.tokenizer, descriptor: descriptor, emptyContextToken: model.model.emptyContextToken,
      requestTokenLimit: model.model.requestTokenLimit)
    let generation = generationSettings(task: task, family: family)
    let settingsText = canonicalSettings(model: model, generation: generation)
    let started = Date()
    var scorer = FewShotScorer(task: task, model: model.info.id, family: family, shots: shots, encoder: encoder)
    var promptHashes: [String] = []
    var resumedDocs = 0

    for (n, doc) in plan.documents.enumerated() {
      let ids = try Self.shotIDs(
        task: task.name, document: doc.id, shots: shots, poolSize: plan.pool.count, excludeSelf: plan.excludeSelf, seed: config.seed)
      let text = try task.promptText(for: doc, shots: ids.map { plan.pool[$0] }, family: family)
      let prompt = task.outputType == .generate ? text.generationPrompt : text.context
      let promptSHA = Digests.sha256(string: prompt)
      promptHashes.append(promptSHA)

      var llRequests: [LoglikelihoodRequest] = []
      var genRequest: GenerationRequest?
      var truncated = 0
      if task.outputType == .generate {
        let (request, cut) = try encoder.generation(prompt: text.generationPrompt, fitContext: text.context, maxNewTokens: generation.maxNewTokens)
        genRequest = request
        truncated = cut
      } else if task.outputType == .loglikelihoodRolling {
        llRequests = try encoder.rollingWindows(text.continuations[0], contextTokens: model.model.rollingContextTokens)
      } else {
        for continuation in text.continuations {
          let (request, cut) = try encoder.pair(context: text.context, continuation: continuation)
          llRequests.append(request)
          truncated = max(truncated, cut)
        }
      }
      let tokens: [Int32] = genRequest.map { $0.prompt + [-1] + ($0.fitContext ?? []) } ?? llRequests.flatMap { $0.context + [-1] + $0.continuation + [-2] }
      let key = FewShotCacheKey(
        model: model.cacheKey, task: task.name, version: task.version, promptSHA256: plan.record.promptSHA256, shots: shots,
        document: doc.id, settings: settingsText, seed: config.seed, requestsSHA256: Digests.sha256(int32LE: tokens[...]))
      let outcome: FewShotOutcome
      if let cached = cache.lookup(key) {
        outcome = cached
        resumedDocs += 1
      } else {
        if let genRequest {
          outcome = FewShotOutcome(scores: nil, candidates: try model.model.generate(genRequest, settings: generation, seed: config.seed, document: doc.id))
        } else {
          let scores = try model.model.loglikelihoods(llRequests, seed: config.seed, document: doc.id)
          guard scores.count == llRequests.count else {
            throw HarnessError.invalidArgument("model \(model.info.id) returned \(scores.count) scores for \(llRequests.count) requests")
          }
          // A NaN log-likelihood would make every metric of the task a lie: leave this result out, cache nothing.
          if let bad = scores.first(where: { !$0.logprob.isFinite }) {
            throw RunFailures.NonFiniteScore(
              model: model.info.id, task: "\(task.name) (\(shots)-shot)", item: "document \(doc.id) (log-likelihood)", value: bad.logprob)
          }
          outcome = FewShotOutcome(scores: scores, candidates: nil)
        }
        try cache.record(outcome, for: key)
      }
      try scorer.add(
        document: doc, shotIDs: ids, text: text, prompt: prompt, promptSHA256: promptSHA, truncated: truncated,
        outcome: outcome, generation: generation)
      progress.report(.fewShot(
        model: model.info.id, task: task.name, shots: shots, done: n + 1, total: plan.documents.count,
        elapsedSeconds: Date().timeIntervalSince(started)))
    }

    var reasons: [String] = []
    let evaluable = min(plan.record.documentsAvailable, config.limit ?? plan.record.documentsAvailable)
    if evaluable < plan.record.documentsAvailable { reasons.append("first \(evaluable) of \(plan.record.documentsAvailable) documents (--limit)") }
    if let shard = config.shard { reasons.append(shard.partialReason) }
    let (metrics, absent) = scorer.metrics(bound: descriptor.bound, seed: config.seed, bootstrapIterations: config.bootstrapIterations)
    var settings = model.model.settingsSummary
    if task.outputType == .generate {
      settings["strategy"] = generation.strategy.rawValue
      settings["max_new_tokens"] = String(generation.maxNewTokens)
      settings["candidates"] = String(generation.candidates)
      if generation.strategy == .beam { settings["beams"] = String(generation.beams) }
    }
    let result = FewShotResult(
      model: model.info.id, task: task.name, taskVersion: task.version, promptSHA256: plan.record.promptSHA256, shots: shots,
      documents: plan.documents.count, requestsSHA256: Digests.sha256(string: promptHashes.joined()), metrics: metrics,
      absentMetrics: absent, estimator: scorer.estimator, settings: settings, partialReasons: reasons,
      resumedDocuments: resumedDocs, wallSeconds: Date().timeIntervalSince(started))
    return (result, scorer.samples)
  }

  /// The decoding settings of `task` for `family`; a latent-inference family's candidate count (one greedy decode per
  /// posterior fit) is `--fits` when given.
  func generationSettings(task: FewShotTask, family: String) -> FewShotGenerationSettings {
    let g = task.format(forFamily: family).generation
    var candidates = g.candidates
    if ModelRegistry.family(named: family, accepts: .latentInference), let fits = configuration.modelOptions.latent.fits {
      candidates = fits
    }
    return FewShotGenerationSettings(
      strategy: FewShotGenerationSettings.Strategy(rawValue: g.strategy) ?? .greedy, maxNewTokens: g.maxNewTokens,
      beams: g.beams, candidates: candidates, stopTokens: g.stopTokens)
  }

  private func canonicalSettings(model: FewShotModelEntry, generation: FewShotGenerationSettings) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let gen = (try? encoder.encode(generation)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    let adapter = model.model.settingsSummary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    return "\(adapter);generation=\(gen);pool=\(configuration.shotPool.rawValue)"
  }

  // MARK: - Default model loading

  static func loadModel(path: URL, index: Int, taken: [String], configuration config: FewShotConfiguration) throws -> FewShotModelEntry {
    let loaded = try ModelRegistry.load(path: path)
    let provenance = try CheckpointProvenance(
      model: loaded, path: path, index: index, taken: taken, configuredTokenizer: config.tokenizerDirectory, progress: SilentProgress())
    let adapter = try fewShotModel(loaded, options: config.modelOptions)
    let d = adapter.descriptor
    return FewShotModelEntry(
      model: adapter, tokenizer: provenance.tokenizer,
      info: ModelInfo(id: provenance.id, path: path.path, family: d.family, parameters: d.parameterCount, bound: d.bound.rawValue, checkpointFiles: provenance.digests),
      cacheKey: provenance.cacheKey(family: d.family))
  }
}

/// The journal key of one document's model output.
struct FewShotCacheKey: Codable, Hashable {
  var model: String
  var task: String
  var version: Int
  var promptSHA256: String
  var shots: Int
  var document: Int
  var settings: String
  var seed: UInt64
  /// SHA-256 of the request tokens: the tokenizer is not part of the checkpoint digests.
  var requestsSHA256: String

  enum CodingKeys: String, CodingKey {
    case model, task, version, promptSHA256 = "prompt_sha256", shots, document, settings, seed, requestsSHA256 = "requests_sha256"
  }
}

/// What the model answered for one document.
struct FewShotOutcome: Codable {
  var scores: [ContinuationScore]?
  var candidates: [[Int32]]?
}
