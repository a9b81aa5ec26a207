import Foundation
import LTMMauve
import LTMModels
import LTMTasks
import LTMTokenizer

/// What `ltm-bench mauve --model …` was asked to do: the SEDD/LTM conditional-generation protocol.
public struct MauveGenerationConfiguration: Sendable {
  public var models: [String]
  /// A task name from the catalog, or a `.jsonl` file with one `textField` per line.
  public var prompts: String
  public var textField: String = "text"
  public var dataDirectory: URL?
  public var split: String?
  public var tasksDirectory: URL?
  public var prefixTokens = 50
  public var newTokens = 50
  public var samplesPerPrompt = 5
  public var numPrompts: Int?
  /// GPT-2-family checkpoint whose final hidden state featurizes every text (GPT-2 Large in real use).
  public var featurizer: String
  /// GPT-2-family checkpoint for generative perplexity; nil skips it.
  public var scorer: String?
  public var sampling = SamplingSettings()
  /// Generation seed (token draws, LTM fit start and ε).
  public var seed: UInt64 = 0
  /// The family settings: the posterior fit on the prefix (checkpoint num_steps / fast_lr unless given), the
  /// reverse steps of a diffusion sampler over prefix + new-tokens positions.
  public var modelOptions = ModelRunOptions()
  public var settings = MauveSettings()
  public var seedCount = 1
  public var threads = ThreadCount.usable
  public var outputDirectory: URL?

  public init(models: [String], prompts: String, featurizer: String) {
    self.models = models
    self.prompts = prompts
    self.featurizer = featurizer
  }
}

/// Runs the protocol end to end: prompts → prefixes and true continuations (the reference set P), generations per
/// model (Q), featurization, MAUVE per model over `seedCount` k-means seeds, generative perplexity, diversity.
/// Writes `mauve.json`, `mauve.html` and one `samples-<i>.jsonl` per model. Never prints.
public enum MauveGenerationRunner {
  public struct Outputs: Sendable {
    public var document: MauveGenerationDocument
    public var files: [URL]
  }

  /// mauve-text's `featurize_tokens_from_model`: texts cut to 1024 tokens; 8 texts per forward.
  static let featureMaxLength = 1024
  static let featureBatch = 8

  public static func run(_ config: MauveGenerationConfiguration) throws -> Outputs {
    guard !config.models.isEmpty else { throw HarnessError.invalidArgument("give at least one --model") }
    guard config.prefixTokens >= 1 else { throw HarnessError.invalidArgument("--prefix-tokens must be at least 1") }
    guard config.newTokens >= 1 else { throw HarnessError.invalidArgument("--new-tokens must be at least 1") }
    guard (1...OptionBounds.repeats).contains(config.samplesPerPrompt) else {
      throw HarnessError.invalidArgument("--samples-per-prompt must be in 1...\(OptionBounds.repeats)")
    }
    if let n = config.numPrompts, n < 1 { throw HarnessError.invalidArgument("--num-prompts must be at least 1") }
    guard (1...OptionBounds.repeats).contains(config.seedCount) else { throw HarnessError.invalidArgument("--seeds must be in 1...\(OptionBounds.repeats)") }
    try ThreadCount.validate(config.threads)
    try config.settings.validate()
    try config.sampling.validate()
    try config.modelOptions.validate()
    let ltmSteps = try config.modelOptions.latent.singleSteps(command: "mauve")
    if let k = config.modelOptions.latent.freshSamples {
      throw HarnessError.invalidArgument("--elbo-samples \(k): fresh-ε bounds are a zero-shot estimate; mauve generates from the fitted posterior")
    }
    HarnessSettings.setThreads(config.threads)
    let started = Date()

    let featurizerLoaded = try ModelRegistry.load(path: URL(fileURLWithPath: config.featurizer))
    guard let featurizer = featurizerLoaded.model as? TextFeaturizing else {
      throw HarnessError.invalidArgument("--featurizer must be a checkpoint whose family featurizes text, as GPT-2 does (got family \(featurizerLoaded.family))")
    }
    let tokenizer: GPT2Tokenizer
    do {
      tokenizer = try GPT2Tokenizer.load(directory: featurizerLoaded.tokenizerDirectory)
    } catch {
      throw HarnessError.noTokenizer(model: config.featurizer, directory: featurizerLoaded.tokenizerDirectory.path)
    }

    // Prompts: the first texts long enough for prefix + continuation.
    let texts = try promptTexts(config)
    let need = config.prefixTokens + config.newTokens
    var prefixes: [[Int32]] = [], references: [[Int32]] = [], sources: [Int] = []
    for (i, ids) in Tokenization.encodeAll(texts, with: tokenizer, threads: config.threads).enumerated() where ids.count >= need {
      prefixes.append(Array(ids[0..<config.prefixTokens]))
      references.append(Array(ids[config.prefixTokens..<need]))
      sources.append(i)
      if let n = config.numPrompts, prefixes.count == n { break }
    }
    guard prefixes.count >= 2 else {
      throw HarnessError.invalidArgument(
        "only \(prefixes.count) of \(texts.count) texts in \(config.prompts) have \(need) tokens; MAUVE needs at least 2 prompts")
    }
    if let n = config.numPrompts, prefixes.count < n {
      throw HarnessError.invalidArgument("only \(prefixes.count) texts in \(config.prompts) have \(need) tokens (--num-prompts \(n))")
    }
    let referenceFeatures = try matrix(featurizer.features(texts: references, maxLength: featureMaxLength, batch: featureBatch))

    let scorer: BlockScoringModel?
    if let path = config.scorer {
      let loaded = try ModelRegistry.load(path: URL(fileURLWithPath: path))
      guard loaded.model.descriptor.bound == .exact else {
        throw HarnessError.invalidArgument(
          "--scorer must be an autoregressive checkpoint with an exact NLL, as GPT-2 (got family \(loaded.family), whose NLL is a bound)")
      }
      scorer = loaded.model
    } else {
      scorer = nil
    }

    var results: [MauveGenerationDocument.ModelResult] = []
    var files: [URL] = []
    if let dir = config.outputDirectory { try OutputFolder.prepare(dir) }
    try config.modelOptions.rejectUnused(byFamilies: config.models.map { try ModelRegistry.familyName(of: URL(fileURLWithPath: $0)) })
    for (mi, path) in config.models.enumerated() {
      let loaded = try ModelRegistry.load(path: URL(fileURLWithPath: path))
      guard let generator = loaded.model as? ContinuationGenerating else {
        throw HarnessError.invalidArgument("\(loaded.family) checkpoints cannot generate")
      }
      let request = ContinuationRequest(
        samplesPerPrompt: config.samplesPerPrompt, newTokens: config.newTokens, sampling: config.sampling, seed: config.seed,
        options: config.modelOptions)
      let samples = try generator.generateContinuations(prefixes: prefixes, request: request)  // [prompt][sample]
      // Ids the tokenizer cannot write (the LTM BOS) are dropped from the texts and from every statistic.
      let flat = samples.flatMap { $0 }.map { $0.filter { $0 >= 0 && Int($0) < tokenizer.vocabularySize } }
      let q = try matrix(featurizer.features(texts: flat, maxLength: featureMaxLength, batch: featureBatch))
      let prepared = try Mauve.prepare(p: referenceFeatures, q: q, settings: config.settings)
      let seeds = (0..<config.seedCount).map { config.settings.seed + $0 }
      let runs = try seeds.map { try Mauve.score(prepared, seed: $0) }
      var genPPL: MauveGenerationDocument.GenerativePerplexity?
      if let scorer {
        let prefixesPerSample = prefixes.flatMap { p in Array(repeating: p, count: config.samplesPerPrompt) }
        genPPL = try generativePerplexity(scorer, prefixes: prefixesPerSample, continuations: flat, path: config.scorer!)
      }
      let label = ModelLabels.unique(for: URL(fileURLWithPath: path), index: mi, taken: results.map(\.label))
      var samplesFile: String?
      if let dir = config.outputDirectory {
        let name = "samples-\(mi + 1).jsonl"
        let url = dir.appendingPathComponent(name)
        var lines: [String] = []
        for (pi, row) in samples.enumerated() {
          for (k, s) in row.enumerated() {
            let record: [String: Any] = [
              "prompt_index": pi, "source_index": sources[pi], "sample": k,
              "prefix": tokenizer.decode(prefixes[pi]), "reference": tokenizer.decode(references[pi]),
              "generation": tokenizer.decode(flat[pi * config.samplesPerPrompt + k]),
              "generation_ids": s.map(Int.init),
            ]
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
            lines.append(String(decoding: data, as: UTF8.self))
          }
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
        files.append(url)
        samplesFile = name
      }
      let first = runs[0]
      results.append(.init(
        model: path, label: label, family: loaded.family, promptBOS: generator.promptBOS,
        sampler: try generator.samplerSummary(request), samples: flat.count,
        scores: .init(mauve: first.mauve, mauveStar: first.mauveStar, frontierIntegral: first.frontierIntegral,
                      frontierIntegralStar: first.frontierIntegralStar),
        seedSummary: MauveSeedSummary(runs), numBuckets: prepared.numBuckets, pcaDims: prepared.projection.dims,
        histograms: .init(p: first.pHist, q: first.qHist), divergenceCurve: first.divergenceCurve,
        generativePerplexity: genPPL, text: statistics(flat), samplesFile: samplesFile,
        excerpts: (0..<Swift.min(3, flat.count)).map { i in
          .init(prefix: tokenizer.decode(prefixes[i / config.samplesPerPrompt]), generation: tokenizer.decode(flat[i]))
        }))
    }

    let s = config.settings
    let document = MauveGenerationDocument(
      run: .init(startedAt: ISO8601DateFormatter().string(from: started), wallSeconds: Date().timeIntervalSince(started),
                 threads: config.threads),
      protocolSettings: .init(
        prompts: config.prompts, split: config.split, prefixTokens: config.prefixTokens, newTokens: config.newTokens,
        samplesPerPrompt: config.samplesPerPrompt, promptsUsed: prefixes.count, featurizer: config.featurizer,
        scorer: config.scorer, sampling: config.sampling, seed: config.seed, ltmSteps: ltmSteps,
        ltmLearningRate: config.modelOptions.latent.fastLearningRate,
        diffusionSampling: results.contains { ModelRegistry.family(named: $0.family, accepts: .diffusionSampling) }
          ? config.modelOptions.diffusionSampling : nil),
      mauveSettings: .init(
        numBucketsRequested: s.numBuckets.map(String.init) ?? "auto", explainedVariance: s.explainedVariance,
        kmeansRestarts: s.kmeansRestarts, kmeansIterations: s.kmeansIterations, seed: s.seed,
        seeds: (0..<config.seedCount).map { s.seed + $0 }, scalingFactor: s.scalingFactor, curvePoints: s.curvePoints),
      reference: statistics(references), results: results)
    if let dir = config.outputDirectory {
      let json = dir.appendingPathComponent("mauve.json")
      try document.jsonData().write(to: json, options: .atomic)
      let html = dir.appendingPathComponent("mauve.html")
      try Data(MauveGenerationReport.render(document).utf8).write(to: html, options: .atomic)
      files = [json, html] + files
    }
    return Outputs(document: document, files: files)
  }

  /// The prompt texts: a catalog task's examples (detokenized, as zero-shot reads them) or a JSONL file's field.
  static func promptTexts(_ config: MauveGenerationConfiguration) throws -> [String] {
    if config.prompts.hasSuffix(".jsonl") {
      let url = URL(fileURLWithPath: config.prompts)
      guard let data = FileManager.default.contents(atPath: url.path) else { throw HarnessError.unreadable(url.path) }
      var texts: [String] = []
      for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let text = object[config.textField] as? String else {
          throw HarnessError.invalidArgument("\(url.path) line \(n + 1): not a JSON object with a string '\(config.textField)'")
        }
        texts.append(text)
      }
      return texts
    }
    guard let tasksDirectory = config.tasksDirectory else {
      throw HarnessError.invalidArgument("--prompts \(config.prompts) is neither a .jsonl file nor a task (no tasks directory)")
    }
    guard let dataDirectory = config.dataDirectory else {
      throw HarnessError.invalidArgument("--prompts \(config.prompts) names a task: give --data-dir")
    }
    let task = try TaskCatalog.load(directory: tasksDirectory).task(named: config.prompts)
    return try task.examples(split: config.split ?? task.defaultSplit, dataDirectory: dataDirectory)
  }

  /// Perplexity of each continuation given its prefix under the scorer: token-weighted exp(Σ NLL / Σ n) and the
  /// mean over samples of exp(mean NLL).
  static func generativePerplexity(
    _ scorer: BlockScoringModel, prefixes: [[Int32]], continuations: [[Int32]], path: String
  ) throws -> MauveGenerationDocument.GenerativePerplexity {
    var total = 0.0, tokens = 0, perSample: [Double] = []
    let blocks = zip(prefixes, continuations).map { $0 + $1 }
    let groups = Dictionary(grouping: blocks.indices.filter { !continuations[$0].isEmpty }, by: { blocks[$0].count })
    var nll = [Double](repeating: 0, count: blocks.count)
    for (_, members) in groups.sorted(by: { $0.key < $1.key }) {
      for start in stride(from: 0, to: members.count, by: 16) {
        let chunk = Array(members[start..<Swift.min(members.count, start + 16)])
        let scores = try scorer.score(blocks: chunk.map { blocks[$0] })
        for (j, i) in chunk.enumerated() {
          nll[i] = scores[j].tokenNLL.suffix(continuations[i].count).reduce(0.0) { $0 + Double($1) }
        }
      }
    }
    for i in blocks.indices where !continuations[i].isEmpty {
      total += nll[i]
      tokens += continuations[i].count
      perSample.append(Foundation.exp(nll[i] / Double(continuations[i].count)))
    }
    return .init(
      scorer: path, tokenWeighted: Foundation.exp(total / Double(Swift.max(1, tokens))),
      meanOfSamples: perSample.isEmpty ? .nan : perSample.reduce(0, +) / Double(perSample.count), scoredTokens: tokens)
  }

  static func statistics(_ samples: [[Int32]]) -> MauveGenerationDocument.TextStatistics {
    .init(
      unigramEntropy: GenerationMetrics.unigramEntropy(samples), distinct1: GenerationMetrics.distinct(samples, n: 1),
      distinct2: GenerationMetrics.distinct(samples, n: 2), distinct3: GenerationMetrics.distinct(samples, n: 3),
      repetitionRate: GenerationMetrics.repetitionRate(samples))
  }

  static func matrix(_ f: TextFeatures) -> FeatureMatrix {
    FeatureMatrix(values: f.values.map(Double.init), rows: f.rows, cols: f.dims)
  }
}
