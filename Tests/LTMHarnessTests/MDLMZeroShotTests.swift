import Foundation
import LTMModels
import LTMReports
import LTMTestSupport
import XCTest
@testable import LTMHarness

/// MDLM in `zero-shot`: the diffusion branch of the scoring variants (K time samples, seeded per block), the
/// `--time-samples` option, the bd3lm/sedd presets, and the MDLM and GPT-2 rows side by side in one report.
final class MDLMZeroShotTests: XCTestCase {
  private func outputDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-mdlm-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
  }

  private func configuration(
    protocolName: String, limit: Int = 2, batch: Int = 2, timeSamples: Int? = 4, models: [String] = ["mdlm-gpt2vocab", "gpt2-tiny"],
    output: URL
  ) throws -> ZeroShotConfiguration {
    ZeroShotConfiguration(
      modelPaths: try models.map { try SharedData.file("fixtures/\($0)") }, taskNames: ["ptb"], dataDirectory: try SharedData.file("data"),
      split: "validation", protocolName: protocolName, limitBlocks: limit, threads: 2, batchBlocks: batch,
      outputDirectory: output, tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks"), seed: 3,
      modelOptions: ModelRunOptions(diffusionBound: DiffusionBoundOptions(timeSamples: timeSamples)))
  }

  func testMDLMAndGPT2RowsWithBoundStandardErrorAndPreset() throws {
    let out = try ZeroShotRunner(configuration: configuration(protocolName: "mdlm", output: outputDirectory())).run()
    XCTAssertEqual(out.document.results.count, 2)
    let mdlm = try XCTUnwrap(out.document.results.first { $0.model == "mdlm-gpt2vocab" })
    let gpt2 = try XCTUnwrap(out.document.results.first { $0.model == "gpt2-tiny" })
    XCTAssertEqual(mdlm.bound, "upper")
    XCTAssertEqual(gpt2.bound, "exact")
    XCTAssertEqual(mdlm.protocolName, "mdlm")
    XCTAssertEqual(mdlm.scoredTokens, 2048, "diffusion scores all 1024 positions, BOS and EOS included")
    XCTAssertEqual(gpt2.scoredTokens, 2046)
    XCTAssertEqual(mdlm.scorerSettings["time_samples"], "4")
    let se = try XCTUnwrap(mdlm.monteCarloStandardError)
    XCTAssertGreaterThan(se, 0)
    XCTAssertLessThan(se, 1)
    XCTAssertEqual(try XCTUnwrap(mdlm.freshBound).nllSum, mdlm.nllSum, accuracy: 1e-9 * mdlm.nllSum, "the K-draw mean is the headline")
    XCTAssertTrue(mdlm.ppl.isFinite)
    let table = TextTable.render(out.document)
    XCTAssertTrue(table.contains("±"), table)
    XCTAssertTrue(table.contains("mdlm"), table)
    let html = try String(contentsOf: out.reportHTML, encoding: .utf8)
    XCTAssertTrue(html.contains("mdlm-gpt2vocab"))

    // Batching does not change a block's number: seeded by (seed, block index).
    let single = try ZeroShotRunner(configuration: configuration(protocolName: "mdlm", batch: 1, models: ["mdlm-gpt2vocab"], output: outputDirectory())).run()
    XCTAssertEqual(single.document.results[0].nllSum, mdlm.nllSum, accuracy: 1e-6 * mdlm.nllSum)
  }

  /// The whole pipeline's MDLM number against the reference: `zero-shot --protocol mdlm` on the first two PTB-valid
  /// blocks is the blocks the fixture's reference NELBO was estimated on (`nll_per_token_mc`: 16 draws of the authors'
  /// code, antithetic t). Both are Monte Carlo means, so they must agree within 3 combined standard errors: the
  /// reference's std/√16 ≈ 0.16 nats/token and ours from K = 32 draws per block (reported by the run, ≈ 0.1), at most
  /// ≈ 0.6 nats/token in all; the headline perplexity must be exp of the per-token mean.
  func testMDLMNumberMatchesTheReferenceNELBO() throws {
    let reference = try SharedData.json("fixtures/mdlm-gpt2vocab/expected.json")
    let mc = try XCTUnwrap(reference["nll_per_token_mc"] as? [String: Any])
    let values = try XCTUnwrap(mc["values"] as? [Double])
    let referenceMean = values.reduce(0, +) / Double(values.count)
    let referenceSE = try XCTUnwrap(mc["std"] as? Double) / Double(values.count).squareRoot()
    XCTAssertEqual(reference["mdlm_protocol_blocks"] as? Int, 2)
    let out = try ZeroShotRunner(configuration: configuration(
      protocolName: "mdlm", timeSamples: 32, models: ["mdlm-gpt2vocab"], output: outputDirectory())).run()
    let mdlm = try XCTUnwrap(out.document.results.first)
    XCTAssertEqual(mdlm.blocks, 2)
    XCTAssertEqual(mdlm.scoredTokens, 2048)
    let perToken = mdlm.nllSum / Double(mdlm.scoredTokens)
    let se = try XCTUnwrap(mdlm.monteCarloStandardError)
    XCTAssertLessThan(se, 0.15, "K = 32 draws per block")
    let combined = (referenceSE * referenceSE + se * se).squareRoot()
    XCTAssertLessThan(abs(perToken - referenceMean), 3 * combined, "ours \(perToken) ± \(se), reference \(referenceMean) ± \(referenceSE)")
    XCTAssertEqual(mdlm.ppl, Foundation.exp(perToken), accuracy: 1e-9 * mdlm.ppl, "token-weighted headline")
  }

  func testPresetsChangeCountsAndDefaultIsThePapersProtocol() throws {
    let bd3lm = try ZeroShotRunner(configuration: configuration(protocolName: "bd3lm", output: outputDirectory())).run()
    let m = try XCTUnwrap(bd3lm.document.results.first { $0.model == "mdlm-gpt2vocab" })
    XCTAssertEqual(m.protocolName, "bd3lm")
    XCTAssertEqual(m.scoredTokens, 2046, "BOS is never masked and not counted under bd3lm")
    XCTAssertEqual(m.scorerSettings["ignore_bos"], "true")

    let paper = try ZeroShotRunner(configuration: configuration(protocolName: "mdlm", limit: 1, timeSamples: nil, models: ["mdlm-gpt2vocab"], output: outputDirectory())).run()
    let p = paper.document.results[0]
    XCTAssertEqual(p.scorerSettings["time_samples"], "1")
    XCTAssertEqual(p.scorerSettings["time_sampling"], "papers_protocol_one_draw")
    XCTAssertNil(p.monteCarloStandardError, "one draw has no standard error")
    XCTAssertEqual(p.scoredTokens, 1024)
  }

  func testTimeSamplesNeedADiffusionModel() throws {
    XCTAssertThrowsError(try ZeroShotRunner(configuration: configuration(protocolName: "mdlm", models: ["gpt2-tiny"], output: outputDirectory())).run()) { error in
      XCTAssertTrue("\(error)".contains("--time-samples"), "\(error)")
    }
    for bad in [0, 1_000_000] {
      XCTAssertThrowsError(try ZeroShotRunner(configuration: configuration(protocolName: "mdlm", timeSamples: bad, output: outputDirectory())).run()) { error in
        XCTAssertTrue("\(error)".contains("--time-samples must be in 1...4096, got \(bad)"), "\(error)")
      }
    }
  }

  /// The command from the issue: the report names the preset and prints the bound with its standard error.
  func testCommandLine() throws {
    let dir = outputDirectory()
    let outcome = try CommandLineRunner.run([
      "zero-shot", "--model", try SharedData.file("fixtures/mdlm-gpt2vocab").path, "--model", try SharedData.file("fixtures/gpt2-tiny").path,
      "--tasks", "ptb", "--split", "validation", "--data-dir", try SharedData.file("data").path, "--limit-blocks", "2",
      "--time-samples", "8", "--protocol", "mdlm", "--output-dir", dir.path,
    ], besideBundleOf: Self.self)
    XCTAssertEqual(outcome.status, 0, outcome.stderr)
    XCTAssertTrue(outcome.stdout.contains("mc-s.e."), outcome.stdout)
    let doc = try ResultsDocument.load(from: dir.appendingPathComponent("results.json"))
    let m = try XCTUnwrap(doc.results.first { $0.model == "mdlm-gpt2vocab" })
    XCTAssertEqual(m.protocolName, "mdlm")
    XCTAssertEqual(m.freshBound?.samples, 8)
    XCTAssertNotNil(m.monteCarloStandardError)
    let bad = try CommandLineRunner.run([
      "zero-shot", "--model", try SharedData.file("fixtures/gpt2-tiny").path, "--tasks", "ptb", "--data-dir", try SharedData.file("data").path,
      "--limit-blocks", "1", "--time-samples", "8", "--output-dir", outputDirectory().path,
    ], besideBundleOf: Self.self)
    XCTAssertEqual(bad.status, 1)
    XCTAssertEqual(bad.errorLines.count, 1, bad.stderr)
  }
}
