import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench bench`: sgemm rate, GPT-2-small scoring throughput and tokenizer speed on this machine.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure sgemm GFLOP/s, GPT-2-small scoring tokens/s (and its GFLOP/s against sgemm), tokenizer MB/s; --mdlm, --ltm, --decode, --mauve add more.")

  @OptionGroup var threading: ThreadsOption

  @Option(help: "Tokens per scored block.")
  var blockLength: Int = 1024

  @Option(help: "Blocks per forward pass.")
  var batchBlocks: Int = 1

  @Option(help: "Timed repetitions (the best is reported).")
  var repeats: Int = 2

  @Option(help: "Text file for the tokenizer benchmark (e.g. DATA/wikitext/wiki.test.raw); omitted: skipped.")
  var tokenizerText: String?

  @Option(help: "Tokenizer directory for the tokenizer benchmark.")
  var tokenizer: String?

  @Flag(help: "Also time one LTM fast-loop step (forward + backward to z) at the LTM-S and LTM-M shapes (~1 min).")
  var ltm = false

  @Flag(help: "Also time MAUVE on 5000 + 5000 random 1280-dimensional features (k = 500; several seconds).")
  var mauve = false

  @Flag(help: "Also time GPT-2-small-shape decoding with the KV cache at batch 1 and 8.")
  var decode = false

  @Flag(help: "Also time one MDLM DiT forward at the MDLM-OWT shape (768×12, 12 heads, random weights), next to GPT-2-small, and the ancestral sampler (50 + 50 tokens, T = 64).")
  var mdlm = false

  @Flag(help: "Print the report as JSON.")
  var json = false

  func validate() throws {
    guard (2...1024).contains(blockLength) else { throw ValidationError("--block-length must be in 2...1024") }
    guard batchBlocks >= 1, repeats >= 1 else { throw ValidationError("--batch-blocks and --repeats must be at least 1") }
    if (tokenizerText == nil) != (tokenizer == nil) {
      throw ValidationError("--tokenizer-text and --tokenizer go together")
    }
  }

  func run() throws {
    BLASKernelWarning.printIfAny()
    let report = try CLIErrors.oneLine { () -> BenchmarkReport in
      let threads = threading.count
      HarnessSettings.setThreads(threads)
      // Best of 5: the denominator of every "% of sgemm" should be the machine's rate, not a slow moment's.
      let gemm = Benchmarks.sgemm(repeats: 5)
      let scoring = try Benchmarks.gpt2SmallScoring(
        blockLength: blockLength, blocksPerCall: batchBlocks, repeats: repeats, sgemmGFLOPS: gemm.gflops)
      var tok: BenchmarkReport.Tokenizing?
      if let text = tokenizerText, let dir = tokenizer {
        tok = try Benchmarks.tokenizer(file: URL(fileURLWithPath: text), tokenizerDirectory: URL(fileURLWithPath: dir))
      }
      let fastLoop = ltm ? try Benchmarks.ltmFastLoop(blockLength: blockLength, blocksPerCall: batchBlocks, repeats: repeats) : nil
      let mauveTiming = mauve ? try Benchmarks.mauve() : nil
      let decoding = decode ? try [1, 8].map { try Benchmarks.gpt2SmallDecoding(batch: $0) } : nil
      let diffusion = mdlm ? try Benchmarks.mdlmForward(
        blockLength: blockLength, blocksPerCall: batchBlocks, repeats: repeats, sgemmGFLOPS: gemm.gflops) : nil
      var report = BenchmarkReport(
        threads: threads, sgemm: gemm, scoring: scoring, tokenizer: tok, ltmFastLoop: fastLoop, mauve: mauveTiming,
        decoding: decoding, mdlm: diffusion)
      if mdlm { report.mdlmSampling = try Benchmarks.mdlmSampling() }
      return report
    }
    if json {
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try enc.encode(report), as: UTF8.self))
      return
    }
    let s = report.scoring
    print("threads                 \(report.threads)  (of \(ThreadCount.usable) usable CPUs)")
    let k = report.blasKernels
    print("blas kernels            \(k.core), \(k.selectedBy)\(k.detectedCore.map { " (OpenBLAS detected \($0))" } ?? "") on \(k.cpu)")
    print(String(format: "sgemm %d³               %.1f GFLOP/s", report.sgemm.m, report.sgemm.gflops))
    print(String(format: "gpt2-small scoring      %.1f tokens/s  (%.3f s per %d-token block, %d per call)", s.tokensPerSecond, s.secondsPerBlock, s.blockLength, s.blocksPerCall))
    print(String(format: "                        %.1f GFLOP/s = %.0f%% of sgemm", s.gflops, 100 * s.fractionOfSGEMM))
    if let m = report.mdlm {
      print(String(format: "mdlm-owt forward        %.1f tokens/s  (%.3f s per %d-token block, %d per call, all positions masked)", m.tokensPerSecond, m.secondsPerBlock, m.blockLength, m.blocksPerCall))
      print(String(format: "                        %.1f GFLOP/s = %.0f%% of sgemm", m.gflops, 100 * m.fractionOfSGEMM))
    }
    if let m = report.mdlmSampling {
      print(String(format: "mdlm-owt sampler        %.2f s per sample  (%d + %d tokens, T = %d, %d samples per batch)", m.secondsPerSample, m.prefixTokens, m.newTokens, m.steps, m.samples))
      print(String(format: "                        %.1f DiT calls per sample, %.0f%% of the steps skipped by the cache", m.networkCallsPerSample, 100 * m.skippedByCache))
    }
    for l in report.ltmFastLoop ?? [] {
      print("ltm fast loop           \(l.model)")
      print(String(format: "                        %.3f s per step (forward + backward to z + AdamW), %.3f s per forward = %.2f× a forward",
                   l.secondsPerStep, l.secondsPerForward, l.stepToForwardRatio))
      print(String(format: "                        %.1f s per 1024-token block at T = 16 steps", l.secondsPerBlockAt16Steps))
    }
    if let t = report.tokenizer {
      print(String(format: "tokenizer               %.2f MB/s cold, %.2f MB/s warm  (%.2f MB, %d tokens)", t.coldMBPerSecond, t.warmMBPerSecond, t.megabytes, t.tokens))
    }
    if let m = report.mauve {
      print(String(format: "mauve %d+%d×%d        %.2f s  (PCA %.2f s → %d dims, k-means k=%d %.2f s, iterations %@)", m.rowsPerSide, m.rowsPerSide, m.dims,
                   m.totalSeconds, m.pcaSeconds, m.keptDims, m.clusters, m.kmeansSeconds, m.iterationsPerRestart.map(String.init).joined(separator: "/")))
    }
    for d in report.decoding ?? [] {
      print(String(format: "gpt2-small decode b=%-2d  %.1f tokens/s  (prefill %d tokens %.3f s, %d new tokens per row)", d.batch, d.tokensPerSecond,
                   d.promptTokens, d.prefillSeconds, d.newTokens))
    }
  }
}
