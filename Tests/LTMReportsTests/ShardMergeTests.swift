import Foundation
import XCTest
@testable import LTMReports
import LTMMetrics

/// `ltm-bench merge` on synthetic shards: exact recombination and every refusal. The end-to-end check that
/// merged shards equal an unsharded run of a real model is in LTMHarnessTests.
final class ShardMergeTests: XCTestCase {
  private let nlls: [Double] = [7001.25, 6999.5, 7100.125, 6950.0625, 7020.5]

  private func records(_ indices: [Int], kl: Bool = false) -> [BlockRecord] {
    indices.map {
      BlockRecord(index: $0, nll: nlls[$0], tokens: 1023, kl: kl ? 10 + Double($0) : nil,
                  fresh: kl ? FreshBlockEstimate(nll: nlls[$0] - 5, kl: 10 + Double($0), samples: 4, variance: 0.25) : nil)
    }
  }

  /// The run's document with its results computed from `blocks`, as a shard (`shard != nil`) or unsharded.
  private func document(blocks: [Int], shard: ShardInfo?, kl: Bool = false) throws -> ResultsDocument {
    var doc = ReportsTests.sampleDocument(bound: kl ? "upper" : "exact")
    doc.tasks[0].blocksScored = nlls.count
    doc.tasks[0].blocksAvailable = 86
    doc.run.shard = shard
    doc.run.host = shard.map { "node\($0.index)" } ?? "h"
    let base = doc.tasks[0].partialReasons
    doc.results = [try ResultEntry(
      model: "gpt2-tiny", task: "ptb", split: "test", protocolName: "ltm", bound: kl ? "upper" : "exact",
      headline: "block_mean", examples: 3761, partialReasons: base + (shard.map { [$0.partialReason] } ?? []),
      wallSeconds: 1, inferenceSteps: kl ? 8 : nil, scorerSettings: kl ? ["fast_lr": "0.34"] : [:],
      records: records(blocks, kl: kl), keepBlocks: shard != nil)]
    return doc
  }

  private func shards(_ n: Int, kl: Bool = false) throws -> [ShardMerge.Shard] {
    try (0..<n).map { i in
      let info = ShardInfo(index: i, count: n)
      return ("s\(i).json", try document(blocks: (0..<nlls.count).filter { info.contains(block: $0) }, shard: info, kl: kl))
    }
  }

  func testMergedEqualsUnshardedBitForBit() throws {
    for n in [1, 2, 3, 5] {
      for kl in [false, true] {
        let merged = try ShardMerge.merge(try shards(n, kl: kl).reversed())
        let whole = try document(blocks: Array(0..<nlls.count), shard: nil, kl: kl)
        var a = merged.results[0], b = whole.results[0]
        XCTAssertEqual(a.wallSeconds, Double(n), "wall time is the shards' sum")
        a.wallSeconds = 0
        b.wallSeconds = 0
        XCTAssertEqual(a, b, "n=\(n) kl=\(kl)")
        XCTAssertNil(a.perBlock)
        XCTAssertEqual(a.partialReasons, ["5 of 86 blocks (--limit-blocks)"], "the shard reason is gone, the others stay")
        XCTAssertEqual(merged.run.mergedShards, n)
        XCTAssertNil(merged.run.shard)
        if kl {
          XCTAssertNotNil(a.boundParts)
          XCTAssertEqual(a.freshBound?.samples, 4)
          XCTAssertEqual(a.freshBound?.stderrNLLPerToken ?? 0, (0.25 * 5).squareRoot() / Double(5 * 1023), accuracy: 1e-15)
        }
      }
    }
  }

  func testRefusesIncompleteOverlappingOrForeignShards() throws {
    func message(_ shards: [ShardMerge.Shard]) -> String {
      do { _ = try ShardMerge.merge(shards); return "" } catch { return String(describing: error) }
    }
    let three = try shards(3)
    XCTAssertTrue(message(Array(three.prefix(2))).contains("shard 2/3 missing"), message(Array(three.prefix(2))))
    XCTAssertTrue(message([three[0], three[0], three[1], three[2]]).contains("given twice"))
    XCTAssertTrue(message([three[0], try shards(2)[1]]).contains("shards of 3"))

    var unsharded = try document(blocks: Array(0..<nlls.count), shard: nil)
    XCTAssertTrue(message([("whole.json", unsharded)]).contains("not a shard file"))

    var otherModel = three[1]
    otherModel.document.models[0].checkpointFiles[0].sha256 = "00"
    XCTAssertTrue(message([three[0], otherModel, three[2]]).contains("checksums"), message([three[0], otherModel, three[2]]))

    var otherSeed = three[1]
    otherSeed.document.run.seed = 7
    XCTAssertTrue(message([three[0], otherSeed, three[2]]).contains("seed"))

    var lostBlock = three[2]
    lostBlock.document.results[0].perBlock?.removeLast()
    XCTAssertTrue(message([three[0], three[1], lostBlock]).contains("blocks missing"), message([three[0], three[1], lostBlock]))

    var stray = three[2]
    stray.document.results[0].perBlock?[0].index = 0
    XCTAssertTrue(message([three[0], three[1], stray]).contains("does not belong to shard 2/3"))

    unsharded.run.shard = ShardInfo(index: 0, count: 1)
    XCTAssertTrue(message([("old.json", unsharded)]).contains("no per_block"))
  }

  func testShardParsingIsZeroBased() throws {
    XCTAssertEqual(try ShardInfo(parsing: "0/4"), ShardInfo(index: 0, count: 4))
    XCTAssertEqual(try ShardInfo(parsing: "3/4"), ShardInfo(index: 3, count: 4))
    for bad in ["4/4", "1/0", "-1/2", "a/b", "1", "1/2/3"] {
      XCTAssertThrowsError(try ShardInfo(parsing: bad), bad)
    }
    let s = ShardInfo(index: 1, count: 3)
    XCTAssertEqual((0..<9).filter { s.contains(block: $0) }, [1, 4, 7])
  }
}
