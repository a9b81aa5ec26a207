import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The LTM few-shot adapter (paper §8 protocol) on ltm-micro (max_seq_len 128, window 16, vocab 512): the fitted z is
/// the fast loop's, the greedy decode is iterated argmax of full forwards at that z (with the authors' crop past the
/// context), loglikelihoods are sums from a full forward, and every fit is keyed by (seed, document, k).
final class LTMFewShotTests: XCTestCase {
  private var model: LTMModel!
  private var adapter: LTMFewShot!
  private var tokens: [Int32]!

  override func setUpWithError() throws {
    BLAS.threads = 2
    model = try LTMModel.load(checkpoint: try SharedData.file("fixtures/ltm-micro/ckpt.pt"))
    adapter = try XCTUnwrap(try fewShotModel(model, options: ModelRunOptions()) as? LTMFewShot)
    var rng = SplitMix64(seed: 5)
    tokens = (0..<200).map { _ in Int32(rng.next() % 512) }
  }

  private var n: Int { model.args.maxZLen * model.args.dim }

  /// z = μ_T + ε·σ_T of `fitPosterior` from the start keyed by (seed, document, salt).
  private func referenceLatents(_ blocks: [[Int32]], seed: UInt64, document: Int, salts: [UInt64]) throws -> [[Float]] {
    let starts = salts.map { LTMPosteriorStart.official(count: n, seed: seed, block: LTMFewShot.fitKey(document: document, salt: $0)) }
    let fits = try model.fitPosterior(blocks: blocks, starts: starts, steps: 8, learningRate: 0.34)
    return zip(fits, starts).map { f, s in (0..<n).map { f.mu[$0] + s.eps[$0] * Foundation.exp(0.5 * f.logvar[$0]) } }
  }

  func testOptionsComeFromTheCheckpointUnlessOverridden() throws {
    XCTAssertEqual(adapter.fit.steps, 8)
    XCTAssertEqual(adapter.fit.learningRate, 0.34)
    let other = try XCTUnwrap(try fewShotModel(model, options: ModelRunOptions(latent: LatentInferenceOptions(steps: [3], fastLearningRate: 0.1))) as? LTMFewShot)
    XCTAssertEqual(other.fit.steps, 3)
    XCTAssertEqual(other.fit.learningRate, 0.1)
    XCTAssertEqual(adapter.descriptor.bound, .upper)
  }

  /// The z the adapter decodes with is the z of the fit's own final forward: its NLL on the block equals the fit's
  /// final NLL bitwise, and it equals z rebuilt from fitPosterior's μ, σ and the start's ε.
  func testFittedLatentsAreTheFastLoopsBitwise() throws {
    let context = Array(tokens.prefix(40))
    let got = try adapter.generationLatents(context: context, fits: 3, seed: 9, document: 4)
    for k in 0..<3 {
      XCTAssertTrue(got[k] == (try referenceLatents([context], seed: 9, document: 4, salts: [UInt64(k)])[0]), "fit \(k)")
      let start = adapter.start(seed: 9, document: 4, salt: UInt64(k))
      let fit = try model.fitPosterior(blocks: [context], starts: [start], steps: 8, learningRate: 0.34)[0]
      XCTAssertTrue(try model.tokenNLL(blocks: [context], z: [got[k]])[0] == fit.tokenNLL, "fit \(k)")
    }
  }

  /// Greedy decoding with the LTM KV cache equals iterated argmax of `logits(inputs:z:)` at the same z, and within the
  /// context and past it (the authors crop to the last max_seq_len tokens, positions restarting at 0).
  func testGreedyDecodeEqualsIteratedFullForward() throws {
    for (promptLength, fitLength, newTokens) in [(50, 44, 20), (120, 110, 20)] {
      let prompt = Array(tokens.prefix(promptLength)), context = Array(tokens.prefix(fitLength))
      let settings = FewShotGenerationSettings(strategy: .greedy, maxNewTokens: newTokens, candidates: 2)
      let got = try adapter.generate(GenerationRequest(prompt: prompt, fitContext: context), settings: settings, seed: 3, document: 11)
      let latents = try [0, 1].map { try referenceLatents([context], seed: 3, document: 11, salts: [$0])[0] }
      let v = model.args.vocabSize
      for (k, z) in latents.enumerated() {
        var sequence = prompt, want: [Int32] = []
        for _ in 0..<newTokens {
          let inputs = Array(sequence.suffix(model.args.maxSeqLen))
          let logits = try model.logits(inputs: inputs, z: z)
          let row = logits[((inputs.count - 1) * v)..<(inputs.count * v)]
          let next = Int32(row.indices.first { row[$0] == row.max()! }! - row.startIndex)
          want.append(next)
          sequence.append(next)
        }
        XCTAssertEqual(got[k], want, "prompt \(promptLength), fit \(k)")
      }
    }
  }

  func testStopTokensEndACandidate() throws {
    let prompt = Array(tokens.prefix(30))
    let free = try adapter.generate(
      GenerationRequest(prompt: prompt), settings: .init(strategy: .greedy, maxNewTokens: 12), seed: 1, document: 2)[0]
    let stop = free[4]
    let cut = try adapter.generate(
      GenerationRequest(prompt: prompt), settings: .init(strategy: .greedy, maxNewTokens: 12, stopTokens: [stop]), seed: 1, document: 2)[0]
    XCTAssertEqual(cut, Array(free.prefix(through: free.firstIndex(of: stop)!)))
  }

  /// K fits differ from each other, repeat exactly, depend on (seed, document, k) only, and the fit follows
  /// `fitContext` when given.
  func testFitsAreIndependentKeyedAndReproducible() throws {
    let context = Array(tokens.prefix(40))
    let a = try adapter.generationLatents(context: context, fits: 3, seed: 7, document: 5)
    XCTAssertTrue(a[0] != a[1] && a[1] != a[2] && a[0] != a[2])
    _ = try adapter.generate(GenerationRequest(prompt: Array(tokens.prefix(60))), settings: .init(strategy: .greedy, maxNewTokens: 3), seed: 7, document: 9)
    XCTAssertTrue(try adapter.generationLatents(context: context, fits: 3, seed: 7, document: 5) == a)
    // Fit k does not depend on how many fits run beside it; another document or seed gives another fit.
    XCTAssertTrue(try adapter.generationLatents(context: context, fits: 1, seed: 7, document: 5)[0] == a[0])
    XCTAssertTrue(try adapter.generationLatents(context: context, fits: 1, seed: 7, document: 6)[0] != a[0])
    XCTAssertTrue(try adapter.generationLatents(context: context, fits: 1, seed: 8, document: 5)[0] != a[0])
    // A document's candidates do not depend on other documents processed before.
    let request = GenerationRequest(prompt: Array(tokens.prefix(48)), fitContext: Array(tokens.prefix(40)))
    let settings = FewShotGenerationSettings(strategy: .greedy, maxNewTokens: 8, candidates: 2)
    let fresh = try XCTUnwrap(try fewShotModel(model, options: ModelRunOptions()) as? LTMFewShot)
    let first = try fresh.generate(request, settings: settings, seed: 7, document: 5)
    XCTAssertEqual(try adapter.generate(request, settings: settings, seed: 7, document: 5), first)
  }

  /// Σ log p(cont | ctx, z) and is_greedy from the adapter equal a log-softmax over `logits(inputs:z:)` at the z fitted
  /// on the context; choices sharing a context share z; results do not depend on the other requests.
  func testLoglikelihoodEqualsFullForwardSum() throws {
    let context = Array(tokens.prefix(30))
    let choices: [[Int32]] = [Array(tokens[30..<35]), [7], Array(tokens[100..<112])]
    let requests = choices.map { LoglikelihoodRequest(context: context, continuation: $0) }
    let got = try adapter.loglikelihoods(requests, seed: 2, document: 8)
    let z = try referenceLatents([context], seed: 2, document: 8, salts: [LTMFewShot.contextSalt(context)])[0]
    let v = model.args.vocabSize
    for (r, cont) in choices.enumerated() {
      let inputs = Array((context + cont).dropLast())
      let logits = try model.logits(inputs: inputs, z: z)
      var sum = 0.0, greedy = true
      for (i, t) in cont.enumerated() {
        let row = logits[((context.count - 1 + i) * v)..<((context.count + i) * v)].map(Double.init)
        let m = row.max()!
        sum += row[Int(t)] - (m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) }))
        greedy = greedy && row.firstIndex(of: m)! == Int(t)
      }
      XCTAssertEqual(got[r].logprob, sum, accuracy: 1e-5 * abs(sum), "choice \(r)")
      XCTAssertEqual(got[r].isGreedy, greedy)
      XCTAssertEqual(got[r].estimator, "ltm-conditional-at-fitted-z")
      XCTAssertEqual(got[r].tokenCount, cont.count)
    }
    // The greedy continuation is reported as greedy.
    let greedyCont = try adapter.decodeGreedy(prompt: context, latents: [z], newTokens: 4, stopTokens: [])[0]
    XCTAssertEqual(try adapter.loglikelihoods([LoglikelihoodRequest(context: context, continuation: greedyCont)], seed: 2, document: 8)[0].isGreedy, true)
    // Alone, a request scores the same bits.
    XCTAssertEqual(try adapter.loglikelihoods([requests[2]], seed: 2, document: 8)[0], got[2])
  }

  /// The same on ltm-gpt2vocab (window 256, 1024 positions, vocab 50258) with a prompt longer than the window:
  /// the cached sliding-window decode equals iterated full forwards at the fitted z.
  func testGreedyDecodeOnTheGPT2VocabularyModel() throws {
    let big = try LTMModel.load(checkpoint: try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt"))
    let bigAdapter = try XCTUnwrap(try fewShotModel(big, options: ModelRunOptions()) as? LTMFewShot)
    let lines = try SharedData.jsonLines("fixtures/zero-shot-pipeline/wikitext-test.jsonl")
    let ids = lines.compactMap { $0["ids"] as? [Int] }.flatMap { $0 }.map(Int32.init)
    let prompt = Array(ids.prefix(300)), context = Array(ids.prefix(290))
    let got = try bigAdapter.generate(
      GenerationRequest(prompt: prompt, fitContext: context), settings: .init(strategy: .greedy, maxNewTokens: 6, candidates: 2),
      seed: 0, document: 3)
    let latents = try bigAdapter.generationLatents(context: context, fits: 2, seed: 0, document: 3)
    let v = big.args.vocabSize
    for (k, z) in latents.enumerated() {
      var sequence = prompt, want: [Int32] = []
      for _ in 0..<6 {
        let logits = try big.logits(inputs: sequence, z: z)
        let next = logits.withUnsafeBufferPointer { Int32(TiedOutputHead.argmax($0.baseAddress! + (sequence.count - 1) * v, count: v)) }
        want.append(next)
        sequence.append(next)
      }
      XCTAssertEqual(got[k], want, "fit \(k)")
    }
  }

  /// A one-token context has nothing to fit z on: the request is scored whole by the LTM's bound, −NELBO of context +
  /// continuation under the zero-shot fit (a lower bound on the log-likelihood, labelled so).
  func testAOneTokenContextIsScoredByTheWindowELBO() throws {
    let block: [Int32] = [3, 4, 5, 6]
    let score = try adapter.loglikelihoods([LoglikelihoodRequest(context: [3], continuation: [4, 5, 6])], seed: 9, document: 0)[0]
    var options = adapter.fit
    options.seed = 9
    let bound = try model.evaluate(blocks: [block], blockIndices: [LTMModel.contentKey(block)], options: options)[0]
    XCTAssertEqual(score.logprob, -bound.nelbo)
    XCTAssertEqual(score.estimator, "ltm-window-elbo")
    XCTAssertEqual(score.isLowerBound, true)
    XCTAssertNil(score.isGreedy)
  }

  func testBadInputsAreErrors() {
    XCTAssertThrowsError(try adapter.loglikelihoods([LoglikelihoodRequest(context: [], continuation: [4])], seed: 0, document: 0))
    XCTAssertThrowsError(try adapter.generate(
      GenerationRequest(prompt: [1, 2, 3]), settings: .init(strategy: .beam, maxNewTokens: 4, beams: 2), seed: 0, document: 0))
    XCTAssertThrowsError(try adapter.generate(
      GenerationRequest(prompt: Array(tokens.prefix(140))), settings: .init(strategy: .greedy, maxNewTokens: 4), seed: 0, document: 0))
    XCTAssertThrowsError(try fewShotModel(model, options: ModelRunOptions(latent: LatentInferenceOptions(fits: 0))))
  }
}
