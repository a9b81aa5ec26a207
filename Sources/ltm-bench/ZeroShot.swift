import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench zero-shot`: perplexity of each model on each task under one block protocol.
struct ZeroShot: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zero-shot",
    abstract: "Zero-shot perplexity (exact for GPT-2, an upper bound for LTM and diffusion models).",
    discussion: """
      Protocols: `ltm` (LTM paper: EOS after every example, no BOS, 1024-token blocks, headline = mean of
      per-block PPL), `mdlm` (MDLM paper: blocks [EOS]+1022+[EOS], headline = token-weighted PPL), `bd3lm`
      (as mdlm without EOS between examples; diffusion models never mask BOS nor count it) and `sedd` (plain
      1024-token blocks, no BOS, test split). Both
      aggregations are always reported. Results go to OUTPUT-DIR/results.json and OUTPUT-DIR/report.html;
      every scored block is cached in OUTPUT-DIR/block-cache.jsonl, so an interrupted or extended run recomputes
      nothing it already has. With --baseline FILE the run is compared against FILE: the report shows the
      deltas, and a regression exits 1 after the reports are written.
      """)

  @Option(name: .customLong("model"), help: "A checkpoint directory or file, or a hub model (gpt2, owner/name[@revision]) downloaded into the cache (repeat for several models).")
  var models: [String] = []

  @Option(help: "Comma-separated task names (ptb, wikitext2, wikitext103, lm1b, lambada, ag_news, pubmed, arxiv), presets (paper: the papers' seven columns) or paths to task YAML files.")
  var tasks: String

  @Option(help: "Root of the evaluation data, laid out as the original distributions (ptb/, wikitext/, lm1b/); default: the download cache, filled on first use.")
  var dataDir: String?

  @Option(help: "Split to score (validation or test); default: each task's reference split.")
  var split: String?

  @Option(name: .customLong("protocol"), help: "Block protocol.")
  var blockProtocol: BlockProtocol = .ltm

  @Option(help: "Score only the first N blocks of each task (the result is marked partial).")
  var limitBlocks: Int?

  @OptionGroup var threading: ThreadsOption

  @Option(help: "Blocks per forward pass. With 1 (the default) a block's NLL does not depend on the blocks batched with it, so shards and cached blocks reproduce a run bit for bit.")
  var batchBlocks: Int = 1

  @Option(help: "Where results.json, report.html, the block cache (block-cache.jsonl) and progress.json go; {shard} in it becomes the shard index (BASE/shard-{shard}).")
  var outputDir: String = "reports/zero-shot"

  @Option(help: "Tokenizer directory (vocab.json+merges.txt, encoder.json+vocab.bpe or *.tiktoken); default: the model's directory.")
  var tokenizer: String?

  @Option(help: "Directory of task YAML files; default: the repository's tasks/ folder.")
  var tasksDir: String?

  @Option(help: "Seed for stochastic scorers (recorded in the report).")
  var seed: UInt64 = 0

  @Flag(
    name: [.customLong("no-cache"), .customLong("no-resume")],
    help: "Ignore (and discard) the block cache of an earlier run in the same output directory and score everything again. --no-resume is the old name.")
  var noCache = false

  @Option(help: "Score only shard i of n (0-based: blocks i, i+n, i+2n, …) and keep per-block scores for `ltm-bench merge`; auto (or auto/n) reads i and n from a Slurm array or Kubernetes Indexed Job.")
  var shard: String?

  @Option(help: "Compare the results against this baseline file; the report shows the deltas and a regression exits 1.")
  var baseline: String?

  @OptionGroup(title: "Comparison (with --baseline)") var compare: CompareArguments

  @OptionGroup(title: "Downloads (hub model names; data when --data-dir is not given)") var download: DownloadArguments

  @OptionGroup(title: "LTM posterior inference") var latent: LatentInferenceArguments

  @OptionGroup(title: "Diffusion bound") var diffusionBound: DiffusionBoundArguments

  @Option(help: "MDLM, one draw per block: t is stratified (antithetic) across groups of N consecutive blocks, as the reference's _sample_t over an eval batch; default 16 (the reference's eval batch size).")
  var timeStrata: Int?

  func run() throws {
    BLASKernelWarning.printIfAny()
    let taskNames = tasks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let tasksDirectory = try tasksDir.map { URL(fileURLWithPath: $0) } ?? DefaultPaths.tasksDirectory()
    let reporter = StderrProgress()
    let outputs = try CLIErrors.oneLine { try reporter.clearingOnError { () -> ZeroShotRunner.Outputs in
      let (shardInfo, outputDirectory) = try ShardAssignment.resolve(shard: shard, outputDirectory: outputDir)
      // Hub names and missing data are fetched (or, --offline, checked) before anything else runs; offline,
      // one error lists everything missing, models and data together.
      let (modelPaths, dataDirectory) = try download.provision(models: models, dataDir: dataDir, progress: reporter) {
        try DataProvisioning.requiredFiles(
          taskNames: taskNames, split: split, protocolName: blockProtocol.name, tasksDirectory: tasksDirectory)
      }
      let config = ZeroShotConfiguration(
        modelPaths: modelPaths, taskNames: taskNames,
        dataDirectory: dataDirectory, split: split, protocolName: blockProtocol.name,
        limitBlocks: limitBlocks, threads: threading.count, batchBlocks: batchBlocks,
        outputDirectory: outputDirectory, tokenizerDirectory: tokenizer.map { URL(fileURLWithPath: $0) },
        tasksDirectory: tasksDirectory, seed: seed, useCache: !noCache, shard: shardInfo,
        baseline: baseline.map { URL(fileURLWithPath: $0) }, comparison: try compare.options(),
        modelOptions: ModelRunOptions(
          latent: try latent.options(),
          diffusionBound: DiffusionBoundOptions(timeSamples: diffusionBound.timeSamples, timeStrata: timeStrata)))
      return try ZeroShotRunner(configuration: config, progress: reporter).run()
    } }
    reporter.finish()
    print(TextTable.render(outputs.document))
    print("")
    print("wrote \(outputs.resultsJSON.path)")
    print("wrote \(outputs.reportHTML.path)")
    if let comparison = outputs.comparison, let baseline {
      print("")
      try compare.report(comparison, current: outputs.resultsJSON.path, baseline: baseline)
    }
    if !outputs.failures.isEmpty {
      fflush(stdout)  // the table and the paths first, then the error line
      try CLIErrors.oneLine { throw HarnessError.invalidArgument(outputs.failures.joined(separator: "; ")) }
    }
  }
}
