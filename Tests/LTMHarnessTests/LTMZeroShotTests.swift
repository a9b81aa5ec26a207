import Foundation
import LTMModels
import LTMTestSupport
import XCTest
@testable import LTMHarness

/// The LTM scorer inside `zero-shot`: the steps sweep, both bounds, the settings labels and cache keys, and the
/// numbers equal to calling the model directly on the same blocks.
final class LTMZeroShotTests: XCTestCase {
  private func outputDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-zs-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
  }

  private func configuration(output: URL, latent: LatentInferenceOptions, models: [URL]? = nil) throws -> ZeroShotConfiguration {
    ZeroShotConfiguration(
      modelPaths: try models ?? [SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt")], taskNames: ["ptb"],
      dataDirectory: try SharedData.file("data"), split: "test", protocolName: "ltm", limitBlocks: 1, threads: 1,
      outputDirectory: output, tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks"), seed: 3,
      modelOptions: ModelRunOptions(latent: latent))
  }

  func testSweepRowsCarryBothBoundsAndEqualTheModelCalledDirectly() throws {
    let latent = LatentInferenceOptions(steps: [0, 3], initialization: .official, freshSamples: 4)
    let out = try ZeroShotRunner(configuration: configuration(output: outputDirectory(), latent: latent)).run()
    let rows = out.document.results
    XCTAssertEqual(rows.map(\.inferenceSteps), [0, 3])
    for row in rows {
      XCTAssertEqual(row.bound, "upper")
      XCTAssertEqual(row.headline, "block_mean")
      XCTAssertEqual(row.scoredTokens, 1023)
      XCTAssertEqual(row.scorerSettings["fast_lr"], "0.34", "the checkpoint's fast_lr")
      XCTAssertEqual(row.scorerSettings["posterior_init"], "official")
      XCTAssertEqual(row.scorerSettings["elbo_samples"], "4")
      let parts = try XCTUnwrap(row.boundParts)
      XCTAssertEqual(parts.nllSum + parts.klSum, row.nllSum, accuracy: 1e-9 * row.nllSum)
      XCTAssertGreaterThan(parts.klSum, 0)
      let fresh = try XCTUnwrap(row.freshBound)
      XCTAssertEqual(fresh.samples, 4)
      XCTAssertGreaterThan(fresh.stderrNLLPerToken, 0)
    }
    XCTAssertLessThan(rows[1].ppl, rows[0].ppl, "3 AdamW steps must tighten the bound of this fixture")

    // The same block through the model directly, with the run's seed and block index 0.
    let model = try LTMModel.load(checkpoint: try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt"))
    let blockTokens = try XCTUnwrap(out.document.tasks.first)
    XCTAssertEqual(blockTokens.blocksScored, 1)
    let direct = try model.evaluate(
      blocks: [try firstPTBTestBlock()], blockIndices: [0],
      options: model.options(steps: 3, initialization: .official, seed: 3, freshSamples: 4))[0]
    XCTAssertEqual(rows[1].nllSum, direct.nelbo, accuracy: 1e-9 * direct.nelbo)
    XCTAssertEqual(rows[1].ppl, direct.ppl, accuracy: 1e-9 * direct.ppl)
  }

  /// Settings are part of the block-cache key: another learning rate must not reuse a cached block.
  func testCacheIsKeyedBySettings() throws {
    let output = outputDirectory()
    let first = try ZeroShotRunner(configuration: configuration(output: output, latent: LatentInferenceOptions(steps: [2], freshSamples: 0))).run()
    XCTAssertNil(first.document.results[0].freshBound, "--elbo-samples 0 skips the fresh bound")
    let again = try ZeroShotRunner(configuration: configuration(output: output, latent: LatentInferenceOptions(steps: [2], freshSamples: 0))).run()
    XCTAssertEqual(again.document.run.resumedBlocks, 1)
    XCTAssertEqual(again.document.results[0].nllSum, first.document.results[0].nllSum)
    let otherLR = try ZeroShotRunner(configuration: configuration(
      output: output, latent: LatentInferenceOptions(steps: [2], fastLearningRate: 0.1, freshSamples: 0))).run()
    XCTAssertEqual(otherLR.document.run.resumedBlocks, 0)
    XCTAssertNotEqual(otherLR.document.results[0].nllSum, first.document.results[0].nllSum)
  }

  /// `deterministic` (μ0 = 0, log σ²0 = −5, ε = 0) gives the same number for any seed; `official` draws μ0, σ0 and
  /// ε from the seed, so another seed must move the number (and the same seed reproduce it).
  func testTheSeedMovesOnlyTheOfficialInit() throws {
    func nllSum(_ initialization: LTMPosteriorInit, seed: UInt64) throws -> Double {
      var c = try configuration(output: outputDirectory(), latent: LatentInferenceOptions(steps: [2], initialization: initialization, freshSamples: 0))
      c.seed = seed
      return try ZeroShotRunner(configuration: c).run().document.results[0].nllSum
    }
    XCTAssertEqual(try nllSum(.deterministic, seed: 1), try nllSum(.deterministic, seed: 99))
    let official = try nllSum(.official, seed: 1)
    XCTAssertEqual(official, try nllSum(.official, seed: 1), "the same seed reproduces the number")
    XCTAssertNotEqual(official, try nllSum(.official, seed: 99), "another seed draws another μ0, σ0 and ε")
    XCTAssertNotEqual(official, try nllSum(.deterministic, seed: 1))
  }

  func testBadLatentOptionsAreOneLineErrors() throws {
    func message(_ latent: LatentInferenceOptions, models: [URL]? = nil) -> String {
      do { _ = try ZeroShotRunner(configuration: configuration(output: outputDirectory(), latent: latent, models: models)).run(); return "" }
      catch { return String(describing: error) }
    }
    XCTAssertTrue(message(LatentInferenceOptions(freshSamples: 1)).contains("--elbo-samples"))
    XCTAssertTrue(message(LatentInferenceOptions(steps: [-1])).contains("--inference-steps"))
    XCTAssertTrue(message(LatentInferenceOptions(steps: [4, 4])).contains("twice"))
    // Work-multiplying options are bounded (#13): an error, not a run that never ends.
    XCTAssertTrue(message(LatentInferenceOptions(steps: [1_000_000])).contains("more than 100000 fast-loop steps"))
    XCTAssertTrue(message(LatentInferenceOptions(freshSamples: 1_000_000)).contains("--elbo-samples 1000000 is more than 4096"))
    XCTAssertTrue(message(LatentInferenceOptions(fastLearningRate: 0)).contains("--fast-lr"))
    let gpt2Only = message(LatentInferenceOptions(steps: [4]), models: [try SharedData.file("fixtures/gpt2-tiny")])
    XCTAssertTrue(gpt2Only.contains("no --model is one"), gpt2Only)
  }

  /// The first `ltm`-protocol block of PTB test, from the pipeline fixture's token ids.
  private func firstPTBTestBlock() throws -> [Int32] {
    var stream: [Int32] = []
    for e in try SharedData.jsonLines("fixtures/zero-shot-pipeline/ptb-test.jsonl").prefix(100) {
      stream += try XCTUnwrap(e["ids"] as? [Int]).map(Int32.init) + [50256]
    }
    return Array(stream.prefix(1024))
  }
}
