import Foundation
import LTMReports
import LTMTestSupport
import XCTest
@testable import LTMHarness

/// `ltm-bench status` and `merge BASE`: how far each shard got, read from its block cache, and a merge that names
/// the shard that is missing or has not finished.
final class RunStatusTests: XCTestCase {
  private func tempDir() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-status-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
  }

  @discardableResult
  private func cli(_ args: [String], env: [String: String] = [:], expect: Int32 = 0) throws -> CommandLineRunner.Outcome {
    let r = try CommandLineRunner.run(args, besideBundleOf: Self.self, environment: env)
    XCTAssertEqual(r.status, expect, "\(args): \(r.stderr)")
    return r
  }

  private func zeroShotArguments(model: String, limit: Int) throws -> [String] {
    ["zero-shot", "--model", try SharedData.file(model).path, "--tasks", "ptb,wikitext2", "--split", "test",
     "--data-dir", try SharedData.file("data").path, "--limit-blocks", String(limit), "--threads", "1"]
  }

  /// A shard killed mid-run (finished=false, fewer cache lines) as a scheduler's kill leaves it.
  private func truncate(_ shardDirectory: URL, keepingBlocks keep: Int) throws {
    let cache = shardDirectory.appendingPathComponent(BlockCache.fileName)
    let lines = try String(contentsOf: cache, encoding: .utf8).split(separator: "\n")
    try (lines.prefix(keep).joined(separator: "\n") + "\n").write(to: cache, atomically: true, encoding: .utf8)
    var progress = try XCTUnwrap(try RunProgress.load(in: shardDirectory))
    progress.finished = false
    try progress.write(in: shardDirectory)
  }

  func testStatusAndMergeOfAPartlyFinishedShardedRun() throws {
    let base = tempDir()
    let args = try zeroShotArguments(model: "fixtures/gpt2-tiny", limit: 5)
    let whole = try cli(args + ["--output-dir", base.appendingPathComponent("whole").path])
    XCTAssertTrue(whole.stdout.contains("wrote"))
    for i in 0..<2 {
      try cli(args + ["--shard", "auto", "--output-dir", base.appendingPathComponent("shards/shard-{shard}").path], env: ["LTM_BENCH_SHARD_INDEX": "\(i)", "LTM_BENCH_SHARD_COUNT": "3"])
    }
    let shards = base.appendingPathComponent("shards")
    XCTAssertTrue(FileManager.default.fileExists(atPath: shards.appendingPathComponent("shard-1/results.json").path), "{shard} became the index")

    // Shard 2 never started: status lists it, merge names it.
    var status = try RunStatus.read(shards)
    XCTAssertEqual(status.shardCount, 3)
    XCTAssertEqual(status.missing, [2])
    XCTAssertEqual(status.shards.map { $0.units.map(\.done) }, [[2, 2], [2, 2]], "shard i has blocks i, i+3 of 5, per task")
    XCTAssertTrue(status.shards.allSatisfy(\.finished))
    let missing = try cli(["merge", shards.path, "--output-dir", base.appendingPathComponent("merged").path], expect: 1)
    XCTAssertEqual(missing.errorLines.count, 1, missing.stderr)
    XCTAssertTrue(missing.errorLines.first?.contains("shard 2/3 is missing") ?? false, missing.stderr)

    // Shard 2 (blocks 2 of ptb and of wikitext2) as a kill after its first block leaves it: status counts the
    // block it kept, merge refuses the shard.
    try cli(args + ["--shard", "2/3", "--output-dir", shards.appendingPathComponent("shard-2").path])
    try truncate(shards.appendingPathComponent("shard-2"), keepingBlocks: 1)
    status = try RunStatus.read(shards)
    XCTAssertEqual(status.missing, [])
    let partial = try XCTUnwrap(status.shards.last)
    XCTAssertEqual(partial.progress.shard, ShardInfo(index: 2, count: 3))
    XCTAssertEqual(partial.units.map(\.done), [1, 0])
    XCTAssertEqual(partial.units.map(\.total), [1, 1])
    XCTAssertFalse(partial.finished)
    let shown = try cli(["status", shards.path])
    XCTAssertTrue(shown.stdout.contains("2/3    gpt2-tiny  ptb/test        1/1"), shown.stdout)
    XCTAssertTrue(shown.stdout.contains("2/3    gpt2-tiny  wikitext2/test  0/1     incomplete"), shown.stdout)
    XCTAssertTrue(shown.stdout.contains("2 of 3 shards finished, 9/10 blocks"), shown.stdout)
    let unfinished = try cli(["merge", shards.path, "--output-dir", base.appendingPathComponent("merged").path], expect: 1)
    XCTAssertTrue(
      unfinished.errorLines.first?.contains("shard 2/3 in \(shards.path)/shard-2 has not finished: 1 of 2 blocks done") ?? false,
      unfinished.stderr)

    // Rerun: it resumes from its cache; the merged base folder equals the unsharded run.
    let rerun = try cli(args + ["--shard", "2/3", "--output-dir", shards.appendingPathComponent("shard-2").path])
    XCTAssertTrue(rerun.stderr.contains("1 blocks taken from the journal"), rerun.stderr)
    let merged = try cli(["merge", shards.path, "--output-dir", base.appendingPathComponent("merged").path])
    XCTAssertTrue(merged.stdout.contains("merged 3 shards"), merged.stdout)
    let a = try ResultsDocument.load(from: base.appendingPathComponent("merged/results.json"))
    let b = try ResultsDocument.load(from: base.appendingPathComponent("whole/results.json"))
    XCTAssertEqual(a.results.count, 2)
    XCTAssertSameResults(a, b)
  }

  /// A real process killed with SIGKILL mid-task: status shows the blocks it kept and an unfinished run.
  func testStatusOfAKilledRun() throws {
    let out = tempDir()
    let process = Process()
    process.executableURL = CommandLineRunner.binary(besideBundleOf: Self.self)
    process.arguments = try zeroShotArguments(model: "fixtures/ltm-gpt2vocab/ckpt.pt", limit: 3) + ["--output-dir", out.path]
    process.standardError = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let cache = out.appendingPathComponent(BlockCache.fileName)
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline, ((try? Data(contentsOf: cache))?.filter { $0 == UInt8(ascii: "\n") }.count ?? 0) < 1 {
      usleep(50_000)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let status = try RunStatus.read(out)
    XCTAssertNil(status.shardCount)
    let run = try XCTUnwrap(status.shards.first)
    XCTAssertFalse(run.finished)
    XCTAssertEqual(run.total, 6, "3 blocks of ptb and of wikitext2")
    XCTAssertTrue((1..<6).contains(run.done), "killed after its first block: \(run.done) done")
    let shown = try cli(["status", out.path])
    XCTAssertTrue(shown.stdout.contains("not finished, \(run.done)/6 blocks done"), shown.stdout)
  }

  func testMergingShardsOfDifferentRunsIsAnError() throws {
    let base = tempDir()
    for (index, limit) in [(0, 4), (1, 2)] {
      try cli(try zeroShotArguments(model: "fixtures/gpt2-tiny", limit: limit)
        + ["--shard", "\(index)/2", "--output-dir", base.appendingPathComponent("shard-\(index)").path])
    }
    let r = try cli(["merge", base.path, "--output-dir", base.appendingPathComponent("merged").path], expect: 1)
    XCTAssertEqual(r.errorLines.count, 1, r.stderr)
    XCTAssertTrue(r.errorLines.first?.contains("--limit-blocks differs") ?? false, r.stderr)
    XCTAssertTrue(r.errorLines.first?.contains("not shards of one run") ?? false, r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: base.appendingPathComponent("merged").path))
  }

  func testStatusOfAFolderWithoutARunIsAnError() throws {
    let empty = tempDir()
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    let r = try cli(["status", empty.path], expect: 1)
    XCTAssertEqual(r.errorLines.count, 1, r.stderr)
    XCTAssertTrue(r.errorLines.first?.contains("holds no zero-shot run") ?? false, r.stderr)
  }
}
