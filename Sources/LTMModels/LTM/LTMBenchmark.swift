import Foundation
import LTMTensor

/// Timing of the LTM fast loop on a random-weight model of a paper shape (`ltm-bench bench`).
public struct LTMFastLoopBenchmark: Codable, Sendable, Equatable {
  public var model: String
  public var layers: Int
  public var dim: Int
  public var heads: Int
  public var latents: Int
  public var vocabSize: Int
  public var blockLength: Int
  public var blocksPerCall: Int
  public var threads: Int
  /// One full decoder forward of a block (embeddings, every layer, output head and CE), seconds per block.
  public var secondsPerForward: Double
  /// One fast-loop step (forward from the cached z-independent layer-0 self-attention, backward to z, AdamW),
  /// seconds per block.
  public var secondsPerStep: Double
  /// secondsPerStep / secondsPerForward (goal ≤ 3).
  public var stepToForwardRatio: Double
  /// A whole `ltm`-protocol block at the checkpoint's T: (T steps + 1 final forward) in seconds, for T = 16.
  public var secondsPerBlockAt16Steps: Double
}

extension LTMModel {
  /// LTM-S (3 layers) and LTM-M (6 layers) shapes: dim 512, 8 heads, N_z 24, vocab 50258, window 256, 1024 positions.
  public static func paperShape(layers: Int) -> LTMConfig {
    LTMConfig(
      modelArgs: LTMModelArgs(dim: 512, nLayers: layers, nHeads: 8, vocabSize: 50258, multipleOf: 32, maxSeqLen: 1024, windowSize: 256, maxZLen: 24),
      config: LTMPosteriorConfig(numSteps: 16, fastLR: 0.34))
  }

  /// Times one fast-loop step against one forward pass on random weights and random tokens (best of `repeats`).
  /// Uses the current `BLAS.threads`.
  public static func benchmarkFastLoop(
    layers: Int, blockLength: Int = 1024, blocksPerCall: Int = 1, repeats: Int = 2, seed: UInt64 = 7
  ) throws -> LTMFastLoopBenchmark {
    try benchmarkFastLoop(
      config: paperShape(layers: layers), name: layers == 3 ? "LTM-S" : layers == 6 ? "LTM-M" : "LTM", blockLength: blockLength,
      blocksPerCall: blocksPerCall, repeats: repeats, seed: seed)
  }

  /// As `benchmarkFastLoop(layers:…)` for any shape.
  public static func benchmarkFastLoop(
    config: LTMConfig, name: String, blockLength: Int, blocksPerCall: Int = 1, repeats: Int = 2, seed: UInt64 = 7
  ) throws -> LTMFastLoopBenchmark {
    try config.validate(source: name)
    guard blockLength >= 2, blockLength - 1 <= config.modelArgs.maxSeqLen, blocksPerCall >= 1 else {
      throw ModelError.badInput("benchmark block length \(blockLength) or batch \(blocksPerCall) does not fit the model")
    }
    let layers = config.modelArgs.nLayers
    let model = LTMModel.random(config: config, seed: seed)
    let a = config.modelArgs
    var rng = SplitMix64(seed: seed &+ 1)
    let blocks = (0..<blocksPerCall).map { _ in (0..<blockLength).map { _ in Int32(rng.next() % UInt64(a.vocabSize)) } }
    let n = a.maxZLen * a.dim
    let starts = (0..<blocksPerCall).map { LTMPosteriorStart.official(count: n, seed: seed, block: UInt64($0)) }
    func time(_ body: () throws -> Void) rethrows -> Double {
      var best = Double.infinity
      for _ in 0..<Swift.max(1, repeats) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
      }
      return best
    }
    let z = starts.flatMap(\.mu)
    _ = try model.tokenNLL(blocks: blocks, z: blocks.indices.map { Array(z[($0 * n)..<(($0 + 1) * n)]) })  // warm-up
    let forward = try time {
      _ = try model.tokenNLL(blocks: blocks, z: blocks.indices.map { Array(z[($0 * n)..<(($0 + 1) * n)]) })
    }
    let loop = try LTMFastLoop(model: model, blocks: blocks, starts: starts)
    _ = loop.step(lr: 0.34)  // warm-up
    let step = time { _ = loop.step(lr: 0.34) }
    let perForward = forward / Double(blocksPerCall), perStep = step / Double(blocksPerCall)
    let finalForward = time { _ = loop.evaluate(noise: loop.eps.pointer) } / Double(blocksPerCall)
    return LTMFastLoopBenchmark(
      model: "\(name) shape (\(layers) layers × \(a.dim), \(a.nHeads) heads, N_z \(a.maxZLen), vocab \(a.vocabSize)), random weights",
      layers: layers, dim: a.dim, heads: a.nHeads, latents: a.maxZLen, vocabSize: a.vocabSize, blockLength: blockLength,
      blocksPerCall: blocksPerCall, threads: BLAS.threads, secondsPerForward: perForward, secondsPerStep: perStep,
      stepToForwardRatio: perStep / perForward, secondsPerBlockAt16Steps: 16 * perStep + finalForward)
  }
}
