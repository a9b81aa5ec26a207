import Foundation
import LTMTestSupport
import XCTest
@testable import LTMTasks

/// Readers and detokenizers against the reference pipeline (`fixtures/zero-shot-pipeline`): every example's
/// loader text (`raw`) and detokenized text (`detok`) must match byte for byte, and the example counts must be
/// those of the Hugging Face loaders, because a single differing example shifts every later block.
final class PipelineFixtureTests: XCTestCase {
  private func dataDirectory() throws -> URL { try SharedData.file("data") }

  func testReadersYieldTheLoadersExamples() throws {
    let summary = try PipelineFixtures.summary()
    for fixture in PipelineFixtures.files {
      let rows = try PipelineFixtures.rows(fixture.name)
      let expectedCount = try XCTUnwrap((summary[fixture.name] as? [String: Any])?["examples"] as? Int, fixture.name)
      XCTAssertEqual(rows.count, expectedCount, "\(fixture.name): fixture rows vs summary.json")
      let reader: ReaderKind = fixture.detokenizer == "wikitext" ? .wikitextRaw : fixture.detokenizer == "ptb" ? .ptbLines : .lm1bLines
      let examples = try reader.read(file: try SharedData.file("data/\(fixture.dataFile)"), displayPath: fixture.dataFile)
      XCTAssertEqual(examples.count, rows.count, "\(fixture.name): example count")
      var mismatches = 0
      for (i, (example, row)) in zip(examples, rows).enumerated() where Array(example.utf8) != Array(row.raw.utf8) {
        mismatches += 1
        if mismatches <= 3 { XCTFail("\(fixture.name) example \(i): read \(example.debugDescription), expected \(row.raw.debugDescription)") }
      }
      XCTAssertEqual(mismatches, 0, "\(fixture.name): examples differing from the loader's text")
    }
  }

  func testDetokenizersMatchTheReferenceOnEveryExample() throws {
    for fixture in PipelineFixtures.files {
      let detokenizer = try XCTUnwrap(Detokenizer(rawValue: fixture.detokenizer))
      let rows = try PipelineFixtures.rows(fixture.name)
      XCTAssertGreaterThan(rows.count, 3000, fixture.name)
      var mismatches = 0
      for (i, row) in rows.enumerated() {
        let output = detokenizer.apply(row.raw)
        if Array(output.utf8) != Array(row.detok.utf8) {
          mismatches += 1
          if mismatches <= 3 {
            XCTFail("\(fixture.name) example \(i): \(row.raw.debugDescription) -> \(output.debugDescription), expected \(row.detok.debugDescription)")
          }
        }
      }
      XCTAssertEqual(mismatches, 0, "\(fixture.name): detokenized examples differing from the reference")
    }
  }

  /// The shipped task files, end to end: the PTB splits read and detokenize to the fixture text.
  func testShippedPTBTaskReproducesTheFixtureText() throws {
    let catalog = try TaskCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks"))
    let ptb = try catalog.task(named: "ptb")
    for (split, fixture) in [("validation", "ptb-valid"), ("test", "ptb-test")] {
      let examples = try ptb.examples(split: split, dataDirectory: try dataDirectory())
      let rows = try PipelineFixtures.rows(fixture)
      XCTAssertEqual(examples.count, rows.count, split)
      XCTAssertTrue(zip(examples, rows).allSatisfy { Array($0.utf8) == Array($1.detok.utf8) }, split)
    }
  }

  func testShippedWikitextTaskReadsTheTestFileWithNewlines() throws {
    let catalog = try TaskCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks"))
    for name in ["wikitext2", "wikitext103"] {
      let raw = try catalog.task(named: name).rawExamples(split: "test", dataDirectory: try dataDirectory())
      let rows = try PipelineFixtures.rows("wikitext-test")
      XCTAssertEqual(raw.count, 4358, name)
      XCTAssertTrue(zip(raw, rows).allSatisfy { Array($0.utf8) == Array($1.raw.utf8) }, name)
      XCTAssertEqual(raw.filter(\.isEmpty).count, rows.filter(\.raw.isEmpty).count, name)
      XCTAssertTrue(raw.filter { !$0.isEmpty }.allSatisfy { $0.hasSuffix("\n") }, "\(name): non-blank lines keep their newline")
    }
  }

  /// LM1B test = every shard present, sorted; the shared data holds 4 of 50, shard 10 first.
  func testShippedLM1BTaskReadsAllShardsInOrder() throws {
    let catalog = try TaskCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks"))
    let lm1b = try catalog.task(named: "lm1b")
    let files = try lm1b.files(split: lm1b.defaultSplit, dataDirectory: try dataDirectory())
    XCTAssertEqual(files.map(\.lastPathComponent), (10...13).map { "news.en.heldout-000\($0)-of-00050" })
    XCTAssertEqual(lm1b.expectedFileCount(split: "test"), 50)
    XCTAssertLessThan(files.count, lm1b.expectedFileCount(split: "test") ?? 0, "the shared copy is partial")
    let examples = try lm1b.examples(split: "test", dataDirectory: try dataDirectory())
    XCTAssertEqual(examples.count, 6111 + 6105 + 5986 + 6119)
    let rows = try PipelineFixtures.rows("lm1b-heldout-00010")
    XCTAssertTrue(zip(examples.prefix(rows.count), rows).allSatisfy { Array($0.utf8) == Array($1.detok.utf8) })
  }
}
