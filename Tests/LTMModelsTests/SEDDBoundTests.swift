import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The DWDSE estimator around the parity-tested loss: per-block seeding, batching, K draws and their standard error,
/// BOS handling, and clear errors.
final class SEDDBoundTests: XCTestCase {
  private var model: SEDDModel!
  private let blocks: [[Int32]] = [
    [3, 17, 9, 30, 1, 0, 22, 5, 8, 8, 14, 27, 2, 11, 19, 6],
    [12, 4, 4, 25, 31, 7, 0, 13, 21, 10, 3, 16, 29, 18, 1, 9],
  ]

  override func setUpWithError() throws {
    BLAS.threads = 2
    let folder = SharedData.packageRoot.appendingPathComponent("Tests/LTMModelsTests/Fixtures/sedd/hf")
    model = try XCTUnwrap(ModelRegistry.load(path: folder).model as? SEDDModel)
  }

  func testEachBlockDrawsFromItsOwnStream() throws {
    let options = SEDDBoundOptions(timeSamples: 3, seed: 11)
    let both = try model.evaluate(blocks: blocks, blockIndices: [5, 9], options: options)
    let alone = try model.evaluate(blocks: [blocks[1]], blockIndices: [9], options: options)
    XCTAssertTrue(isClose(both[1].nll, alone[0].nll, rtol: 1e-6), "a block's number does not depend on its batch")
    XCTAssertEqual(both[1].times, alone[0].times)
    let reseeded = try model.evaluate(blocks: [blocks[1]], blockIndices: [9], options: SEDDBoundOptions(timeSamples: 3, seed: 12))
    XCTAssertNotEqual(reseeded[0].times, alone[0].times)
    let moved = try model.evaluate(blocks: [blocks[1]], blockIndices: [10], options: options)
    XCTAssertNotEqual(moved[0].times, alone[0].times, "the block index keys the stream")
  }

  func testDrawsAreStratifiedAndCarryTheirStandardError() throws {
    let one = try model.evaluate(blocks: blocks, blockIndices: [0, 1], options: SEDDBoundOptions())[0]
    XCTAssertNil(one.variance)
    XCTAssertEqual(one.samples, 1)
    let k = 8
    let many = try model.evaluate(blocks: blocks, blockIndices: [0, 1], options: SEDDBoundOptions(timeSamples: k))[0]
    let variance = try XCTUnwrap(many.variance)
    XCTAssertGreaterThan(variance, 0)
    XCTAssertEqual(many.times.count, k)
    let eps = SEDDBoundOptions.samplingEps
    for (i, t) in many.times.enumerated() {
      let u = (t - eps) / (1 - eps)
      XCTAssertTrue(Double(i) / Double(k) <= u + 1e-12 && u < Double(i + 1) / Double(k), "draw \(i): u \(u)")
    }
    XCTAssertEqual(many.scoredTokens, 16)
    XCTAssertTrue(isClose(Double(many.tokenLoss.reduce(0, +)), many.nll, rtol: 1e-5), "the per-position losses add up to the bound")
  }

  func testBOSIsNeverNoisedNorCounted() throws {
    let estimate = try model.evaluate(blocks: blocks, blockIndices: [0, 1], options: SEDDBoundOptions(timeSamples: 16, ignoreBOS: true))
    for e in estimate {
      XCTAssertEqual(e.scoredTokens, 15)
      XCTAssertEqual(e.tokenLoss[0], 0)
      XCTAssertGreaterThan(e.tokenLoss.dropFirst().reduce(0, +), 0)
    }
  }

  func testBadInputsAreErrors() {
    XCTAssertThrowsError(try model.evaluate(blocks: blocks, blockIndices: [0, 1], options: SEDDBoundOptions(timeSamples: 0)))
    XCTAssertThrowsError(try model.evaluate(blocks: blocks, blockIndices: [0], options: SEDDBoundOptions()))
    XCTAssertThrowsError(try model.loss(x0: [[32] + blocks[0].dropFirst()], xt: [[32] + blocks[0].dropFirst()], t: [0.5])) {
      XCTAssertTrue("\($0)".contains("absorbing state"), "\($0)")
    }
    XCTAssertThrowsError(try model.sample(prefixes: [[40]], length: 8, settings: .init(steps: 2), predictor: .euler, seeds: [0]))
    XCTAssertThrowsError(try model.sample(prefixes: [[1]], length: 17, settings: .init(steps: 2), predictor: .euler, seeds: [0]))
    // A run's YAML config: a syntax error names the parser's position, a missing key its path (as a JSON config's).
    XCTAssertThrowsError(try SEDDConfig.decodeYAML("model: [unclosed\n", path: "c.yaml")) {
      XCTAssertTrue("\($0)".contains("c.yaml: unsupported model config: not valid YAML: ") && "\($0)".contains("line 1"), "\($0)")
    }
    XCTAssertThrowsError(try SEDDConfig.decodeYAML("tokens: 32\nmodel: {hidden_size: 32}\ngraph: {type: absorb}\nnoise: {type: loglinear}\n", path: "c.yaml")) {
      XCTAssertTrue("\($0)".contains("missing key model.cond_dim"), "\($0)")
    }
  }

  /// Seeded sampling: each sample's draws come from its own seed, so a sample does not depend on its batch.
  func testSamplesAreSeededPerRow() throws {
    let settings = DiffusionSamplingOptions(steps: 6)
    let pair = try model.sample(prefixes: [[1, 2, 3], [4, 5]], length: 12, settings: settings, predictor: .analytic, seeds: [7, 8])
    let alone = try model.sample(prefixes: [[4, 5]], length: 12, settings: settings, predictor: .analytic, seeds: [8])
    XCTAssertEqual(pair.tokens[1], alone.tokens[0])
    XCTAssertEqual(Array(pair.tokens[0].prefix(3)), [1, 2, 3])
    XCTAssertFalse(pair.tokens.joined().contains(model.config.maskIndex), "noise removal leaves nothing absorbed")
  }
}
