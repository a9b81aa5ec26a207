import Foundation
import LTMTestSupport
import XCTest

/// SEDD through the built binary, on a GPT-2-vocabulary SEDD checkpoint: the committed `save_pretrained`-style
/// config.json (`Fixtures/sedd-gpt2vocab`) over the DDiT weights of the shared `mdlm-gpt2vocab` fixture (the same
/// network; the SEDD loader accepts the `backbone.` prefix of MDLM's codebase, which also trains SEDD). Its parity
/// is proven on the tiny goldens (`SEDDParityTests`); here the commands: `zero-shot --protocol sedd` on the three
/// zero-shot datasets with the bound's standard error, `mauve` with both samplers, and `fewshot` (loglikelihoods by
/// bound differences, GSM8K by sampling).
final class SEDDEndToEndTests: XCTestCase {
  private lazy var dir: URL = {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-sedd-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: d) }
    return d
  }()

  /// The checkpoint folder: the committed config, the shared weights and tokenizer linked beside it.
  static func checkpoint(in dir: URL) throws -> URL {
    let folder = dir.appendingPathComponent("sedd-gpt2vocab")
    let fm = FileManager.default
    try fm.createDirectory(at: folder, withIntermediateDirectories: true)
    try fm.copyItem(
      at: SharedData.packageRoot.appendingPathComponent("Tests/LTMHarnessTests/Fixtures/sedd-gpt2vocab/config.json"),
      to: folder.appendingPathComponent("config.json"))
    for name in ["model.safetensors", "vocab.json", "merges.txt"] {
      try fm.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: try SharedData.file("fixtures/mdlm-gpt2vocab/\(name)"))
    }
    return folder
  }

  func testZeroShotUnderTheSEDDProtocolOnThePapersDatasets() throws {
    let model = try Self.checkpoint(in: dir)
    let out = dir.appendingPathComponent("zs")
    let r = try CommandLineRunner.run([
      "zero-shot", "--model", model.path, "--tasks", "ptb,wikitext2,lm1b", "--protocol", "sedd", "--limit-blocks", "1",
      "--time-samples", "3", "--data-dir", SharedData.data.path, "--threads", "2", "--output-dir", out.path,
    ], besideBundleOf: Self.self)
    XCTAssertEqual(r.status, 0, r.stderr)
    let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("results.json"))) as? [String: Any])
    let results = try XCTUnwrap(json["results"] as? [[String: Any]])
    XCTAssertEqual(Set(results.compactMap { $0["task"] as? String }), ["ptb", "wikitext2", "lm1b"])
    for row in results {
      XCTAssertEqual(row["bound"] as? String, "upper")
      XCTAssertEqual(row["protocol"] as? String, "sedd")
      XCTAssertEqual(row["scored_tokens"] as? Int, 1024, "SEDD scores every position of a 1024-token block")
      let settings = try XCTUnwrap(row["scorer_settings"] as? [String: String])
      XCTAssertEqual(settings["time_samples"], "3")
      XCTAssertEqual(settings["bound"], "dwdse")
      XCTAssertEqual(settings["noise"], "loglinear")
      let ppl = try XCTUnwrap(row["ppl"] as? Double)
      XCTAssertTrue(ppl.isFinite && ppl > 1, "\(ppl)")
    }
    let models = try XCTUnwrap(json["models"] as? [[String: Any]])
    XCTAssertEqual(models.first?["family"] as? String, "sedd")
    XCTAssertTrue(r.stdout.contains("≤"), "the table labels the bound: \(r.stdout)")
    XCTAssertTrue(r.stdout.contains("±"), "K = 3 draws give a standard error: \(r.stdout)")
    // MDLM's antithetic strata are not SEDD's draw, and the LTM options apply to no model here: one error line each.
    for extra in [["--time-strata", "4"], ["--inference-steps", "4"]] {
      let bad = try CommandLineRunner.run([
        "zero-shot", "--model", model.path, "--tasks", "ptb", "--protocol", "sedd", "--limit-blocks", "1",
        "--data-dir", SharedData.data.path, "--output-dir", dir.appendingPathComponent("bad").path,
      ] + extra, besideBundleOf: Self.self)
      XCTAssertEqual(bad.status, 1, bad.stderr)
      XCTAssertEqual(bad.errorLines.count, 1, bad.stderr)
    }
  }

  func testMauveWithBothSamplers() throws {
    let model = try Self.checkpoint(in: dir)
    let gpt2 = try SharedData.file("fixtures/gpt2-tiny").path
    for predictor in ["analytic", "euler"] {
      let out = dir.appendingPathComponent("mauve-\(predictor)")
      let r = try CommandLineRunner.run([
        "mauve", "--model", model.path, "--prompts", "wikitext2", "--data-dir", SharedData.data.path, "--split", "test",
        "--tasks-dir", SharedData.packageRoot.appendingPathComponent("tasks").path, "--featurizer", gpt2,
        "--num-prompts", "4", "--samples-per-prompt", "2", "--prefix-tokens", "8", "--new-tokens", "8", "--steps", "8",
        "--predictor", predictor, "--output-dir", out.path,
      ], besideBundleOf: Self.self)
      XCTAssertEqual(r.status, 0, r.stderr)
      let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("mauve.json"))) as? [String: Any])
      let result = try XCTUnwrap((json["results"] as? [[String: Any]])?.first)
      XCTAssertEqual(result["family"] as? String, "sedd")
      XCTAssertEqual(result["sampler"] as? String, "SEDD \(predictor) sampler, 8 steps, denoiser")
      XCTAssertNil(result["prompt_bos"], "SEDD data has no BOS")
      let mauve = try XCTUnwrap((result["scores"] as? [String: Any])?["mauve"] as? Double)
      XCTAssertTrue(mauve > 0 && mauve <= 1, "\(mauve)")
      for line in try String(contentsOf: out.appendingPathComponent("samples-1.jsonl"), encoding: .utf8).split(separator: "\n") {
        let ids = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["generation_ids"] as? [Int])
        XCTAssertEqual(ids.count, 8)
        XCTAssertTrue(ids.allSatisfy { $0 >= 0 && $0 < 50257 }, "\(ids)")
      }
    }
    let bad = try CommandLineRunner.run([
      "mauve", "--model", model.path, "--prompts", "wikitext2", "--data-dir", SharedData.data.path, "--split", "test",
      "--tasks-dir", SharedData.packageRoot.appendingPathComponent("tasks").path, "--featurizer", gpt2,
      "--num-prompts", "2", "--prefix-tokens", "8", "--new-tokens", "8", "--predictor", "ddpm_cache",
    ], besideBundleOf: Self.self)
    XCTAssertEqual(bad.status, 1)
    XCTAssertTrue(bad.errorLines.first?.contains("SEDD samples with analytic or euler") ?? false, bad.stderr)
  }

  func testFewShotLoglikelihoodsAndGeneration() throws {
    let model = try Self.checkpoint(in: dir)
    let out = dir.appendingPathComponent("fewshot")
    let r = try CommandLineRunner.run([
      "fewshot", "--model", model.path, "--tasks", "lambada_openai,gsm8k", "--limit", "2", "--shots", "1", "--steps", "8",
      "--time-samples", "2", "--data-dir", SharedData.data.path, "--output-dir", out.path,
    ], besideBundleOf: Self.self)
    XCTAssertEqual(r.status, 0, r.stderr)
    let lines = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
    let records = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    XCTAssertEqual(records.count, 4)
    let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("results.json"))) as? [String: Any])
    let text = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
    XCTAssertTrue(text.contains("sedd-dwdse-difference"), "the loglikelihood estimator is named")
    XCTAssertTrue(r.stdout.contains("gsm8k"), r.stdout)
  }
}
