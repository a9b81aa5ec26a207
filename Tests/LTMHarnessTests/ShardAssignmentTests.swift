import Foundation
import LTMReports
import XCTest
@testable import LTMHarness

/// `--shard auto`: the index and count from Slurm array, Kubernetes Indexed Job or explicit variables.
final class ShardAssignmentTests: XCTestCase {
  private func resolve(_ text: String, _ env: [String: String]) throws -> ShardInfo {
    try ShardAssignment.resolve(text, environment: env)
  }

  private func assertError(_ text: String, _ env: [String: String], contains needle: String, line: UInt = #line) {
    XCTAssertThrowsError(try resolve(text, env), line: line) { error in
      let message = String(describing: error)
      XCTAssertTrue(message.contains(needle), "\(message)", line: line)
      XCTAssertFalse(message.contains("\n"), "one line: \(message)", line: line)
    }
  }

  /// What Slurm 22.05 sets in element `id` of `--array=low-high` (seen on the one-node cluster).
  private func slurm(_ id: Int, _ low: Int, _ high: Int) -> [String: String] {
    ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "\(low)", "SLURM_ARRAY_TASK_MAX": "\(high)",
     "SLURM_ARRAY_TASK_COUNT": "\(high - low + 1)", "SLURM_ARRAY_TASK_STEP": "1", "SLURM_ARRAY_JOB_ID": "77"]
  }

  func testExplicitShardsStillParse() throws {
    XCTAssertEqual(try resolve("2/5", [:]), ShardInfo(index: 2, count: 5))
    assertError("5/5", [:], contains: "0-based")
  }

  func testSlurmArraysFromZeroAndFromOne() throws {
    XCTAssertEqual(try resolve("auto", slurm(3, 0, 3)), ShardInfo(index: 3, count: 4))
    XCTAssertEqual(try resolve("auto", slurm(0, 0, 3)), ShardInfo(index: 0, count: 4))
    // --array=1-4: SLURM_ARRAY_TASK_MIN is subtracted, so indices still cover 0…3.
    XCTAssertEqual(try resolve("auto", slurm(1, 1, 4)), ShardInfo(index: 0, count: 4))
    XCTAssertEqual(try resolve("auto", slurm(4, 1, 4)), ShardInfo(index: 3, count: 4))
    XCTAssertEqual(try resolve("auto/4", slurm(2, 0, 3)), ShardInfo(index: 2, count: 4))
  }

  func testSlurmArraysThatCannotCoverTheShardsAreErrors() {
    var stepped = slurm(2, 0, 6)
    (stepped["SLURM_ARRAY_TASK_STEP"], stepped["SLURM_ARRAY_TASK_COUNT"]) = ("2", "4")
    assertError("auto", stepped, contains: "contiguous array")
    var holes = slurm(5, 0, 5)
    holes["SLURM_ARRAY_TASK_COUNT"] = "3"  // --array=0,2,5
    assertError("auto", holes, contains: "contiguous array such as --array=0-2")
    var noCount = slurm(1, 0, 3)
    noCount["SLURM_ARRAY_TASK_COUNT"] = nil
    assertError("auto", noCount, contains: "SLURM_ARRAY_TASK_COUNT is not")
    assertError("auto/8", slurm(1, 0, 3), contains: "has 4 shards, not 8")
    var notNumber = slurm(1, 0, 3)
    notNumber["SLURM_ARRAY_TASK_ID"] = "1a"
    assertError("auto", notNumber, contains: "SLURM_ARRAY_TASK_ID='1a' is not an integer")
  }

  func testKubernetesIndexedJob() throws {
    XCTAssertEqual(try resolve("auto", ["JOB_COMPLETION_INDEX": "2", "LTM_BENCH_SHARD_COUNT": "4"]), ShardInfo(index: 2, count: 4))
    XCTAssertEqual(try resolve("auto/4", ["JOB_COMPLETION_INDEX": "3"]), ShardInfo(index: 3, count: 4))
    assertError("auto", ["JOB_COMPLETION_INDEX": "2"], contains: "set LTM_BENCH_SHARD_COUNT to the Job's completions")
    assertError("auto", ["JOB_COMPLETION_INDEX": "4", "LTM_BENCH_SHARD_COUNT": "4"], contains: "JOB_COMPLETION_INDEX = 4 is not in 0...3")
    assertError("auto", ["JOB_COMPLETION_INDEX": "0", "LTM_BENCH_SHARD_COUNT": "0"], contains: "for 0 shards")
  }

  func testExplicitVariables() throws {
    XCTAssertEqual(try resolve("auto", ["LTM_BENCH_SHARD_INDEX": "1", "LTM_BENCH_SHARD_COUNT": "3"]), ShardInfo(index: 1, count: 3))
    assertError("auto", ["LTM_BENCH_SHARD_INDEX": "1"], contains: "LTM_BENCH_SHARD_COUNT is not")
    assertError("auto", ["LTM_BENCH_SHARD_INDEX": "-1", "LTM_BENCH_SHARD_COUNT": "3"], contains: "is not in 0...2")
  }

  func testOutsideAnyArrayOrWithDisagreeingSourcesIsAnError() {
    assertError("auto", [:], contains: "no array index in the environment")
    assertError("auto/x", [:], contains: "auto/N expects a shard count")
    var both = slurm(1, 0, 3)
    (both["JOB_COMPLETION_INDEX"], both["LTM_BENCH_SHARD_COUNT"]) = ("2", "4")
    assertError("auto", both, contains: "says shard 1/4 but JOB_COMPLETION_INDEX=2")
    var agreeing = slurm(2, 0, 3)
    (agreeing["LTM_BENCH_SHARD_INDEX"], agreeing["LTM_BENCH_SHARD_COUNT"]) = ("2", "4")
    XCTAssertEqual(try? resolve("auto", agreeing), ShardInfo(index: 2, count: 4))
  }

  func testOutputDirectoryPlaceholder() throws {
    let env = slurm(2, 0, 3)
    let (shard, url) = try ShardAssignment.resolve(shard: "auto", outputDirectory: "/runs/wt/shard-{shard}", environment: env)
    XCTAssertEqual(shard, ShardInfo(index: 2, count: 4))
    XCTAssertEqual(url.path, "/runs/wt/shard-2")
    XCTAssertEqual(try ShardAssignment.resolve(shard: nil, outputDirectory: "/runs/plain", environment: env).outputDirectory.path, "/runs/plain")
    XCTAssertThrowsError(try ShardAssignment.resolve(shard: nil, outputDirectory: "/runs/shard-{shard}", environment: env)) { error in
      XCTAssertTrue(String(describing: error).contains("contains {shard}, which needs --shard"), "\(error)")
    }
  }
}
