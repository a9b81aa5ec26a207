import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The MDLM few-shot adapter on mdlm-micro (model_length 64): the loglikelihood is the difference of the two NELBOs
/// under shared random numbers, sequences run at their own length, and generation is prefix-conditioned ancestral sampling.
final class MDLMFewShotTests: XCTestCase {
  private var model: MDLMModel!
  private var tokens: [Int32]!

  override func setUpWithError() throws {
    BLAS.threads = 2
    let loaded = try ModelRegistry.load(path: try SharedData.file("fixtures/mdlm-micro"))
    model = try XCTUnwrap(loaded.model as? MDLMModel)
    var rng = SplitMix64(seed: 8)
    tokens = (0..<80).map { _ in Int32(rng.next() % 512) }
  }

  func testLoglikelihoodIsTheNELBODifferenceWithSharedDraws() throws {
    let adapter = try fewShotModel(model, options: ModelRunOptions(diffusionBound: DiffusionBoundOptions(timeSamples: 3)))
    let context = Array(tokens.prefix(20))
    let conts: [[Int32]] = [Array(tokens[20..<24]), Array(tokens[40..<41])]
    let got = try adapter.loglikelihoods(conts.map { LoglikelihoodRequest(context: context, continuation: $0) }, seed: 4, document: 6)
    let options = MDLMBoundOptions(timeSamples: 1, seed: 4, timeStrata: 1)
    func nelbo(_ x: [Int32]) throws -> Double {
      try (0..<3).reduce(0.0) { s, k in
        try s + model.evaluate(blocks: [x], blockIndices: [MDLMFewShot.drawKey(document: 6, context: context, draw: k)], options: options)[0].nll
      } / 3
    }
    for (r, cont) in conts.enumerated() {
      XCTAssertEqual(got[r].logprob, try nelbo(context) - nelbo(context + cont))
      XCTAssertNil(got[r].isGreedy)
      XCTAssertEqual(got[r].estimator, "mdlm-nelbo-difference")
      XCTAssertEqual(got[r].tokenCount, cont.count)
    }
    // Reproducible for a (seed, document); another seed draws other times and masks.
    let single = try fewShotModel(model, options: ModelRunOptions())
    let a = try single.loglikelihoods([LoglikelihoodRequest(context: context, continuation: conts[0])], seed: 4, document: 6)
    let b = try single.loglikelihoods([LoglikelihoodRequest(context: context, continuation: conts[0])], seed: 4, document: 6)
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a, try single.loglikelihoods([LoglikelihoodRequest(context: context, continuation: conts[0])], seed: 5, document: 6))
  }

  /// The first draw's time and the masks of the context positions are the same in both NELBOs (common random numbers).
  func testBothNELBOsShareTimeAndContextMasks() throws {
    let context = Array(tokens.prefix(20)), whole = Array(tokens.prefix(26))
    let key = MDLMFewShot.drawKey(document: 1, context: context, draw: 0)
    let options = MDLMBoundOptions(timeSamples: 1, seed: 9)
    let c = try model.evaluate(blocks: [context], blockIndices: [key], options: options)[0]
    let w = try model.evaluate(blocks: [whole], blockIndices: [key], options: options)[0]
    // Masked positions have a positive loss; the context's masked set is the same in both.
    XCTAssertEqual(c.tokenLoss.map { $0 > 0 }, w.tokenLoss.prefix(20).map { $0 > 0 })
    XCTAssertTrue(c.tokenLoss.contains { $0 > 0 })
  }

  /// A one-token context is scored by the bound itself: −NELBO(context + continuation), a lower bound on
  /// log p(continuation | context), labelled so.
  func testAOneTokenContextIsScoredByTheWindowELBO() throws {
    let adapter = try XCTUnwrap(try fewShotModel(model, options: ModelRunOptions()) as? MDLMFewShot)
    let score = try adapter.loglikelihoods([LoglikelihoodRequest(context: [1], continuation: [2, 3, 4])], seed: 5, document: 7)[0]
    XCTAssertEqual(score.logprob, -(try adapter.nelbo([1, 2, 3, 4], seed: 5, document: 7, context: [1])))
    XCTAssertEqual(score.estimator, "mdlm-window-elbo")
    XCTAssertEqual(score.isLowerBound, true)
    XCTAssertLessThan(score.logprob, 0)
  }

  func testLengthsAndGeneration() throws {
    let adapter = try fewShotModel(model, options: ModelRunOptions())
    XCTAssertEqual(adapter.descriptor.bound, .upper)
    // Short sequences run at their own length; past model_length is an error.
    XCTAssertNoThrow(try adapter.loglikelihoods([LoglikelihoodRequest(context: [1], continuation: [2])], seed: 0, document: 0))
    XCTAssertThrowsError(try adapter.loglikelihoods(
      [LoglikelihoodRequest(context: Array(tokens.prefix(60)), continuation: Array(tokens[60..<70]))], seed: 0, document: 0))
    XCTAssertThrowsError(try adapter.generate(
      GenerationRequest(prompt: [1, 2]), settings: .init(strategy: .greedy, maxNewTokens: 4), seed: 0, document: 0))
    XCTAssertThrowsError(try adapter.generate(
      GenerationRequest(prompt: Array(tokens.prefix(60))), settings: .init(strategy: .sample, maxNewTokens: 10), seed: 0, document: 0))
    XCTAssertThrowsError(try fewShotModel(model, options: ModelRunOptions(diffusionBound: DiffusionBoundOptions(timeSamples: 0))))
  }

  /// Generation: K candidates of exactly the asked length (no MASK left), each equal to the sampler's own output for
  /// the prompt and the candidate's seed, cut after a stop token; candidate k does not depend on K.
  func testGenerationIsPrefixConditionedSampling() throws {
    let adapter = try fewShotModel(model, options: ModelRunOptions(diffusionSampling: DiffusionSamplingOptions(steps: 8)))
    let prompt = Array(tokens.prefix(6))
    let five = try adapter.generate(
      GenerationRequest(prompt: prompt), settings: .init(strategy: .sample, maxNewTokens: 10, candidates: 5), seed: 3, document: 7)
    XCTAssertEqual(five.count, 5)
    for c in five {
      XCTAssertEqual(c.count, 10)
      XCTAssertFalse(c.contains(model.config.maskIndex))
    }
    XCTAssertGreaterThan(Set(five).count, 1, "independent candidates should differ")
    let two = try adapter.generate(
      GenerationRequest(prompt: prompt), settings: .init(strategy: .sample, maxNewTokens: 10, candidates: 2), seed: 3, document: 7)
    XCTAssertEqual(two, Array(five.prefix(2)))
    let otherDocument = try adapter.generate(
      GenerationRequest(prompt: prompt), settings: .init(strategy: .sample, maxNewTokens: 10, candidates: 2), seed: 3, document: 8)
    XCTAssertNotEqual(otherDocument, two)
    // The same draws as the sampler called directly.
    let direct = try model.sample(
      prefixes: [prompt, prompt], length: 16, settings: DiffusionSamplingOptions(steps: 8),
      seeds: TokenSampler.rowSeeds(base: LTMGaussian.mix(3 ^ LTMGaussian.mix(7)), count: 2))
    XCTAssertEqual(direct.tokens.map { Array($0[6...]) }, two)
    // A stop token ends a candidate (kept).
    let stop = five[0][4]
    let stopped = try adapter.generate(
      GenerationRequest(prompt: prompt),
      settings: .init(strategy: .sample, maxNewTokens: 10, candidates: 1, stopTokens: [stop]), seed: 3, document: 7)
    XCTAssertEqual(stopped[0], Array(five[0].prefix(through: five[0].firstIndex(of: stop)!)))
  }
}
