import Foundation
import LTMReports
import XCTest
@testable import LTMHarness

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

  func testDamagedMiddleLineIsAnError() throws {
    let url = try tempFile()
    do { try BlockCache(url: url, reuse: true).record(BlockRecord(index: 0, nll: 1.5, tokens: 3), for: key()) }
    let good = try Data(contentsOf: url)
    try (Data("garbage\n".utf8) + good).write(to: url)
    XCTAssertThrowsError(try BlockCache(url: url, reuse: true)) { error in
      XCTAssertTrue(String(describing: error).contains("line 1"), "\(error)")
      XCTAssertTrue(String(describing: error).contains("--no-cache"), "\(error)")
    }
  }

  func testNoCacheStartsAfresh() throws {
    let url = try tempFile()
    do { try BlockCache(url: url, reuse: true).record(BlockRecord(index: 0, nll: 1, tokens: 1), for: key()) }
    let c = try BlockCache(url: url, reuse: false)
    XCTAssertNil(c.lookup(key()))
  }
}
