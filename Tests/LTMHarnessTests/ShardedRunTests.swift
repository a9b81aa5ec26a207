import Foundation
import LTMReports
import LTMTestSupport
import XCTest
@testable import LTMHarness

/// `--shard i/n` then `merge`: the merged results equal the unsharded run's, number for number.
final class ShardedRunTests: XCTestCase {
  private func outputDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-shard-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
  }

  private func run(shard: ShardInfo?, limit: Int = 5) throws -> ZeroShotRunner.Outputs {
    let config = ZeroShotConfiguration(
      modelPaths: [try SharedData.file("fixtures/gpt2-tiny")], taskNames: ["ptb", "wikitext2"],
      // One block per forward pass, as by default: a block's NLL then does not depend on which blocks share its
      // batch (GEMM shapes change the last bits), so shards reproduce the unsharded run exactly.
      dataDirectory: try SharedData.file("data"), split: "test", limitBlocks: limit, threads: 1, batchBlocks: 1,
      outputDirectory: outputDirectory(), tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks"),
      shard: shard)
    return try ZeroShotRunner(configuration: config).run()
  }

  func testMergedShardsEqualTheUnshardedRun() throws {
    let whole = try run(shard: nil)
    let shards = try (0..<3).map { try run(shard: ShardInfo(index: $0, count: 3)) }
    for (i, s) in shards.enumerated() {
      XCTAssertEqual(s.document.run.shard, ShardInfo(index: i, count: 3))
      let r = s.document.results[0]
      XCTAssertEqual(r.perBlock?.map(\.index), Array(stride(from: i, to: 5, by: 3)), "0-based: shard i scores blocks i, i+3, …")
      XCTAssertTrue(r.partialReasons.contains(ShardInfo(index: i, count: 3).partialReason))
    }
    // Read back from disk, as `ltm-bench merge` does: the JSON round trip must keep every bit.
    let loaded = try shards.reversed().map { (name: $0.resultsJSON.path, document: try ResultsDocument.load(from: $0.resultsJSON)) }
    let merged = try ShardMerge.merge(loaded)
    XCTAssertEqual(merged.results.count, 2)
    XCTAssertEqual(merged.models, whole.document.models)
    XCTAssertSameResults(merged, whole.document)
    let comparison = Comparison.compare(
      current: merged, baseline: whole.document,
      options: ComparisonOptions(metrics: ComparisonMetric.catalog, tolerance: 0, failOn: .change))
    XCTAssertTrue(comparison.passed, ComparisonFormatter.render(comparison, format: .text, current: "merged", baseline: "whole"))
  }

  func testAShardWithoutBlocksIsAnError() throws {
    XCTAssertThrowsError(try run(shard: ShardInfo(index: 5, count: 6))) { error in
      XCTAssertTrue(String(describing: error).contains("has no blocks of ptb (5 blocks): use at most 5 shards"), "\(error)")
    }
  }
}
