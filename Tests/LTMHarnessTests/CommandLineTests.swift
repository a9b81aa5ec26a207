import Foundation
import LTMReports
import LTMTestSupport
import XCTest

/// Runs the built `ltm-bench` binary: bad input → exit 1 and exactly one `error:` line on stderr.
final class CommandLineTests: XCTestCase {
  private var binary: URL { CommandLineRunner.binary(besideBundleOf: Self.self) }

  private func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let r = try CommandLineRunner.run(args, besideBundleOf: Self.self)
    return (r.status, r.stdout, r.stderr)
  }

  private func tempDir() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-cli-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.path
  }

  func testBadInputsExitNonZeroWithOneLine() throws {
    let data = try SharedData.file("data").path
    let model = try SharedData.file("fixtures/gpt2-tiny").path
    let cases: [([String], String)] = [
      (["zero-shot", "--model", "/nonexistent", "--tasks", "ptb", "--data-dir", data, "--output-dir", tempDir()], "/nonexistent"),
      (["zero-shot", "--model", model, "--tasks", "nosuchtask", "--data-dir", data, "--output-dir", tempDir()], "nosuchtask"),
      (["zero-shot", "--model", model, "--tasks", "ptb", "--data-dir", "/nonexistent-data", "--output-dir", tempDir()], "/nonexistent-data"),
      (["zero-shot", "--model", model, "--tasks", "ptb", "--data-dir", data, "--protocol", "bogus", "--output-dir", tempDir()], "bogus"),
      (["zero-shot", "--model", model, "--tasks", "ptb", "--data-dir", data, "--limit-blocks", "0", "--output-dir", tempDir()], "--limit-blocks"),
      (["zero-shot", "--model", model, "--tasks", "lm1b", "--split", "validation", "--data-dir", data, "--output-dir", tempDir()], "validation"),
      // A column whose files are not there (the shared data has no scientific_papers) names the file (#15).
      (["zero-shot", "--model", model, "--tasks", "paper", "--data-dir", data, "--output-dir", tempDir()], "missing data file"),
      (["zero-shot", "--model", model, "--tasks", "pubmed", "--data-dir", data, "--output-dir", tempDir()], "pubmed-dataset/val.txt"),
    ]
    for (args, needle) in cases {
      let r = try run(args)
      XCTAssertEqual(r.status, 1, "\(args): exit \(r.status), stderr: \(r.stderr)")
      let errorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
      XCTAssertEqual(errorLines.count, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(errorLines.first?.contains(needle) ?? false, "\(args): \(r.stderr)")
    }
  }

  private var model: String { get throws { try SharedData.file("fixtures/gpt2-tiny").path } }
  private var data: String { get throws { try SharedData.file("data").path } }

  /// Runs `zero-shot` on gpt2-tiny; `extra` adds options. Fails the test when it exits non-zero.
  @discardableResult
  private func zeroShot(_ out: String, tasks: String = "ptb", limit: Int = 2, _ extra: [String] = [], expect: Int32 = 0) throws -> (status: Int32, stdout: String, stderr: String) {
    let r = try run(["zero-shot", "--model", try model, "--tasks", tasks, "--split", "test", "--data-dir", try data,
                     "--limit-blocks", String(limit), "--output-dir", out] + extra)
    XCTAssertEqual(r.status, expect, r.stderr)
    return r
  }

  private func errorLines(_ stderr: String) -> [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("error:") } }

  /// Rewrites a results file through `edit` (to make a baseline disagree with a run).
  private func edit(_ path: String, _ body: (inout ResultsDocument) -> Void) throws {
    var doc = try ResultsDocument.load(from: URL(fileURLWithPath: path))
    body(&doc)
    try doc.jsonData().write(to: URL(fileURLWithPath: path))
  }

  func testCompareExitCodes() throws {
    let out = tempDir()
    try zeroShot(out, tasks: "ptb,wikitext2")
    let current = out + "/results.json"
    let baseline = tempDir() + "/baseline.json"
    let made = try run(["baseline", current, "--tolerance", "1e-5", "--output", baseline])
    XCTAssertEqual(made.status, 0, made.stderr)

    let same = try run(["compare", current, baseline, "--metric", "all"])
    XCTAssertEqual(same.status, 0, same.stdout + same.stderr)
    XCTAssertTrue(same.stdout.contains("PASS: 6 compared"), same.stdout)
    XCTAssertTrue(same.stderr.isEmpty, same.stderr)

    // The baseline was 1% better on ptb: a regression, printed in the table, then one error line.
    try edit(baseline) { $0.results[0].ppl *= 0.99 }
    let regressed = try run(["compare", current, baseline])
    XCTAssertEqual(regressed.status, 1)
    XCTAssertTrue(regressed.stdout.contains("REGRESSED"), regressed.stdout)
    XCTAssertTrue(regressed.stdout.contains("1e-05 (baseline default)"), regressed.stdout)
    XCTAssertEqual(errorLines(regressed.stderr).count, 1, regressed.stderr)
    XCTAssertTrue(regressed.stderr.contains("1 regressed"), regressed.stderr)
    let markdown = try run(["compare", current, baseline, "--format", "markdown"])
    XCTAssertEqual(markdown.status, 1)
    XCTAssertTrue(markdown.stdout.hasPrefix("### ltm-bench compare: ❌ fail"), markdown.stdout)

    // An entry the current run lacks.
    try edit(baseline) { doc in
      var extra = doc.results[0]
      extra.task = "lm1b"
      doc.results.append(extra)
    }
    let missing = try run(["compare", current, baseline])
    XCTAssertEqual(missing.status, 1)
    XCTAssertTrue(missing.stdout.contains("gpt2-tiny on lm1b: in the baseline but not in the current results"), missing.stdout)

    // Another protocol: an error that says so, not a table of deltas.
    try edit(baseline) { $0.run.protocolName = "mdlm" }
    let otherProtocol = try run(["compare", current, baseline])
    XCTAssertEqual(otherProtocol.status, 1)
    XCTAssertTrue(otherProtocol.stdout.contains("protocol differs: current ltm, baseline mdlm"), otherProtocol.stdout)
    XCTAssertFalse(otherProtocol.stdout.contains("REGRESSED"))

    for (args, needle) in [
      (["compare", current, "/nonexistent.json"], "/nonexistent.json"),
      (["compare", current, current, "--metric", "bleu"], "bleu"),
      (["compare", current, current, "--model-map", "x"], "--model-map"),
      (["baseline", "/nonexistent.json", "--output", baseline], "/nonexistent.json"),
    ] {
      let r = try run(args)
      XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
      XCTAssertEqual(errorLines(r.stderr).count, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(needle), "\(args): \(r.stderr)")
    }
  }

  /// `zero-shot --baseline`: the reports are written (with the deltas), then a regression exits 1.
  func testZeroShotWithBaselineWritesReportsThenFails() throws {
    let reference = tempDir()
    try zeroShot(reference, limit: 1)
    let baseline = reference + "/results.json"
    let out = tempDir()
    let pass = try zeroShot(out, limit: 1, ["--baseline", baseline, "--tolerance", "1e-6"])
    XCTAssertTrue(pass.stdout.contains("PASS: 1 compared"), pass.stdout)

    try edit(baseline) { $0.results[0].ppl /= 1.001 }
    let fail = try zeroShot(out, limit: 1, ["--baseline", baseline, "--tolerance", "1e-6"], expect: 1)
    XCTAssertTrue(fail.stdout.contains("wrote"), "the reports come first: \(fail.stdout)")
    XCTAssertTrue(fail.stdout.contains("REGRESSED"), fail.stdout)
    XCTAssertEqual(errorLines(fail.stderr).count, 1, fail.stderr)
    let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
    XCTAssertTrue(html.contains("<section id=\"baseline\""), "the report shows the comparison")
    XCTAssertTrue(html.contains("class=\"delta worse\""), "and the delta, coloured as worse")

    let missingBaseline = try zeroShot(tempDir(), limit: 1, ["--baseline", "/nonexistent.json"], expect: 1)
    XCTAssertTrue(errorLines(missingBaseline.stderr).first?.contains("/nonexistent.json") ?? false, missingBaseline.stderr)
  }

  /// Shards through the CLI, merged through the CLI, compared with zero tolerance against the unsharded run.
  func testShardAndMergeCommands() throws {
    let whole = tempDir()
    try zeroShot(whole, tasks: "ptb,lm1b", limit: 3)
    let shards = try (0..<2).map { i -> String in
      let dir = tempDir()
      try zeroShot(dir, tasks: "ptb,lm1b", limit: 3, ["--shard", "\(i)/2"])
      return dir + "/results.json"
    }
    let merged = tempDir()
    let m = try run(["merge"] + shards + ["--output-dir", merged])
    XCTAssertEqual(m.status, 0, m.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: merged + "/report.html"))
    let c = try run(["compare", merged + "/results.json", whole + "/results.json", "--metric", "all", "--tolerance", "0", "--fail-on", "change"])
    XCTAssertEqual(c.status, 0, c.stdout + c.stderr)

    for (args, needle) in [
      (["merge", shards[0]], "shard 1/2 missing"),
      (["merge", whole + "/results.json"], "not a shard file"),
      (["compare", shards[0], whole + "/results.json"], "merge the shards first"),
    ] {
      let r = try run(args)
      XCTAssertEqual(r.status, 1, "\(args)")
      XCTAssertTrue((r.stdout + r.stderr).contains(needle), "\(args): \(r.stdout) \(r.stderr)")
      XCTAssertEqual(errorLines(r.stderr).count, 1, "\(args): \(r.stderr)")
    }
    for bad in ["2/2", "x", "1/0"] {
      let r = try zeroShot(tempDir(), limit: 1, ["--shard", bad], expect: 1)
      XCTAssertEqual(errorLines(r.stderr).count, 1, r.stderr)
      XCTAssertTrue(r.stderr.contains("--shard"), r.stderr)
    }
  }

  /// A results file whose numbers cannot be true is refused where it enters (#13): `compare` does not call a
  /// perplexity of −5 "improved", `report` and `baseline` refuse it, and `merge` does not turn a shard whose block NLL
  /// is −10⁹ into a perplexity of 0. Each is one `error:` line naming the file and the number.
  func testImpossibleNumbersAreRefusedWhereResultsFilesEnter() throws {
    let out = tempDir()
    try zeroShot(out, limit: 1)
    let good = out + "/results.json", bad = tempDir() + "/results.json", elsewhere = tempDir()
    for dir in [bad, elsewhere + "/x"] {
      try FileManager.default.createDirectory(atPath: (dir as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    }
    try FileManager.default.copyItem(atPath: good, toPath: bad)
    try edit(bad) { $0.results[0].ppl = -5 }
    for args in [["compare", bad, good], ["compare", good, bad], ["report", bad, "--output", elsewhere + "/r.html"],
                 ["baseline", bad, "--output", elsewhere + "/b.json"]] {
      let r = try run(args)
      XCTAssertEqual(r.status, 1, "\(args)")
      XCTAssertEqual(errorLines(r.stderr).count, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(bad) && r.stderr.contains("ppl -5.0 is impossible"), "\(args): \(r.stderr)")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere), [], "nothing written from a refused file")

    let shards = try (0..<2).map { i -> String in
      let dir = tempDir()
      try zeroShot(dir, limit: 2, ["--shard", "\(i)/2"])
      return dir + "/results.json"
    }
    try edit(shards[1]) { doc in
      doc.results[0].perBlock![0].nll = -1e9
      doc.results[0].nllSum = -1e9
    }
    let merged = try run(["merge"] + shards + ["--output-dir", elsewhere])
    XCTAssertEqual(merged.status, 1)
    XCTAssertEqual(errorLines(merged.stderr).count, 1, merged.stderr)
    XCTAssertTrue(merged.stderr.contains("nll_sum -1000000000.0 is impossible"), merged.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere), [])

    // Not a results file at all: a JSON array says where the shape is wrong.
    let array = elsewhere + "/array.json"
    try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: array))
    let notResults = try run(["compare", array, good])
    XCTAssertEqual(notResults.status, 1)
    XCTAssertTrue(notResults.stderr.contains("wrong type at the top level"), notResults.stderr)
  }

  /// `--output-dir` naming a file (or a folder that cannot be made) is one line saying so, not a Foundation error.
  func testAnOutputDirectoryThatIsAFileIsOneLine() throws {
    let file = tempDir() + "/not-a-folder"
    try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data("x".utf8).write(to: URL(fileURLWithPath: file))
    for output in [file, file + "/below"] {
      let r = try zeroShot(output, limit: 1, expect: 1)
      XCTAssertEqual(errorLines(r.stderr).count, 1, r.stderr)
      XCTAssertTrue(r.stderr.contains("--output-dir") && !r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
    }
  }

  /// Sizes are checked against the memory this process may use before anything is allocated (#13): a checkpoint
  /// bigger than `LTM_BENCH_MEMORY_LIMIT` (or the machine, or the cgroup) and a `--batch-blocks` whose logits could
  /// not fit are each one line with the estimate in bytes, in seconds, and nothing is written.
  func testRunsBeyondTheMemoryLimitAreRefusedWithTheEstimate() throws {
    let base = ["zero-shot", "--model", try model, "--tasks", "ptb", "--split", "test", "--data-dir", try data, "--limit-blocks", "1"]
    let cases: [([String], [String: String], [String])] = [
      ([], ["LTM_BENCH_MEMORY_LIMIT": "64K"], ["gpt2 (", "needs an estimated", "LTM_BENCH_MEMORY_LIMIT", "nothing was loaded"]),
      (["--batch-blocks", "100000000"], [:], ["this run needs an estimated", "100000000-block batch", "--batch-blocks"]),
      ([], ["LTM_BENCH_MEMORY_LIMIT": "12X"], ["LTM_BENCH_MEMORY_LIMIT '12X' is not a size"]),
    ]
    for (extra, environment, needles) in cases {
      let out = tempDir()
      let started = Date()
      let r = try CommandLineRunner.run(base + extra + ["--output-dir", out], besideBundleOf: Self.self, environment: environment)
      XCTAssertEqual(r.status, 1, "\(extra) \(environment): \(r.stderr)")
      XCTAssertEqual(errorLines(r.stderr).count, 1, r.stderr)
      for needle in needles { XCTAssertTrue(r.stderr.contains(needle), "\(needle): \(r.stderr)") }
      XCTAssertLessThan(Date().timeIntervalSince(started), 30)
      XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/results.json"))
    }
  }

  /// A user's JSONL beside its task file runs with no `--data-dir` (#15): `relative_to: task_file`, nothing fetched.
  func testAUserTaskWithItsDataBesideItNeedsNoDataDirectory() throws {
    let dir = URL(fileURLWithPath: tempDir())
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let rows = (0..<300).map { "{\"text\": \"sentence \($0) of a user's own data, long enough to fill a block.\"}" }
    try (rows.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("mine.jsonl"), atomically: true, encoding: .utf8)
    let yaml = "name: mine\nreader: jsonl\nfield: text\ndetokenizer: none\ndefault_split: test\nrelative_to: task_file\nsplits:\n  test: [mine.jsonl]\n"
    try yaml.write(to: dir.appendingPathComponent("mine.yaml"), atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("out").path
    let r = try CommandLineRunner.run(
      ["zero-shot", "--model", try model, "--tasks", dir.appendingPathComponent("mine.yaml").path, "--limit-blocks", "1", "--output-dir", out, "--offline"],
      besideBundleOf: Self.self, environment: ["LTM_BENCH_HOME": dir.appendingPathComponent("cache").path])
    XCTAssertEqual(r.status, 0, r.stderr)
    let doc = try ResultsDocument.load(from: URL(fileURLWithPath: out + "/results.json"))
    XCTAssertEqual(doc.results.map(\.task), ["mine"])
  }

  /// A real `zero-shot` process killed (SIGKILL) after some blocks are cached, then started again: the second
  /// run scores only the missing blocks, and its numbers equal an uninterrupted run's exactly.
  func testKilledRunResumesWithoutRecomputing() throws {
    let out = tempDir()
    let blocks = 20
    let args = ["zero-shot", "--model", try model, "--tasks", "ptb", "--split", "validation", "--data-dir", try data,
                "--limit-blocks", String(blocks), "--batch-blocks", "1", "--threads", "1", "--output-dir", out]
    let cache = out + "/block-cache.jsonl"
    func cachedLines() -> Int {
      guard let d = FileManager.default.contents(atPath: cache) else { return 0 }
      return d.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }
    let p = Process()
    p.executableURL = binary
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(120)
    while cachedLines() < 3 && p.isRunning && Date() < deadline { usleep(2000) }
    XCTAssertTrue(p.isRunning, "the run finished (or died) before it could be killed halfway")
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationReason, .uncaughtSignal)
    let done = cachedLines()
    XCTAssertGreaterThanOrEqual(done, 3)
    XCTAssertLessThan(done, blocks, "killed halfway, not at the end")
    XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/results.json"), "a killed run writes no results")

    let resumed = try run(args)
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    let second = try ResultsDocument.load(from: URL(fileURLWithPath: out + "/results.json"))
    XCTAssertEqual(second.run.resumedBlocks, done, "every block finished before the kill is reused, none recomputed")
    XCTAssertEqual(cachedLines(), blocks, "the rerun scored (and cached) only the missing blocks")

    let fresh = tempDir()
    let uninterrupted = try run(Array(args.dropLast()) + [fresh, "--no-cache"])
    XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)
    let reference = try ResultsDocument.load(from: URL(fileURLWithPath: fresh + "/results.json"))
    var (a, b) = (second.results[0], reference.results[0])
    (a.wallSeconds, b.wallSeconds) = (0, 0)
    XCTAssertEqual(a, b, "resumed \(a.ppl) vs uninterrupted \(b.ppl)")
    XCTAssertEqual(a.blocks, blocks)
  }

  func testZeroShotWritesBothReports() throws {
    let out = tempDir()
    let r = try run([
      "zero-shot", "--model", try SharedData.file("fixtures/gpt2-tiny").path, "--tasks", "ptb,lm1b", "--split", "test",
      "--data-dir", try SharedData.file("data").path, "--limit-blocks", "1", "--output-dir", out,
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/results.json"))
    XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.html"))
    XCTAssertTrue(r.stdout.contains("ltm") && r.stdout.contains("exact"), r.stdout)
  }
}
