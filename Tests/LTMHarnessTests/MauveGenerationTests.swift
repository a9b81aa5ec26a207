import Foundation
import LTMModels
import LTMTestSupport
import XCTest
@testable import LTMHarness

/// `ltm-bench mauve` in generation mode end to end through the built binary: the tiny GPT-2 and the LTM fixture on
/// WikiText-2 test prompts; every metric present and finite, every file written; bad inputs fail in one line; the
/// generative perplexity against transformers.
final class MauveGenerationTests: XCTestCase {
  private func run(_ args: [String]) throws -> CommandLineRunner.Outcome {
    try CommandLineRunner.run(args, besideBundleOf: Self.self)
  }

  private lazy var dir: URL = {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-mauve-gen-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: d) }
    return d
  }()

  private func common() throws -> [String] {
    let gpt2 = try SharedData.file("fixtures/gpt2-tiny").path
    return ["mauve", "--prompts", "wikitext2", "--data-dir", SharedData.data.path, "--split", "test",
            "--tasks-dir", SharedData.packageRoot.appendingPathComponent("tasks").path,
            "--featurizer", gpt2, "--scorer", gpt2, "--num-prompts", "8", "--samples-per-prompt", "2",
            "--prefix-tokens", "8", "--new-tokens", "8"]
  }

  func testGPT2AndLTMEndToEnd() throws {
    _ = try SharedData.file("data/wikitext")
    let gpt2 = try SharedData.file("fixtures/gpt2-tiny").path
    let ltm = try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt").path
    let out = dir.appendingPathComponent("out")
    let r = try run(try common() + ["--model", gpt2, "--model", ltm, "--seeds", "2", "--output-dir", out.path])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("8 prompts from wikitext2"), r.stdout)
    for name in ["mauve.json", "mauve.html", "samples-1.jsonl", "samples-2.jsonl"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
    }
    let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("mauve.json"))) as? [String: Any])
    XCTAssertEqual(json["mode"] as? String, "generation")
    let results = try XCTUnwrap(json["results"] as? [[String: Any]])
    XCTAssertEqual(results.map { $0["family"] as? String }, ["gpt2", "ltm"])
    func finite(_ v: Any?, _ what: String) {
      guard let x = v as? Double else { return XCTFail("\(what) missing") }
      XCTAssertTrue(x.isFinite, "\(what) = \(x)")
    }
    for result in results {
      XCTAssertEqual(result["samples"] as? Int, 16)
      let scores = try XCTUnwrap(result["scores"] as? [String: Any])
      for k in ["mauve", "mauve_star", "frontier_integral", "frontier_integral_star"] { finite(scores[k], k) }
      let m = try XCTUnwrap(scores["mauve"] as? Double)
      XCTAssertTrue(m > 0 && m <= 1, "\(m)")
      let summary = try XCTUnwrap(result["seed_summary"] as? [String: Any])
      let stat = try XCTUnwrap(summary["mauve"] as? [String: Any])
      finite(stat["mean"], "mauve mean")
      finite(stat["std"], "mauve std")
      XCTAssertEqual((summary["seeds"] as? [Int])?.count, 2)
      let ppl = try XCTUnwrap(result["generative_perplexity"] as? [String: Any])
      finite(ppl["token_weighted"], "token_weighted")
      finite(ppl["mean_of_samples"], "mean_of_samples")
      XCTAssertEqual(ppl["scored_tokens"] as? Int, 128)
      let text = try XCTUnwrap(result["text"] as? [String: Any])
      for k in ["unigram_entropy", "distinct_1", "distinct_2", "distinct_3", "repetition_rate"] { finite(text[k], k) }
      XCTAssertGreaterThanOrEqual((result["divergence_curve"] as? [[Double]])?.count ?? 0, 3)
    }
    let lines = try String(contentsOf: out.appendingPathComponent("samples-2.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.count, 16)
    let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    XCTAssertEqual((first["generation_ids"] as? [Int])?.count, 8)
    let html = try String(contentsOf: out.appendingPathComponent("mauve.html"), encoding: .utf8)
    XCTAssertEqual(html.components(separatedBy: "<polyline").count - 1, 2)
    XCTAssertTrue(html.contains("ckpt.pt") && html.contains("gpt2-tiny"))
    XCTAssertTrue(html.contains(" ± "), "mean ± std with --seeds 2")
  }

  func testBadInputsFailInOneLine() throws {
    let gpt2 = try SharedData.file("fixtures/gpt2-tiny").path
    let ltm = try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt").path
    let cases: [[String]] = [
      try common() + ["--model", dir.appendingPathComponent("missing").path],
      try common().map { $0 == gpt2 ? ltm : $0 } + ["--model", gpt2],  // LTM as featurizer
      try common() + ["--model", gpt2, "--prefix-tokens", "0"],
      try common() + ["--model", gpt2, "--sampling", "beam"],
      try common() + ["--model", gpt2, "--p-features", "x.npy"],
      ["mauve", "--model", gpt2, "--prompts", dir.appendingPathComponent("none.jsonl").path, "--featurizer", gpt2],
      ["mauve"],
    ]
    for args in cases {
      let r = try run(args)
      XCTAssertEqual(r.status, 1, args.joined(separator: " "))
      let lines = r.stderr.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, r.stderr)
      XCTAssertTrue(lines.first?.hasPrefix("error: ") ?? false, r.stderr)
    }
  }

  /// Both MDLM fixtures generate text under `ltm-bench mauve` (prefix-conditioned ancestral sampling, --steps
  /// recorded). mdlm-micro knows only ids below 512, so its prompts are words GPT-2 encodes below 512.
  func testMDLMGenerations() throws {
    let gpt2 = try SharedData.file("fixtures/gpt2-tiny").path
    let micro = try SharedData.file("fixtures/mdlm-micro").path
    let wide = try SharedData.file("fixtures/mdlm-gpt2vocab").path
    let words = "the of and to in is that for on with as it he be at by was his are an or from this not have you we they will"
      .split(separator: " ")
    let file = dir.appendingPathComponent("low-ids.jsonl")
    let lines = (0..<4).map { i in
      "{\"text\": \"a " + (0..<20).map { String(words[(i * 7 + $0 * 3) % words.count]) }.joined(separator: " ") + "\"}"
    }
    try Data(lines.joined(separator: "\n").utf8).write(to: file)
    let out = dir.appendingPathComponent("mdlm")
    let r = try run(["mauve", "--model", micro, "--model", wide, "--prompts", file.path, "--featurizer", gpt2, "--scorer", gpt2,
                     "--prefix-tokens", "6", "--new-tokens", "8", "--samples-per-prompt", "2", "--steps", "16",
                     "--output-dir", out.path])
    XCTAssertEqual(r.status, 0, r.stderr)
    let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("mauve.json"))) as? [String: Any])
    let proto = try XCTUnwrap(json["protocol"] as? [String: Any])
    let mdlm = try XCTUnwrap(proto["diffusion_sampling"] as? [String: Any])
    XCTAssertEqual(mdlm["steps"] as? Int, 16)
    XCTAssertEqual(mdlm["noise_removal"] as? Bool, true)
    let results = try XCTUnwrap(json["results"] as? [[String: Any]])
    XCTAssertEqual(results.map { $0["family"] as? String }, ["mdlm", "mdlm"])
    // mdlm-gpt2vocab's prompts start a document ([<|endoftext|>] + prompt, as MDLM's wrap trains); mdlm-micro has no BOS.
    XCTAssertEqual(results.map { $0["prompt_bos"] as? Int }, [nil, 50256])
    let html = try String(contentsOf: out.appendingPathComponent("mauve.html"), encoding: .utf8)
    XCTAssertTrue(html.contains("MDLM ancestral sampling (ddpm_cache), 16 steps, noise removal"))
    XCTAssertEqual(results.map { $0["sampler"] as? String }, ["MDLM ancestral sampling (ddpm_cache), 16 steps, noise removal", "MDLM ancestral sampling (ddpm_cache), 16 steps, noise removal"])
    for (i, limit) in [(1, 512), (2, 50257)] {
      let samples = try String(contentsOf: out.appendingPathComponent("samples-\(i).jsonl"), encoding: .utf8).split(separator: "\n")
      XCTAssertEqual(samples.count, 8)
      for line in samples {
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let ids = try XCTUnwrap(record["generation_ids"] as? [Int])
        XCTAssertEqual(ids.count, 8)
        XCTAssertTrue(ids.allSatisfy { $0 >= 0 && $0 < limit }, "\(ids)")
        XCTAssertFalse((record["generation"] as? String ?? "").isEmpty)
      }
    }
    // Prompts outside mdlm-micro's vocabulary, and GPT-2 sampling options, fail in one line.
    for extra in [["--model", micro, "--prompts", "wikitext2", "--data-dir", SharedData.data.path, "--split", "test",
                   "--tasks-dir", SharedData.packageRoot.appendingPathComponent("tasks").path],
                  ["--model", wide, "--prompts", file.path, "--temperature", "0.7"]] {
      let bad = try run(["mauve", "--featurizer", gpt2, "--prefix-tokens", "6", "--new-tokens", "8", "--num-prompts", "2"] + extra)
      XCTAssertEqual(bad.status, 1, extra.joined(separator: " "))
      XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
      XCTAssertTrue(bad.stderr.contains("MDLM"), bad.stderr)
    }
  }

  /// `--text-field` picks the field the prompts come from: every prefix written is from `body`, none from the decoy
  /// `text` field beside it; without the option the default `text` is read.
  func testJSONLPromptsComeFromTheTextField() throws {
    let gpt2 = try SharedData.file("fixtures/gpt2-tiny").path
    let file = dir.appendingPathComponent("prompts.jsonl")
    let sentence = "The quick brown fox jumps over the lazy dog while the cat watches from the warm windowsill."
    let decoy = "Decoy words that must never be read as a prompt because they sit in the other field."
    let lines = (0..<4).map { "{\"text\": \"\(decoy)\", \"body\": \"\($0) \(sentence)\"}" }.joined(separator: "\n")
    try Data(lines.utf8).write(to: file)
    func prefixes(_ extra: [String]) throws -> [String] {
      let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
      let r = try run(["mauve", "--model", gpt2, "--prompts", file.path, "--featurizer", gpt2, "--prefix-tokens", "5",
                       "--new-tokens", "6", "--samples-per-prompt", "1", "--sampling", "greedy", "--output-dir", out.path] + extra)
      XCTAssertEqual(r.status, 0, r.stderr)
      XCTAssertTrue(r.stdout.contains("4 prompts from"), r.stdout)
      let samples = try String(contentsOf: out.appendingPathComponent("samples-1.jsonl"), encoding: .utf8).split(separator: "\n")
      return try samples.map { try XCTUnwrap((JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["prefix"] as? String) }
    }
    XCTAssertEqual(try prefixes(["--text-field", "body"]), (0..<4).map { "\($0) The quick brown fox" })
    XCTAssertEqual(try prefixes([]), Array(repeating: "Decoy words that must", count: 4))
  }

  /// Generative perplexity against transformers on gpt2-tiny (`tools/make_gpt2_metric_goldens.py`): the same prefixes
  /// and continuations (one empty, left out) give both aggregations within 1e-6 nats per token.
  func testGenerativePerplexityMatchesTransformers() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/generative-perplexity.json")
    let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    func ids(_ key: String) throws -> [[Int32]] { try XCTUnwrap(golden[key] as? [[Int]]).map { $0.map(Int32.init) } }
    let scorer = try XCTUnwrap(try ModelRegistry.load(path: SharedData.file("fixtures/gpt2-tiny")).model as? GPT2Model)
    let got = try MauveGenerationRunner.generativePerplexity(
      scorer, prefixes: try ids("prefixes"), continuations: try ids("continuations"), path: "gpt2-tiny")
    XCTAssertEqual(got.scoredTokens, try XCTUnwrap(golden["scored_tokens"] as? Int))
    let tokenWeighted = try XCTUnwrap(golden["token_weighted"] as? Double), meanOfSamples = try XCTUnwrap(golden["mean_of_samples"] as? Double)
    XCTAssertEqual(Foundation.log(got.tokenWeighted), Foundation.log(tokenWeighted), accuracy: 1e-6, "\(got.tokenWeighted) vs \(tokenWeighted)")
    XCTAssertEqual(got.meanOfSamples, meanOfSamples, accuracy: 1e-6 * meanOfSamples)
    print("gen-PPL vs transformers: token-weighted \(got.tokenWeighted) vs \(tokenWeighted), mean of samples \(got.meanOfSamples) vs \(meanOfSamples)")
  }

  func testDiversityMetrics() {
    let samples: [[Int32]] = [[1, 2, 1, 2], [3, 3, 3, 3]]
    XCTAssertEqual(GenerationMetrics.distinct(samples, n: 1), 3.0 / 8.0)
    XCTAssertEqual(GenerationMetrics.distinct(samples, n: 2), 3.0 / 6.0)  // (1,2), (2,1), (3,3)
    XCTAssertEqual(GenerationMetrics.repetitionRate(samples), (0.5 + 0.75) / 2)
    XCTAssertEqual(GenerationMetrics.unigramEntropy(samples), Foundation.log(2) / 2, accuracy: 1e-12)
  }
}
