import Foundation
import LTMReports
import LTMTensor
import LTMTestSupport
import LTMProcessLimits
import XCTest

/// Kernel selection, thread counts and start-up caches end to end, through the built binary: OpenBLAS reads
/// OPENBLAS_CORETYPE only when it is loaded, so only a new process can run under another core.
final class KernelSelectionCommandLineTests: XCTestCase {
  private func tempDir() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-kernels-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
  }

  /// `zero-shot` on gpt2-tiny, the first 4 PTB-validation blocks (`ltm` layout), with a private cache home.
  private func zeroShot(_ out: URL, home: URL, threads: Int = 1, environment: [String: String] = [:])
    throws -> CommandLineRunner.Outcome
  {
    try CommandLineRunner.run(
      ["zero-shot", "--model", try SharedData.file("fixtures/gpt2-tiny").path, "--tasks", "ptb", "--split", "validation",
       "--data-dir", try SharedData.file("data").path, "--limit-blocks", "4", "--threads", String(threads), "--no-cache",
       "--output-dir", out.path],
      besideBundleOf: Self.self, environment: ["LTM_BENCH_HOME": home.path].merging(environment) { _, new in new })
  }

  /// Per-block NLL sums from the block cache, in block order.
  private func blockNLLs(_ out: URL) throws -> [Double] {
    let text = try String(contentsOf: out.appendingPathComponent("block-cache.jsonl"), encoding: .utf8)
    let scores = try text.split(separator: "\n").map { line -> (Int, Double) in
      let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let score = try XCTUnwrap(object["score"] as? [String: Any])
      return (try XCTUnwrap(score["index"] as? Int), try XCTUnwrap(score["nll"] as? Double))
    }
    return scores.sorted { $0.0 < $1.0 }.map(\.1)
  }

  private func kernels(_ out: URL) throws -> BLASKernelStatus {
    try XCTUnwrap(ResultsDocument.load(from: out.appendingPathComponent("results.json")).run.blasKernels)
  }

  /// The same parity case (transformers' per-block NLL, 1e-5 relative) under the SSE3 fallback and under the
  /// best kernels this CPU runs, at two thread counts: kernel choice never moves a number past the parity tolerance.
  func testParityHoldsUnderForcedCoreTypes() throws {
    let expected = try SharedData.json("fixtures/gpt2-tiny/expected.json")
    let golden = try XCTUnwrap(((expected["zero_shot_first_blocks"] as? [String: Any])?["ltm"] as? [String: Any])?["nll_sum_per_block"] as? [Double])
    let best = CPUFeatures.current.bestKernels.core
    for (core, threads) in [("Prescott", 1), (best, 2), ("Prescott", 2), (best, 1)] {
      let out = tempDir()
      let r = try zeroShot(out, home: tempDir(), threads: threads, environment: ["OPENBLAS_CORETYPE": core])
      XCTAssertEqual(r.status, 0, r.stderr)
      let k = try kernels(out)
      XCTAssertEqual(k.core.lowercased(), core.lowercased(), "OPENBLAS_CORETYPE=\(core) did not take effect")
      XCTAssertEqual(k.selectedBy, "user")
      let nlls = try blockNLLs(out)
      XCTAssertEqual(nlls.count, golden.count)
      for (i, (got, want)) in zip(nlls, golden).enumerated() {
        XCTAssertEqual(got, want, accuracy: 1e-5 * abs(want), "\(core), \(threads) threads, block \(i)")
      }
      let entry = try XCTUnwrap(ResultsDocument.load(from: out.appendingPathComponent("results.json")).results.first)
      XCTAssertEqual(entry.computedWith, ["threads=\(threads) blas=\(k.core)"])
    }
  }

  /// A fallback core (simulated: the test hook makes ltm-bench treat OPENBLAS_CORETYPE=Prescott as OpenBLAS's own
  /// detection) is replaced by the CPU's best kernels through one re-exec, recorded in the provenance.
  func testAFallbackCoreIsCorrectedByReexecution() throws {
    let best = CPUFeatures.current.bestKernels
    guard best.tier > .sse3 else { throw XCTSkip("this CPU's best kernels are SSE3: there is no fallback to correct") }
    let out = tempDir()
    let r = try zeroShot(
      out, home: tempDir(), environment: ["OPENBLAS_CORETYPE": "Prescott", "LTM_BENCH_TEST_CORETYPE_IS_DETECTED": "1"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertFalse(r.stderr.contains("warning:"), r.stderr)
    let k = try kernels(out)
    XCTAssertEqual(k.core.lowercased(), best.core.lowercased())
    XCTAssertEqual(k.selectedBy, "corrected")
    XCTAssertEqual(k.detectedCore, "Prescott")

    let bench = try CommandLineRunner.run(
      ["bench", "--json", "--repeats", "1", "--block-length", "16"], besideBundleOf: Self.self,
      environment: ["OPENBLAS_CORETYPE": "Prescott", "LTM_BENCH_TEST_CORETYPE_IS_DETECTED": "1"])
    XCTAssertEqual(bench.status, 0, bench.stderr)
    let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
    let reported = try XCTUnwrap(report["blasKernels"] as? [String: Any])
    XCTAssertEqual((reported["core"] as? String)?.lowercased(), best.core.lowercased())
    XCTAssertEqual(report["threads"] as? Int, UsableCPUs.count, "bench without --threads uses every usable CPU")
  }

  /// Blocks cached at one thread count are reused at another, and the result says its blocks came from both.
  func testResultsListWhatComputedTheirBlocks() throws {
    let out = tempDir(), home = tempDir()
    let model = try SharedData.file("fixtures/gpt2-tiny").path, data = try SharedData.file("data").path
    func run(threads: Int, limit: Int) throws -> ResultEntry {
      let r = try CommandLineRunner.run(
        ["zero-shot", "--model", model, "--tasks", "ptb", "--split", "validation", "--data-dir", data,
         "--limit-blocks", String(limit), "--threads", String(threads), "--output-dir", out.path],
        besideBundleOf: Self.self, environment: ["LTM_BENCH_HOME": home.path])
      XCTAssertEqual(r.status, 0, r.stderr)
      return try XCTUnwrap(ResultsDocument.load(from: out.appendingPathComponent("results.json")).results.first)
    }
    let core = try run(threads: 1, limit: 2).computedWith?.first?.split(separator: " ").last.map(String.init) ?? "?"
    let mixed = try run(threads: 2, limit: 4)
    XCTAssertEqual(mixed.computedWith, ["threads=1 \(core)", "threads=2 \(core)"])
    XCTAssertEqual(mixed.blocks, 4)
  }

  func testBadThreadCountsAreOneLineErrors() throws {
    let limit = 4 * UsableCPUs.count
    for value in ["0", "-3", String(limit + 1), "100000"] {
      for command in [["bench"], ["zero-shot", "--model", "x", "--tasks", "ptb"], ["fewshot", "--model", "x", "--tasks", "gsm8k"]] {
        let r = try CommandLineRunner.run(command + ["--threads=\(value)"], besideBundleOf: Self.self)
        XCTAssertEqual(r.status, 1, "\(command) --threads \(value)")
        XCTAssertEqual(r.errorLines.count, 1, "\(command) --threads \(value): \(r.stderr)")
        XCTAssertTrue(r.errorLines.first?.contains("--threads") ?? false, r.stderr)
      }
    }
  }

  /// A second run takes the tokenized split and the file digests from the cache and gets identical numbers; a
  /// damaged token-cache entry is detected by its checksum and rebuilt, never trusted.
  func testStartupCachesAreReusedVerifiedAndRebuilt() throws {
    let home = tempDir()
    let first = tempDir(), second = tempDir(), third = tempDir()
    XCTAssertEqual(try zeroShot(first, home: home).status, 0)
    let tokens = home.appendingPathComponent("tokens")
    let entries = try FileManager.default.contentsOfDirectory(atPath: tokens.path).filter { $0.hasSuffix(".bin") }
    XCTAssertEqual(entries.count, 1, "one tokenized split cached")
    let digests = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("digests").path)
    XCTAssertGreaterThanOrEqual(digests.count, 3, "checkpoint, data and tokenizer digests cached: \(digests)")

    let r2 = try zeroShot(second, home: home)
    XCTAssertEqual(r2.status, 0)
    XCTAssertFalse(r2.stderr.contains("tokenizing"), "the second run tokenized again: \(r2.stderr)")

    // Flip one token id in the cached split: the checksum catches it and the split is tokenized again.
    let entry = tokens.appendingPathComponent(entries[0])
    var bytes = try Data(contentsOf: entry)
    bytes[bytes.count / 2] ^= 0x01
    try bytes.write(to: entry)
    let r3 = try zeroShot(third, home: home)
    XCTAssertEqual(r3.status, 0)
    XCTAssertTrue(r3.stderr.contains("tokenizing"), "a damaged cache entry was trusted: \(r3.stderr)")
    let runs = try [first, second, third].map { try ResultsDocument.load(from: $0.appendingPathComponent("results.json")) }
    for run in runs.dropFirst() {
      XCTAssertEqual(run.results.map(\.nllSum), runs[0].results.map(\.nllSum))
      XCTAssertEqual(run.tasks, runs[0].tasks)
      XCTAssertEqual(run.models.map(\.checkpointFiles), runs[0].models.map(\.checkpointFiles))
    }
  }
}
