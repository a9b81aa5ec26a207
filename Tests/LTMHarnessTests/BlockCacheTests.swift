import Foundation
import LTMReports
import XCTest
@testable import LTMHarness
import LTMMetrics

final class BlockCacheTests: XCTestCase {
  private func tempFile() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-cache-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.appendingPathComponent(BlockCache.fileName)
  }

  private func key(model: String = "m", task: String = "ptb", split: String = "test", protocolName: String = "ltm", settings: String = ";seed=0", block: Int = 0, tokens: String = "t0") -> BlockCache.Key {
    BlockCache.Key(model: model, task: task, split: split, protocolName: protocolName, settings: settings, block: block, tokensSHA256: tokens)
  }

  func testReuseReturnsRecordedBlocksExactly() throws {
    let url = try tempFile()
    let record = BlockRecord(index: 0, nll: 12784.813476562500123, tokens: 1023, kl: 17.25)
    do {
      let c = try BlockCache(url: url, reuse: true)
      try c.record(record, for: key())
    }
    let c = try BlockCache(url: url, reuse: true)
    XCTAssertEqual(c.lookup(key()), record, "doubles must round-trip bit for bit")
    // Every key component separates entries.
    XCTAssertNil(c.lookup(key(model: "other")), "another checkpoint")
    XCTAssertNil(c.lookup(key(task: "wikitext2")), "another task")
    XCTAssertNil(c.lookup(key(split: "validation")), "another split")
    XCTAssertNil(c.lookup(key(protocolName: "mdlm")), "another protocol")
    XCTAssertNil(c.lookup(key(settings: "steps=16;seed=0")), "other scorer settings")
    XCTAssertNil(c.lookup(key(block: 1)), "another block index")
    XCTAssertNil(c.lookup(key(tokens: "t1")), "other tokens (another tokenizer)")
  }

  func testTornLastLineIsDroppedAndCacheStaysAppendable() throws {
    let url = try tempFile()
    do { try BlockCache(url: url, reuse: true).record(BlockRecord(index: 0, nll: 1.5, tokens: 3), for: key()) }
    var data = try Data(contentsOf: url)
    data.append(contentsOf: Array("{\"key\":{\"bl".utf8))
    try data.write(to: url)
    do {
      let c = try BlockCache(url: url, reuse: true)
      XCTAssertEqual(c.lookup(key())?.tokens, 3)
      try c.record(BlockRecord(index: 1, nll: 2, tokens: 3), for: key(block: 1))
    }
    let c = try BlockCache(url: url, reuse: true)
    XCTAssertNotNil(c.lookup(key(block: 1)))
  }

  /// A line is trusted only with its checksum (#13): a damaged line, an edited number and a line without a checksum
  /// are skipped (and their blocks computed again), whatever their position; the good lines are kept.
  func testDamagedEditedAndUncheckedLinesAreSkipped() throws {
    let url = try tempFile()
    do {
      let c = try BlockCache(url: url, reuse: true)
      try c.record(BlockRecord(index: 0, nll: 1.5, tokens: 3), for: key())
      try c.record(BlockRecord(index: 1, nll: 2.5, tokens: 3), for: key(block: 1))
    }
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    let edited = lines[1].replacingOccurrences(of: "\"nll\":2.5", with: "\"nll\":0.5")
    XCTAssertNotEqual(edited, lines[1])
    let unchecked = lines[1].replacingOccurrences(of: #","sha256":"[0-9a-f]{64}""#, with: "", options: .regularExpression)
    XCTAssertNotEqual(unchecked, lines[1])
    try ([lines[0], "garbage", edited, unchecked].joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    let c = try BlockCache(url: url, reuse: true)
    XCTAssertEqual(c.lookup(key())?.nll, 1.5)
    XCTAssertNil(c.lookup(key(block: 1)), "block 1's only lines are damaged: it is computed again")
    XCTAssertEqual(c.damagedLines, [2, 3, 4])
  }

  /// Two valid lines that give one block different numbers: the cache was edited or written by two different
  /// computations at once, and neither number can be chosen silently.
  func testConflictingDuplicatesAreAnError() throws {
    let a = try tempFile(), b = try tempFile()
    do { try BlockCache(url: a, reuse: true).record(BlockRecord(index: 0, nll: 1.5, tokens: 3), for: key()) }
    do { try BlockCache(url: b, reuse: true).record(BlockRecord(index: 0, nll: 1.75, tokens: 3), for: key()) }
    try (Data(contentsOf: a) + Data(contentsOf: a) + Data(contentsOf: b)).write(to: a)
    XCTAssertThrowsError(try BlockCache(url: a, reuse: true)) { error in
      let text = String(describing: error)
      XCTAssertTrue(text.contains("lines 2 and 3 hold different values") && text.contains("--no-cache"), text)
    }
  }

  func testNoCacheStartsAfresh() throws {
    let url = try tempFile()
    do { try BlockCache(url: url, reuse: true).record(BlockRecord(index: 0, nll: 1, tokens: 1), for: key()) }
    let c = try BlockCache(url: url, reuse: false)
    XCTAssertNil(c.lookup(key()))
  }
}
