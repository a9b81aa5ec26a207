import Foundation
import XCTest
@testable import LTMReports

final class ReportsTests: XCTestCase {
  static func sampleDocument(bound: String = "exact", complete: Bool = true, model: String = "gpt2-tiny") -> ResultsDocument {
    ResultsDocument(
      command: "zero-shot", tool: ToolInfo(version: "0.1.0"),
      run: RunInfo(
        startedAt: "2026-11-23T06:00:00Z", wallSeconds: 1.5, seed: 0, threads: 1, protocolName: "ltm", split: "test",
        limitBlocks: complete ? nil : 4, dataDirectory: "/data", host: "h", resumedBlocks: 0),
      models: [ModelInfo(id: model, path: "/m", family: "gpt2", parameters: 123, bound: bound,
                         checkpointFiles: [FileDigest(path: "model.safetensors", bytes: 10, sha256: "ab")])],
      tasks: [TaskInfo(name: "ptb", split: "test", detokenizer: "ptb", files: [FileDigest(path: "ptb/ptb.test.txt", bytes: 5, sha256: "cd")],
                       examples: 3761, tokens: 87374, blocksAvailable: 86, blocksScored: complete ? 86 : 4, blocksSHA256: "ef")],
      results: [ResultEntry(
        model: model, task: "ptb", split: "test", protocolName: "ltm", bound: bound, headline: "block_mean", ppl: 95.256,
        pplTokenWeighted: 94.5, pplBlockMean: 95.256, nllSum: 1234.5, scoredTokens: 4092, blocks: 4, examples: 3761,
        partialReasons: complete ? [] : ["4 of 86 blocks (--limit-blocks)"], wallSeconds: 0.5)])
  }

  /// Every key the issue requires per result, and the provenance keys, are present under their documented names.
  func testJSONHasDocumentedKeys() throws {
    let data = try Self.sampleDocument().jsonData()
    let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    XCTAssertEqual(root["schema_version"] as? Int, 1)
    let result = try XCTUnwrap((root["results"] as? [[String: Any]])?.first)
    for key in ["ppl", "ppl_token_weighted", "ppl_block_mean", "nll_sum", "scored_tokens", "blocks", "examples", "bound", "protocol", "split", "headline", "complete"] {
      XCTAssertNotNil(result[key], "results[].\(key) missing")
    }
    let run = try XCTUnwrap(root["run"] as? [String: Any])
    for key in ["seed", "threads", "wall_seconds", "protocol"] { XCTAssertNotNil(run[key], "run.\(key) missing") }
    let model = try XCTUnwrap((root["models"] as? [[String: Any]])?.first)
    XCTAssertNotNil(model["parameters"])
    XCTAssertNotNil((model["checkpoint_files"] as? [[String: Any]])?.first?["sha256"])
    let task = try XCTUnwrap((root["tasks"] as? [[String: Any]])?.first)
    XCTAssertNotNil((task["files"] as? [[String: Any]])?.first?["sha256"])
    XCTAssertEqual(try ResultsDocument.decode(from: data), Self.sampleDocument())
  }

  func testHTMLIsSelfContainedAndEscaped() throws {
    let html = try HTMLReport.render(Self.sampleDocument(model: "<script>alert(1)</script>"))
    XCTAssertTrue(html.hasPrefix("<!doctype html>"))
    XCTAssertTrue(html.contains("<svg"), "inline chart missing")
    XCTAssertFalse(html.contains("<script>alert"), "model name was not escaped")
    XCTAssertTrue(html.contains("&lt;script&gt;"))
    XCTAssertFalse(html.contains("src=\"http"), "report must not load anything from the network")
    XCTAssertFalse(html.contains("href=\"http"))
    XCTAssertTrue(html.contains("95.26"))
    XCTAssertTrue(html.contains("block_mean"))
  }

  func testUpperBoundsAlwaysCarryTheirSign() throws {
    let doc = Self.sampleDocument(bound: "upper", complete: false)
    XCTAssertEqual(doc.results[0].pplLabel, "≤ 95.26")
    let table = TextTable.render(doc)
    XCTAssertTrue(table.contains("≤ 95.26*"))
    XCTAssertTrue(table.contains("partial (4 of 86 blocks (--limit-blocks))"), table)
    XCTAssertTrue(table.contains("ltm"))
    let html = try HTMLReport.render(doc)
    XCTAssertTrue(html.contains("upper bound"))
    XCTAssertTrue(html.contains("partial: 4 of 86 blocks (--limit-blocks)"))
  }

  func testExactNumbersHaveNoBoundSign() {
    let table = TextTable.render(Self.sampleDocument())
    XCTAssertFalse(table.contains("≤"))
    XCTAssertTrue(table.contains("exact"))
    XCTAssertEqual(formatPPL(258363.307), "2.5836e+05")
    XCTAssertEqual(formatPPL(82.054), "82.05")
  }
}
