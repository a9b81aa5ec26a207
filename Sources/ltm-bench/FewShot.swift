import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench fewshot`: in-context evaluation (GSM8K pass@k, likelihood and multiple-choice tasks).
struct FewShot: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fewshot",
    abstract: "Few-shot in-context evaluation: GSM8K pass@k (the LTM paper's protocol), lm-eval-style likelihood and multiple-choice tasks.",
    discussion: """
      Tasks are YAML files in tasks/fewshot/ (add a file to add a task). Each document gets K demonstrations drawn \
      with a seed derived from (--seed, task, document id), so its shots do not depend on --limit, --shard or order; \
      they come from the task's few-shot split (train for GSM8K) or, for single-split tasks, from the evaluated \
      split minus the document. --shot-pool test reproduces the LTM paper's draw from the test file (the document \
      included). Results go to OUTPUT-DIR/results.json and report.html, every prompt and answer to \
      OUTPUT-DIR/samples.jsonl; model outputs are cached per document in OUTPUT-DIR/fewshot-cache.jsonl, so an \
      interrupted run resumes without recomputing.
      """)

  @Option(name: .customLong("model"), help: "A checkpoint directory or file (repeat for several models).")
  var models: [String] = []

  @Option(help: "Comma-separated few-shot task names (gsm8k, gsm8k_ltm, arithmetic_2da, lambada_openai, ag_news_topic, wikitext, …) or task file paths.")
  var tasks: String

  @Option(help: ArgumentHelp("Demonstrations per document, or a comma-separated list (0,5,10); default: each task's num_fewshot.", valueName: "K[,K…]"))
  var shots: String?

  @Option(help: "Evaluate only the first N documents of each task (the result is marked partial).")
  var limit: Int?

  @Option(help: "Root of the evaluation data (gsm8k/, gpt3_arithmetic/, lambada/, ag_news/); default: the download cache, filled on first use.")
  var dataDir: String?

  @Option(help: "Where results.json, report.html, samples.jsonl and the cache go.")
  var outputDir: String = "reports/fewshot"

  @Option(help: "Seed of the shot draws and of stochastic decoding (recorded in the report).")
  var seed: UInt64 = 0

  @Option(help: "Where demonstrations come from: fewshot (the task's few-shot split) or test (the LTM paper's quirk: the evaluated split, the document included).")
  var shotPool: ShotPool = .fewshot

  @Option(help: "LTM: independent posterior fits per GSM8K document, each decoded greedily (pass@K); default: the task's candidates (5).")
  var fits: Int?

  @Option(help: "Evaluate only shard i of n (0-based: documents i, i+n, …); auto (or auto/n) reads i and n from a Slurm array or Kubernetes Indexed Job.")
  var shard: String?

  @OptionGroup var threading: ThreadsOption

  @OptionGroup(title: "LTM posterior inference") var latent: LatentInferenceArguments

  @OptionGroup(title: "Diffusion bound") var diffusionBound: DiffusionBoundArguments

  @OptionGroup(title: "Diffusion sampling") var diffusionSampling: DiffusionSamplingArguments

  @Option(help: "Tokenizer directory; default: the model's directory.")
  var tokenizer: String?

  @Option(help: "Directory of few-shot task YAML files; default: the repository's tasks/fewshot folder.")
  var tasksDir: String?

  @Flag(name: .customLong("no-cache"), help: "Discard the cache of an earlier run in the same output directory and compute everything again.")
  var noCache = false

  @OptionGroup(title: "Cache and network") var download: DownloadArguments

  func run() throws {
    BLASKernelWarning.printIfAny()
    let taskNames = tasks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let tasksDirectory = try tasksDir.map { URL(fileURLWithPath: $0) } ?? DefaultPaths.tasksDirectory().appendingPathComponent("fewshot")
    let reporter = StderrProgress()
    let outputs = try CLIErrors.oneLine { try reporter.clearingOnError { () -> FewShotRunner.Outputs in
      let (shardInfo, outputDirectory) = try ShardAssignment.resolve(shard: shard, outputDirectory: outputDir)
      // As zero-shot: hub names and missing data are fetched (or, --offline, checked) first; offline, one error
      // lists everything missing.
      let (modelPaths, dataDirectory) = try download.provision(models: models, dataDir: dataDir, progress: reporter) {
        try DataProvisioning.requiredFewShotFiles(
          taskNames: taskNames, fewShotTasksDirectory: tasksDirectory, manifestTasksDirectory: DefaultPaths.tasksDirectory())
      }
      let config = FewShotConfiguration(
        modelPaths: modelPaths, taskNames: taskNames,
        shots: try shots.map(FewShotConfiguration.parseShots), limit: limit, dataDirectory: dataDirectory,
        outputDirectory: outputDirectory, tasksDirectory: tasksDirectory,
        tokenizerDirectory: tokenizer.map { URL(fileURLWithPath: $0) }, seed: seed,
        shotPool: shotPool, shard: shardInfo,
        threads: threading.count, useCache: !noCache,
        modelOptions: ModelRunOptions(
          latent: try latent.options(fits: fits), diffusionBound: DiffusionBoundOptions(timeSamples: diffusionBound.timeSamples),
          diffusionSampling: diffusionSampling.options))
      return try FewShotRunner(configuration: config, progress: reporter).run()
    } }
    reporter.finish()
    if let section = outputs.document.fewshot { print(section.textTable()) }
    print("")
    print("wrote \(outputs.resultsJSON.path)")
    print("wrote \(outputs.reportHTML.path)")
    print("wrote \(outputs.samples.path)")
    for url in outputs.lmEvalResults { print("wrote \(url.path) (lm-eval layout)") }
    if !outputs.failures.isEmpty {
      fflush(stdout)  // the table and the paths first, then the error line
      try CLIErrors.oneLine { throw HarnessError.invalidArgument(outputs.failures.joined(separator: "; ")) }
    }
  }
}
