import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench mauve`: MAUVE between two feature sets, equal to mauve-text 0.4.0 on float64 features.
struct MauveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mauve",
    abstract: "MAUVE from two feature files, or end to end from generations of GPT-2, LTM and MDLM checkpoints.",
    discussion: """
      Features are safetensors (F32 or F64; FILE:TENSOR names the tensor when the file holds several) or .npy
      ('<f4'/'<f8', C order), one row per text. The pipeline is mauve-text 0.4.0's: rows stacked Q then P, L2
      normalisation, float64 PCA to --explained-variance, faiss k-means, histograms, the divergence curve.
      Pass float64 features to reproduce the reference exactly. With --output-dir the full result goes to
      DIR/mauve.json (docs/mauve-schema.md).

      Generation mode (--model M [--model …] --prompts TASK|FILE.jsonl --featurizer CKPT): the SEDD/LTM protocol.
      Each prompt text's first --prefix-tokens tokens are the prefix, the next --new-tokens the reference
      continuation; every model writes --samples-per-prompt continuations (LTM: q(z|prefix) fitted with the fast
      loop, then z = mu + sigma*eps; MDLM: ancestral sampling with --steps T over prefix + new-tokens positions,
      the prefix fixed); MAUVE of the continuations against the references, generative perplexity
      under --scorer, entropy, distinct-n, repetition. Writes mauve.json, mauve.html, samples-N.jsonl.
      """)

  @Option(help: ArgumentHelp("Features of P (the human/reference side).", valueName: "FILE[:TENSOR]"))
  var pFeatures: String?

  @Option(help: ArgumentHelp("Features of Q (the model side).", valueName: "FILE[:TENSOR]"))
  var qFeatures: String?

  @Option(name: .customLong("model"), help: ArgumentHelp("Generation mode: a GPT-2, LTM or MDLM checkpoint (repeatable).", valueName: "CKPT"))
  var models: [String] = []

  @Option(help: ArgumentHelp("Generation mode: a task name (with --data-dir) or a JSONL file.", valueName: "TASK|FILE.jsonl"))
  var prompts: String?

  @Option(help: "JSONL field holding the prompt text.")
  var textField: String = "text"

  @Option(help: "Data directory for a task's files (default: the download cache, filled on first use).")
  var dataDir: String?

  @OptionGroup(title: "Downloads (hub model names; data when --data-dir is not given)") var download: DownloadArguments

  @Option(help: "Task split (default: the task's default split).")
  var split: String?

  @Option(help: "Task definitions directory (default: tasks/ of the repository).")
  var tasksDir: String?

  @Option(help: "Prefix tokens each prompt conditions on.")
  var prefixTokens: Int = 50

  @Option(help: "Tokens generated per sample (and reference continuation length).")
  var newTokens: Int = 50

  @Option(help: "Generations per prompt.")
  var samplesPerPrompt: Int = 5

  @Option(help: "Use the first N texts long enough for prefix + continuation (default: all).")
  var numPrompts: Int?

  @Option(help: ArgumentHelp("GPT-2-family checkpoint whose features MAUVE compares (GPT-2 Large in real use).", valueName: "CKPT"))
  var featurizer: String?

  @Option(help: ArgumentHelp("GPT-2-family checkpoint for generative perplexity.", valueName: "CKPT"))
  var scorer: String?

  @Option(help: "Sampling: multinomial or greedy.")
  var sampling: SamplingSettings.Method = .multinomial

  @Option(help: "Sampling temperature.")
  var temperature: Double = 1

  @Option(help: "Top-k truncation (off by default).")
  var topK: Int?

  @Option(help: "Nucleus (top-p) truncation (off by default).")
  var topP: Double?

  @Option(help: "Generation seed (token draws; LTM fit start and eps).")
  var generationSeed: UInt64 = 0

  @OptionGroup(title: "LTM posterior inference (the fit on each prefix)") var latent: LatentInferenceArguments

  @OptionGroup(title: "Diffusion sampling") var diffusionSampling: DiffusionSamplingArguments

  @Option(help: ArgumentHelp("k-means clusters, or auto = max(2, round(min(n_p, n_q)/10)).", valueName: "N|auto"))
  var numBuckets: String = "auto"

  @Option(help: "mauve-text seed (faiss k-means gets seed + 2).")
  var seed: Int = 25

  @Option(help: "Seeds seed, seed+1, … to report mean ± std over.")
  var seeds: Int = 1

  @Option(help: "Fraction of variance the PCA keeps, in (0, 1).")
  var explainedVariance: Double = 0.9

  @Option(help: "k-means restarts (the lowest objective wins).")
  var kmeansRestarts: Int = 5

  @Option(help: "k-means iterations per restart (at most; a restart stops at its fixed point).")
  var kmeansIterations: Int = 500

  @Flag(help: "Run every k-means iteration (faiss ≤ 1.13) instead of stopping a restart at its fixed point; same result, slower.")
  var allIterations = false

  @Option(help: "c in exp(-c·KL).")
  var scalingFactor: Double = 5

  @Option(help: "Interior points of the divergence curve.")
  var curvePoints: Int = 25

  @OptionGroup var threading: ThreadsOption

  @Option(help: "Directory for mauve.json; omitted: print only.")
  var outputDir: String?

  func run() throws {
    BLASKernelWarning.printIfAny()
    if !models.isEmpty || prompts != nil || featurizer != nil {
      try runGeneration()
      return
    }
    let outputs = try CLIErrors.oneLine { () -> MauveRunner.Outputs in
      let settings = try mauveSettings()
      guard let pFeatures, let qFeatures else {
        throw HarnessError.invalidArgument("give --p-features and --q-features, or --model, --prompts and --featurizer")
      }
      let config = MauveConfiguration(
        pFeatures: pFeatures, qFeatures: qFeatures, settings: settings, seedCount: seeds, threads: threading.count,
        outputDirectory: outputDir.map { URL(fileURLWithPath: $0) })
      return try MauveRunner.run(config)
    }
    print(outputs.document.textTable())
    if let url = outputs.json { print("wrote \(url.path)") }
  }

  func mauveSettings() throws -> MauveSettings {
    var settings = MauveSettings()
    if numBuckets.lowercased() != "auto" {
      guard let k = Int(numBuckets), k >= 1 else {
        throw HarnessError.invalidArgument("--num-buckets must be a positive integer or auto, not '\(numBuckets)'")
      }
      settings.numBuckets = k
    }
    settings.seed = seed
    settings.explainedVariance = explainedVariance
    settings.kmeansRestarts = kmeansRestarts
    settings.kmeansIterations = kmeansIterations
    settings.stopAtFixedPoint = !allIterations
    settings.scalingFactor = scalingFactor
    settings.curvePoints = curvePoints
    return settings
  }

  func runGeneration() throws {
    let outputs = try CLIErrors.oneLine { () -> MauveGenerationRunner.Outputs in
      guard pFeatures == nil, qFeatures == nil else {
        throw HarnessError.invalidArgument("--p-features/--q-features and --model are separate modes; give one")
      }
      guard !models.isEmpty else { throw HarnessError.invalidArgument("generation mode needs at least one --model") }
      guard let prompts else { throw HarnessError.invalidArgument("generation mode needs --prompts TASK|FILE.jsonl") }
      guard let featurizer else { throw HarnessError.invalidArgument("generation mode needs --featurizer CKPT") }
      // Hub names (gpt2-large as the featurizer, …) and a task's missing data come from the download cache, as in
      // zero-shot; offline, one error lists everything missing.
      let reporter = StderrProgress()
      defer { reporter.finish() }
      let promptsAreTask = !prompts.hasSuffix(".jsonl")
      let tasksDirectory = try tasksDir.map { URL(fileURLWithPath: $0) } ?? DefaultPaths.tasksDirectory()
      let named = models + [featurizer] + (scorer.map { [$0] } ?? [])
      let (paths, dataDirectory) = try download.provision(models: named, dataDir: dataDir, progress: reporter) {
        promptsAreTask
          ? try DataProvisioning.requiredFiles(taskNames: [prompts], split: split, protocolName: nil, tasksDirectory: tasksDirectory)
          : []
      }
      var config = MauveGenerationConfiguration(
        models: paths[..<models.count].map(\.path), prompts: prompts, featurizer: paths[models.count].path)
      config.scorer = scorer == nil ? nil : paths[models.count + 1].path
      config.textField = textField
      config.dataDirectory = dataDirectory
      config.split = split
      if promptsAreTask { config.tasksDirectory = tasksDirectory }
      config.prefixTokens = prefixTokens
      config.newTokens = newTokens
      config.samplesPerPrompt = samplesPerPrompt
      config.numPrompts = numPrompts
      config.sampling = SamplingSettings(method: sampling, temperature: temperature, topK: topK, topP: topP)
      config.seed = generationSeed
      config.modelOptions = ModelRunOptions(latent: try latent.options(), diffusionSampling: diffusionSampling.options)
      config.settings = try mauveSettings()
      config.seedCount = seeds
      config.threads = threading.count
      config.outputDirectory = outputDir.map { URL(fileURLWithPath: $0) }
      return try MauveGenerationRunner.run(config)
    }
    print(outputs.document.textTable())
    for url in outputs.files { print("wrote \(url.path)") }
  }
}
