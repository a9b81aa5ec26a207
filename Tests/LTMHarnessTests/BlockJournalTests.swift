import Foundation
import XCTest
@testable import LTMHarness

final class BlockJournalTests: XCTestCase {
  private func tempFile() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-journal-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.appendingPathComponent("journal.jsonl")
  }

  func testResumeReturnsRecordedBlocksExactly() throws {
    let url = try tempFile()
    let nll = 12784.813476562500123
    do {
      let j = try BlockJournal(url: url, resume: true)
      try j.record(.init(model: "m", protocolName: "ltm", block: "b1", nll: nll, tokens: 1023))
    }
    let j = try BlockJournal(url: url, resume: true)
    XCTAssertEqual(j.lookup(model: "m", protocolName: "ltm", block: "b1")?.nll, nll, "doubles must round-trip bit for bit")
    XCTAssertNil(j.lookup(model: "m", protocolName: "mdlm", block: "b1"), "another protocol must not reuse the block")
    XCTAssertNil(j.lookup(model: "other", protocolName: "ltm", block: "b1"), "another model must not reuse the block")
  }

  func testTornLastLineIsDroppedAndJournalStaysAppendable() throws {
    let url = try tempFile()
    try Data("{\"block_sha256\":\"b1\",\"model\":\"m\",\"nll\":1.5,\"protocol\":\"ltm\",\"tokens\":3}\n{\"block_sha".utf8).write(to: url)
    do {
      let j = try BlockJournal(url: url, resume: true)
      XCTAssertEqual(j.lookup(model: "m", protocolName: "ltm", block: "b1")?.tokens, 3)
      try j.record(.init(model: "m", protocolName: "ltm", block: "b2", nll: 2, tokens: 3))
    }
    let j = try BlockJournal(url: url, resume: true)
    XCTAssertNotNil(j.lookup(model: "m", protocolName: "ltm", block: "b2"))
  }

  func testDamagedMiddleLineIsAnError() throws {
    let url = try tempFile()
    try Data("garbage\n{\"block_sha256\":\"b1\",\"model\":\"m\",\"nll\":1.5,\"protocol\":\"ltm\",\"tokens\":3}\n".utf8).write(to: url)
    XCTAssertThrowsError(try BlockJournal(url: url, resume: true)) { error in
      XCTAssertTrue(String(describing: error).contains("line 1"), "\(error)")
    }
  }

  func testNoResumeStartsAfresh() throws {
    let url = try tempFile()
    do { try BlockJournal(url: url, resume: true).record(.init(model: "m", protocolName: "ltm", block: "b1", nll: 1, tokens: 1)) }
    let j = try BlockJournal(url: url, resume: false)
    XCTAssertNil(j.lookup(model: "m", protocolName: "ltm", block: "b1"))
  }
}
