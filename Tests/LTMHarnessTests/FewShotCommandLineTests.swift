import Foundation
import LTMModels
import LTMReports
import LTMTestSupport
import XCTest

@testable import LTMHarness

/// `ltm-bench fewshot` through the built binary.
final class FewShotCommandLineTests: XCTestCase {
  private func tempDir() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-fewshot-cli-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.path
  }

  func testBadInputsExitNonZeroWithOneLine() throws {
    let data = try SharedData.file("data").path
    let model = try SharedData.file("fixtures/gpt2-tiny").path
    let cases: [(args: [String], message: String)] = [
      (["--model", model, "--tasks", "gsm9k", "--data-dir", data], "unknown task 'gsm9k'"),
      (["--model", model, "--tasks", "gsm8k", "--shots", "5,x", "--data-dir", data], "--shots expects non-negative integers"),
      (["--model", model, "--tasks", "gsm8k", "--shot-pool", "train", "--data-dir", data], "'train' is invalid for '--shot-pool"),
      (["--model", model, "--tasks", "gsm8k", "--limit", "0", "--data-dir", data], "--limit must be at least 1"),
      (["--model", model, "--tasks", "gsm8k", "--shard", "2/2", "--data-dir", data], "--shard 2/2"),
      (["--model", "/nonexistent", "--tasks", "gsm8k", "--data-dir", data], "--model /nonexistent: no such file or directory"),
      (["--model", model, "--tasks", "gsm8k", "--data-dir", "/nonexistent"], "is not a directory"),
      (["--model", model, "--tasks", "gsm8k", "--fits", "3", "--data-dir", data], "--fits applies to LTM checkpoints, and no --model is one"),
      (["--model", model, "--tasks", "gsm8k", "--steps", "16", "--data-dir", data], "--steps applies to MDLM or SEDD checkpoints, and no --model is one"),
      (["--model", model, "--tasks", "gsm8k", "--time-samples", "0", "--data-dir", data], "--time-samples must be in 1...4096"),
      (["--model", model, "--tasks", "gsm8k", "--time-samples", "1000000", "--data-dir", data], "--time-samples must be in 1...4096"),
    ]
    for c in cases {
      let outcome = try CommandLineRunner.run(["fewshot"] + c.args + ["--output-dir", tempDir()], besideBundleOf: Self.self)
      XCTAssertEqual(outcome.status, 1, "\(c.args): \(outcome.stderr)")
      XCTAssertEqual(outcome.errorLines.count, 1, outcome.stderr)
      XCTAssertTrue(outcome.errorLines.first?.contains(c.message) ?? false, "expected '\(c.message)' in: \(outcome.stderr)")
    }
  }

  /// The "Done when" command: LTM and GPT-2 on GSM8K, arithmetic_2da and LAMBADA, 5 shots, 10 documents.
  func testDoneWhenCommandWritesReportAndSampleLog() throws {
    let ltm = try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt")
    let out = tempDir()
    let outcome = try CommandLineRunner.run(
      [
        "fewshot", "--model", ltm.path, "--model", try SharedData.file("fixtures/gpt2-tiny").path,
        "--tasks", "gsm8k_ltm,arithmetic_2da,lambada_openai", "--shots", "5", "--limit", "10",
        "--data-dir", try SharedData.file("data").path, "--output-dir", out,
      ], besideBundleOf: Self.self)
    XCTAssertEqual(outcome.status, 0, outcome.stderr)
    let doc = try ResultsDocument.decode(from: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
    let section = try XCTUnwrap(doc.fewshot)
    XCTAssertEqual(section.results.count, 2 * 3)
    XCTAssertTrue(section.results.allSatisfy { $0.documents == 10 && $0.shots == 5 && !$0.metrics.isEmpty })
    XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.html"))
    let samples = try String(contentsOfFile: out + "/samples.jsonl", encoding: .utf8).split(separator: "\n")
    // gsm8k: 5 candidates per document for both models; the likelihood tasks one line per document.
    XCTAssertEqual(samples.count, 2 * (10 * 5 + 10 + 10))
  }
}
