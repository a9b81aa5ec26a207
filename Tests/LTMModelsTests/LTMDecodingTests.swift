import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The LTM KV-cache decoder against the full forward: at every step the cached next-token logits must equal the last
/// row of `logits(inputs:z:)` on the whole sequence so far (1e-4 relative), including continuations that run past
/// the self-attention window, prompts longer than the window in one call, and ragged batches.
final class LTMDecodingTests: XCTestCase {
  override func setUp() { BLAS.threads = 2 }

  func load(_ fixture: String) throws -> LTMModel {
    try LTMModel.load(checkpoint: try SharedData.file("fixtures/\(fixture)/ckpt.pt"))
  }

  func latents(_ model: LTMModel, seed: UInt64, count: Int) -> [[Float]] {
    let n = model.args.maxZLen * model.args.dim
    return (0..<count).map { i in
      var g = LTMGaussian(seed: seed, block: UInt64(i), stream: 7)
      return (0..<n).map { _ in g.next() }
    }
  }

  func relativeError(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var num = 0.0, den = 0.0
    for (x, y) in zip(a, b) {
      num += (Double(x) - Double(y)) * (Double(x) - Double(y))
      den += Double(y) * Double(y)
    }
    return (num / den).squareRoot()
  }

  /// Decodes greedily from `prompts` for `steps` tokens (feeding `chunk` tokens per later call when > 1 is wanted
  /// via the prompt only) and checks every step's logits against the full forward. Returns the worst error.
  @discardableResult
  func checkParity(_ model: LTMModel, prompts: [[Int32]], steps: Int, checkEvery: Int = 1) throws -> Double {
    let z = latents(model, seed: 3, count: prompts.count)
    let cache = try model.makeCache(latents: z)
    let v = model.args.vocabSize
    var sequences = prompts
    var logits = try model.extend(cache, tokens: prompts)
    var worst = 0.0
    for step in 0...steps {
      if step % checkEvery == 0 || step == steps {
        for (r, seq) in sequences.enumerated() {
          let full = try model.logits(inputs: seq, z: z[r])
          let err = relativeError(logits[(r * v)..<((r + 1) * v)], full[((seq.count - 1) * v)..<(seq.count * v)])
          worst = max(worst, err)
          XCTAssertLessThan(err, 1e-4, "row \(r) at length \(seq.count)")
        }
      }
      if step == steps { break }
      var next: [[Int32]] = []
      for r in sequences.indices {
        var best = 0
        for i in 1..<v where logits[r * v + i] > logits[r * v + best] { best = i }
        sequences[r].append(Int32(best))
        next.append([Int32(best)])
      }
      logits = try model.extend(cache, tokens: next)
    }
    XCTAssertEqual(cache.lengths, sequences.map(\.count))
    return worst
  }

  func randomTokens(_ count: Int, vocab: Int, seed: UInt64) -> [Int32] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { _ in Int32(g.next() % UInt64(vocab)) }
  }

  func testMicroParityPastTheWindow() throws {
    let model = try load("ltm-micro")
    XCTAssertEqual(model.args.windowSize, 16)
    // Ragged prompts (one longer than the window, fed in one call); 40 steps run well past the window.
    let prompts: [[Int32]] = [randomTokens(20, vocab: 512, seed: 1), randomTokens(3, vocab: 512, seed: 2), [50]]
    let worst = try checkParity(model, prompts: prompts, steps: 40)
    print("ltm-micro cached-vs-full worst relative error \(worst)")
  }

  func testGPT2VocabParityPastTheWindow() throws {
    let model = try load("ltm-gpt2vocab")
    XCTAssertEqual(model.args.windowSize, 256)
    let prompts = [[LTMModel.beginOfTextID] + randomTokens(249, vocab: 50257, seed: 5), [LTMModel.beginOfTextID]]
    let worst = try checkParity(model, prompts: prompts, steps: 12, checkEvery: 3)
    print("ltm-gpt2vocab cached-vs-full worst relative error \(worst)")
  }

  func testMultiTokenExtendAfterDecoding() throws {
    let model = try load("ltm-micro")
    let z = latents(model, seed: 9, count: 2)
    let cache = try model.makeCache(latents: z)
    let a = randomTokens(10, vocab: 512, seed: 11), b = randomTokens(30, vocab: 512, seed: 12)
    _ = try model.extend(cache, tokens: [a, []])
    // Row 0 gets 25 more tokens at once (crossing the window inside the call); row 1 its first 30.
    let more = randomTokens(25, vocab: 512, seed: 13)
    let logits = try model.extend(cache, tokens: [more, b])
    let v = 512
    for (r, seq) in [a + more, b].enumerated() {
      let full = try model.logits(inputs: seq, z: z[r])
      XCTAssertLessThan(relativeError(logits[(r * v)..<((r + 1) * v)], full[((seq.count - 1) * v)...]), 1e-4)
    }
  }

  func testGreedyEqualsArgmaxOfFullForwards() throws {
    let model = try load("ltm-micro")
    let z = latents(model, seed: 4, count: 2)
    let prompts = [randomTokens(6, vocab: 512, seed: 21), randomTokens(2, vocab: 512, seed: 22)]
    let out = try model.generate(prompts: prompts, latents: z, newTokens: 24, sampling: .greedy, seeds: [1, 2])
    for r in 0..<2 {
      XCTAssertEqual(out[r].count, 24)
      var seq = prompts[r]
      for t in out[r] {
        let full = try model.logits(inputs: seq, z: z[r])
        let last = full[((seq.count - 1) * 512)...]
        let best = last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }!
        XCTAssertEqual(t, Int32(best - (seq.count - 1) * 512))
        seq.append(t)
      }
    }
  }

  func testSeededSamplingIsReproducibleAndBatchIndependent() throws {
    let model = try load("ltm-micro")
    let z = latents(model, seed: 4, count: 3)
    let prompts = [randomTokens(5, vocab: 512, seed: 31), randomTokens(5, vocab: 512, seed: 32), randomTokens(1, vocab: 512, seed: 33)]
    let sampling = SamplingSettings(method: .multinomial, temperature: 1, topK: 50, topP: 0.95)
    let a = try model.generate(prompts: prompts, latents: z, newTokens: 20, sampling: sampling, seeds: [7, 8, 9])
    let b = try model.generate(prompts: prompts, latents: z, newTokens: 20, sampling: sampling, seeds: [7, 8, 9])
    XCTAssertEqual(a, b)
    let alone = try model.generate(prompts: [prompts[1]], latents: [z[1]], newTokens: 20, sampling: sampling, seeds: [8])
    XCTAssertEqual(alone[0], a[1])
    let other = try model.generate(prompts: prompts, latents: z, newTokens: 20, sampling: sampling, seeds: [70, 80, 90])
    XCTAssertNotEqual(other, a)
  }

  func testConditionalAndUnconditionalGeneration() throws {
    let model = try load("ltm-micro")
    let fit = try model.options()
    let prefixes = [randomTokens(12, vocab: 512, seed: 41), randomTokens(12, vocab: 512, seed: 42), randomTokens(7, vocab: 512, seed: 43)]
    let sampling = SamplingSettings()
    let a = try model.generateConditional(prefixes: prefixes, samplesPerPrefix: 3, newTokens: 10, sampling: sampling, fit: fit, seed: 5, bos: 0)
    XCTAssertEqual(a.count, 3)
    XCTAssertTrue(a.allSatisfy { $0.count == 3 && $0.allSatisfy { $0.count == 10 } })
    // Per-prefix results do not depend on which other prefixes are in the call.
    let single = try model.generateConditional(
      prefixes: [prefixes[2]], prefixIndices: [2], samplesPerPrefix: 3, newTokens: 10, sampling: sampling, fit: fit, seed: 5, bos: 0)
    XCTAssertEqual(single[0], a[2])
    // Greedy samples of one prefix differ only through z = μ + σ·ε.
    let g = try model.generateConditional(prefixes: prefixes, samplesPerPrefix: 2, newTokens: 10, sampling: .greedy, fit: fit, seed: 5, bos: 0)
    XCTAssertEqual(g[0][0].count, 10)
    let u = try model.generateUnconditional(count: 4, newTokens: 15, sampling: sampling, seed: 1, bos: 0)
    XCTAssertEqual(u.map(\.count), [15, 15, 15, 15])
    XCTAssertEqual(u, try model.generateUnconditional(count: 4, newTokens: 15, sampling: sampling, seed: 1, bos: 0))
    XCTAssertThrowsError(try model.generate(prompts: [[1]], latents: [[0]], newTokens: 1, sampling: .greedy, seeds: [0]))
    XCTAssertThrowsError(try model.generate(prompts: [[1]], latents: latents(model, seed: 1, count: 1), newTokens: 200, sampling: .greedy, seeds: [0]))
  }
}
