import Foundation
import LTMModels
import LTMTensor
import LTMTokenizer

/// `ltm-bench bench`: throughput of the pieces that dominate a zero-shot run, each against the machine's own
/// sgemm rate so a number means the same on any CPU.
public struct BenchmarkReport: Codable, Sendable {
  public struct GEMM: Codable, Sendable {
    public var m: Int, n: Int, k: Int
    public var seconds: Double
    public var gflops: Double
  }
  public struct Scoring: Codable, Sendable {
    public var model: String
    public var blockLength: Int
    public var blocksPerCall: Int
    public var secondsPerBlock: Double
    public var tokensPerSecond: Double
    public var gflops: Double
    /// Scoring GFLOP/s ÷ plain sgemm GFLOP/s: how close the whole forward pass gets to the BLAS bound.
    public var fractionOfSGEMM: Double
  }
  public struct Tokenizing: Codable, Sendable {
    public var file: String
    public var megabytes: Double
    public var tokens: Int
    public var coldMBPerSecond: Double
    public var warmMBPerSecond: Double
  }
  public var threads: Int
  /// The OpenBLAS kernels that ran, and the CPU.
  public var blasKernels: BLASKernelStatus = HarnessSettings.blasKernels
  public var sgemm: GEMM
  public var scoring: Scoring
  public var tokenizer: Tokenizing?
  /// LTM fast-loop steps (forward + backward to z + AdamW) at the paper's LTM-S and LTM-M shapes (`--ltm`).
  public var ltmFastLoop: [LTMFastLoopBenchmark]?
  /// `bench --mauve` (Benchmarks+Generation.swift).
  public var mauve: MauveTiming?
  /// `bench --decode`: one entry per batch size.
  public var decoding: [Decoding]?
  /// `bench --mdlm`: one MDLM DiT forward (all positions masked, so every row goes through the head).
  public var mdlm: Scoring?
  /// `bench --mdlm`: the ancestral sampler on a mauve-protocol sequence.
  public var mdlmSampling: MDLMSampling?

  public struct MDLMSampling: Codable, Sendable {
    public var model: String
    public var prefixTokens: Int
    public var newTokens: Int
    public var steps: Int
    public var samples: Int
    public var secondsPerSample: Double
    /// DiT evaluations per sample (noise removal included), against `steps` without the cache.
    public var networkCallsPerSample: Double
    /// Share of the T steps whose DiT evaluation the cache skipped.
    public var skippedByCache: Double
  }

  public init(threads: Int, sgemm: GEMM, scoring: Scoring, tokenizer: Tokenizing?, ltmFastLoop: [LTMFastLoopBenchmark]? = nil,
              mauve: MauveTiming? = nil, decoding: [Decoding]? = nil, mdlm: Scoring? = nil) {
    self.mdlm = mdlm
    self.threads = threads
    self.sgemm = sgemm
    self.scoring = scoring
    self.tokenizer = tokenizer
    self.ltmFastLoop = ltmFastLoop
    self.mauve = mauve
    self.decoding = decoding
  }
}

public enum Benchmarks {
  /// Best-of-`repeats` square sgemm rate in GFLOP/s (2·n³ flops per call).
  public static func sgemm(size n: Int = 2048, repeats: Int = 3) -> BenchmarkReport.GEMM {
    var rng = SplitMix64(seed: 1)
    let a = (0..<(n * n)).map { _ in rng.nextFloat() - 0.5 }
    let b = (0..<(n * n)).map { _ in rng.nextFloat() - 0.5 }
    var c = [Float](repeating: 0, count: n * n)
    var best = Double.infinity
    for _ in 0..<max(1, repeats) {
      let t0 = DispatchTime.now().uptimeNanoseconds
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          c.withUnsafeMutableBufferPointer { pc in
            BLAS.gemm(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
          }
        }
      }
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return .init(m: n, n: n, k: n, seconds: best, gflops: 2 * pow(Double(n), 3) / best / 1e9)
  }

  /// Scores random-token blocks with a GPT-2-small-shaped model (random weights: the arithmetic is what is timed).
  public static func gpt2SmallScoring(blockLength: Int = 1024, blocksPerCall: Int = 1, repeats: Int = 2, sgemmGFLOPS: Double)
    throws -> BenchmarkReport.Scoring
  {
    let model = GPT2Model.randomGPT2Small(seed: 7)
    var rng = SplitMix64(seed: 3)
    let blocks = (0..<blocksPerCall).map { _ in (0..<blockLength).map { _ in Int32(rng.next() % 50257) } }
    _ = try model.score(blocks: blocks)  // warm-up: buffers allocated, pages touched
    var best = Double.infinity
    for _ in 0..<max(1, repeats) {
      let t0 = DispatchTime.now().uptimeNanoseconds
      _ = try model.score(blocks: blocks)
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    let perBlock = best / Double(blocksPerCall)
    let gflops = model.flops(blockLength: blockLength) / perBlock / 1e9
    return .init(
      model: "gpt2-small shape (768×12, 12 heads, vocab 50257), random weights", blockLength: blockLength,
      blocksPerCall: blocksPerCall, secondsPerBlock: perBlock, tokensPerSecond: Double(blockLength - 1) / perBlock,
      gflops: gflops, fractionOfSGEMM: gflops / sgemmGFLOPS)
  }

  /// One MDLM DiT forward at the MDLM-OWT shape (768 × 12 blocks, 12 heads, cond 128, vocab 50258), random weights,
  /// on fully masked blocks: every position goes through the vocab-wide head, as in a sampler step, so this is the
  /// largest forward the bound's estimator ever makes (it only sends masked rows through the head).
  public static func mdlmForward(blockLength: Int = 1024, blocksPerCall: Int = 1, repeats: Int = 2, sgemmGFLOPS: Double)
    throws -> BenchmarkReport.Scoring
  {
    let model = MDLMModel.random(config: MDLMModel.owtSmallConfig, seed: 7)
    var rng = SplitMix64(seed: 3)
    let x0 = (0..<blocksPerCall).map { _ in (0..<blockLength).map { _ in Int32(rng.next() % 50257) } }
    let xt = x0.map { $0.map { _ in model.config.maskIndex } }
    let sigmas = [Double](repeating: 0, count: blocksPerCall)
    _ = try model.logProbabilities(x0: x0, xt: xt, sigmas: sigmas)  // warm-up
    var best = Double.infinity
    for _ in 0..<max(1, repeats) {
      let t0 = DispatchTime.now().uptimeNanoseconds
      _ = try model.logProbabilities(x0: x0, xt: xt, sigmas: sigmas)
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    let perBlock = best / Double(blocksPerCall)
    let gflops = model.flops(blockLength: blockLength) / perBlock / 1e9
    return .init(
      model: "mdlm-owt shape (768×12, 12 heads, cond 128, vocab 50258), random weights, all positions masked",
      blockLength: blockLength, blocksPerCall: blocksPerCall, secondsPerBlock: perBlock,
      tokensPerSecond: Double(blockLength) / perBlock, gflops: gflops, fractionOfSGEMM: gflops / sgemmGFLOPS)
  }

  /// The MDLM ancestral sampler at the MDLM-OWT shape (random weights) on the mauve protocol's shape: a 50-token
  /// prefix and 50 new tokens, T = 64 steps, 2 samples in one batch: seconds per sample and the DiT calls the
  /// cache saves.
  public static func mdlmSampling(prefixTokens: Int = 50, newTokens: Int = 50, steps: Int = 64, samples: Int = 2) throws -> BenchmarkReport.MDLMSampling {
    let model = MDLMModel.random(config: MDLMModel.owtSmallConfig, seed: 7)
    var rng = SplitMix64(seed: 5)
    let prefixes = (0..<samples).map { _ in (0..<prefixTokens).map { _ in Int32(rng.next() % 50257) } }
    let t0 = DispatchTime.now().uptimeNanoseconds
    let r = try model.sample(
      prefixes: prefixes, length: prefixTokens + newTokens, settings: DiffusionSamplingOptions(steps: steps),
      seeds: TokenSampler.rowSeeds(base: 1, count: samples))
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let calls = Double(r.networkCalls.reduce(0, +)) / Double(samples)
    return .init(
      model: "mdlm-owt shape (768×12, 12 heads, cond 128, vocab 50258), random weights", prefixTokens: prefixTokens,
      newTokens: newTokens, steps: steps, samples: samples, secondsPerSample: seconds / Double(samples),
      networkCallsPerSample: calls, skippedByCache: max(0, 1 - calls / Double(steps)))
  }

  /// One fast-loop step of LTM-S (3 layers) and LTM-M (6 layers), random weights, 1024-token blocks.
  public static func ltmFastLoop(blockLength: Int = 1024, blocksPerCall: Int = 1, repeats: Int = 2) throws -> [LTMFastLoopBenchmark] {
    try [3, 6].map { try LTMModel.benchmarkFastLoop(layers: $0, blockLength: blockLength, blocksPerCall: blocksPerCall, repeats: repeats) }
  }

  /// Encodes a whole file twice: cold (empty BPE cache) and warm (cache filled by the first pass).
  public static func tokenizer(file: URL, tokenizerDirectory: URL) throws -> BenchmarkReport.Tokenizing {
    let text = try String(contentsOf: file, encoding: .utf8)
    let tokenizer = try GPT2Tokenizer.load(directory: tokenizerDirectory)
    let mb = Double(text.utf8.count) / 1e6
    var t0 = DispatchTime.now().uptimeNanoseconds
    let ids = tokenizer.encode(text)
    let cold = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    t0 = DispatchTime.now().uptimeNanoseconds
    _ = tokenizer.encode(text)
    let warm = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    return .init(file: file.path, megabytes: mb, tokens: ids.count, coldMBPerSecond: mb / cold, warmMBPerSecond: mb / warm)
  }
}
