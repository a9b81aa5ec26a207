import Foundation
import LTMReports
import LTMTestSupport
import XCTest

/// A real one-node Slurm cluster (Debian's slurm-wlm and munge, started by tools/slurm-one-node.sh): `ltm-bench
/// slurm --submit` runs a 4-element array on the tiny fixtures, one element is requeued mid-run and resumes from its
/// block cache, the afterok merge job writes the merged results, and they equal the unsharded run bit for bit.
/// Without the packages or root the test fails, saying why; it is never skipped (`.ci/setup` installs them).
final class SlurmClusterTests: XCTestCase {
  private let root = SharedData.packageRoot

  /// Runs a command to completion; fails the test (with its output) on a non-zero exit when `check`. Output goes
  /// through a file, not a pipe: Foundation's Process lets the child inherit the pipe's descriptors, and the
  /// daemons that the start script leaves running would hold it open, so a pipe would never reach its end.
  @discardableResult
  private func shell(_ args: [String], env: [String: String] = [:], check: Bool = true) throws -> (status: Int32, output: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-slurm-log-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: log) }
    let handle = try FileHandle(forWritingTo: log)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
    p.currentDirectoryURL = root
    (p.standardOutput, p.standardError) = (handle, handle)
    try p.run()
    p.waitUntilExit()
    try handle.close()
    let output = try String(contentsOf: log, encoding: .utf8)
    if check { XCTAssertEqual(p.terminationStatus, 0, "\(args.joined(separator: " ")):\n\(output)") }
    return (p.terminationStatus, output)
  }

  private func wait(_ what: String, timeout: TimeInterval, until condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
      guard Date() < deadline else { throw TimedOut(what: what) }
      usleep(100_000)
    }
  }

  private struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
  }

  private func lines(_ url: URL) -> Int {
    (try? Data(contentsOf: url))?.filter { $0 == UInt8(ascii: "\n") }.count ?? 0
  }

  func testArrayWithARequeuedElementMergesToTheUnshardedRun() throws {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-slurm-\(UUID().uuidString)")
    let cluster = work.appendingPathComponent("cluster")
    addTeardownBlock { try? FileManager.default.removeItem(at: work) }
    let start = try shell(["bash", "tools/slurm-one-node.sh", "start", cluster.path], check: false)
    addTeardownBlock { _ = try? self.shell(["bash", "tools/slurm-one-node.sh", "stop", cluster.path], check: false) }
    guard start.status == 0 else {
      return XCTFail("cannot start the one-node Slurm cluster: \(start.output.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
    let env = ["SLURM_CONF": cluster.appendingPathComponent("slurm.conf").path]
    let binary = CommandLineRunner.binary(besideBundleOf: Self.self).path

    // Two families; 8 ptb blocks, 2 per shard. One thread everywhere: GEMM reductions depend on the thread count.
    let zeroShot = ["--model", try SharedData.file("fixtures/gpt2-tiny").path,
                    "--model", try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt").path,
                    "--tasks", "ptb", "--split", "test", "--data-dir", try SharedData.file("data").path, "--limit-blocks", "8"]
    let whole = work.appendingPathComponent("whole")
    try shell([binary, "zero-shot"] + zeroShot + ["--threads", "1", "--output-dir", whole.path])

    let base = work.appendingPathComponent("run")
    let submitted = try shell([binary, "slurm", "--submit", "--shards", "4", "--threads", "1", "--output-dir", base.path, "--"] + zeroShot, env: env)
    let ids = submitted.output.split(whereSeparator: { !$0.isNumber }).map(String.init)
    guard submitted.status == 0, ids.count >= 3 else { return XCTFail("submission: \(submitted.output)") }
    let (arrayJob, mergeJob) = (ids[0], ids[2])  // "array job A (4 shards), merge job M"

    // Element 1 is requeued once it has cached its GPT-2 blocks and one LTM block, while its last LTM block runs.
    let shard1 = base.appendingPathComponent("shard-1")
    try wait("shard 1's third cached block", timeout: 180) { lines(shard1.appendingPathComponent("block-cache.jsonl")) >= 3 }
    // Status while it runs (shard 1's last LTM block may land meanwhile, and other shards progress).
    let status = try shell([binary, "status", base.path]).output
    XCTAssertTrue(status.contains("1/4    gpt2-tiny              ptb/test  2/2"), status)
    let row = status.split(separator: "\n").first { $0.hasPrefix("1/4    ltm-gpt2vocab/ckpt.pt  ptb/test") } ?? ""
    XCTAssertTrue(row.contains("incomplete"), status)
    try shell(["scontrol", "requeue", "\(arrayJob)_1"], env: env)

    try wait("the merge job", timeout: 300) {
      let job = try shell(["scontrol", "show", "job", mergeJob], env: env).output
      if job.contains("JobState=COMPLETED") { return true }
      if ["FAILED", "CANCELLED", "TIMEOUT"].contains(where: { job.contains("JobState=\($0)") }) {
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent("logs").path)) ?? []
        throw TimedOut(what: "a merge job that ended as: \(job.split(separator: "\n").first { $0.contains("JobState") } ?? "") (logs: \(logs))")
      }
      return false
    }
    let element = try shell(["scontrol", "show", "job", "\(arrayJob)_1"], env: env).output
    XCTAssertTrue(element.contains("Restarts=1"), "element 1 was requeued once: \(element)")
    let requeued = try ResultsDocument.load(from: shard1.appendingPathComponent("results.json"))
    // 3, or 4 when its last block landed between the check above and the requeue.
    XCTAssertTrue((3...4).contains(requeued.run.resumedBlocks), "the requeued element resumed from its block cache: \(requeued.run.resumedBlocks)")

    let merged = try ResultsDocument.load(from: base.appendingPathComponent("merged/results.json"))
    let reference = try ResultsDocument.load(from: whole.appendingPathComponent("results.json"))
    XCTAssertEqual(merged.run.mergedShards, 4)
    XCTAssertEqual(merged.results.count, 2)
    XCTAssertSameResults(merged, reference)
    XCTAssertTrue(FileManager.default.fileExists(atPath: base.appendingPathComponent("merged/report.html").path))
  }
}
