import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The SEDD few-shot adapter on the tiny `hf` fixture: loglikelihoods are differences of the parity-tested bound
/// with common random numbers, one-token contexts are scored by the bound itself, generation is the seeded sampler.
final class SEDDFewShotTests: XCTestCase {
  private var model: SEDDModel!
  private var adapter: SEDDFewShot!

  override func setUpWithError() throws {
    BLAS.threads = 2
    let folder = SharedData.packageRoot.appendingPathComponent("Tests/LTMModelsTests/Fixtures/sedd/hf")
    model = try XCTUnwrap(ModelRegistry.load(path: folder).model as? SEDDModel)
    adapter = try XCTUnwrap(fewShotModel(model, options: ModelRunOptions(
      diffusionBound: DiffusionBoundOptions(timeSamples: 3), diffusionSampling: DiffusionSamplingOptions(steps: 6, predictor: "analytic"))) as? SEDDFewShot)
  }

  func testLoglikelihoodIsTheDifferenceOfBoundsWithSharedDraws() throws {
    let context: [Int32] = [3, 17, 9, 30, 1], continuation: [Int32] = [22, 5, 8]
    let scores = try adapter.loglikelihoods([LoglikelihoodRequest(context: context, continuation: continuation)], seed: 4, document: 2)
    let base = try adapter.bound(context, seed: 4, document: 2, context: context)
    let whole = try adapter.bound(context + continuation, seed: 4, document: 2, context: context)
    XCTAssertEqual(scores[0].logprob, base - whole, accuracy: 1e-12)
    XCTAssertEqual(scores[0].estimator, "sedd-dwdse-difference")
    XCTAssertNil(scores[0].isGreedy)
    XCTAssertEqual(scores[0].tokenCount, 3)
    // Common random numbers: the draw of the context's own bound is the draw the whole sequence starts with.
    let key = MDLMFewShot.drawKey(document: 2, context: context, draw: 0)
    let alone = try model.evaluate(blocks: [context], blockIndices: [key], options: SEDDBoundOptions(seed: 4))[0]
    let joint = try model.evaluate(blocks: [context + continuation], blockIndices: [key], options: SEDDBoundOptions(seed: 4))[0]
    XCTAssertEqual(alone.times, joint.times)
  }

  func testAOneTokenContextIsScoredByTheBound() throws {
    let r = try adapter.loglikelihoods([LoglikelihoodRequest(context: [7], continuation: [2, 9, 4])], seed: 0, document: 0)[0]
    XCTAssertEqual(r.estimator, "sedd-window-elbo")
    XCTAssertEqual(r.isLowerBound, true)
    XCTAssertEqual(r.logprob, -(try adapter.bound([7, 2, 9, 4], seed: 0, document: 0, context: [7])), accuracy: 1e-12)
  }

  func testGenerationSamplesCandidatesAndStopsAtAStopToken() throws {
    let request = GenerationRequest(prompt: [1, 2, 3])
    let settings = FewShotGenerationSettings(strategy: .sample, maxNewTokens: 6, candidates: 3)
    let three = try adapter.generate(request, settings: settings, seed: 5, document: 1)
    XCTAssertEqual(three.count, 3)
    XCTAssertTrue(three.allSatisfy { $0.count == 6 && !$0.contains(model.config.maskIndex) })
    let again = try adapter.generate(request, settings: settings, seed: 5, document: 1)
    XCTAssertEqual(three, again, "seeded by (seed, document, candidate)")
    let stop = three[0][2]
    var stopping = settings
    stopping.stopTokens = [stop]
    let cut = try adapter.generate(request, settings: stopping, seed: 5, document: 1)[0]
    XCTAssertEqual(cut.last, stop)
    XCTAssertLessThanOrEqual(cut.count, 3)
    XCTAssertThrowsError(try adapter.generate(request, settings: .init(strategy: .greedy, maxNewTokens: 4), seed: 0, document: 0)) {
      XCTAssertTrue("\($0)".contains("strategy `sample`"), "\($0)")
    }
    XCTAssertThrowsError(try fewShotModel(model, options: ModelRunOptions(diffusionSampling: .init(predictor: "ddpm_cache"))))
  }
}
