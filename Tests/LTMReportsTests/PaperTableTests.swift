import Foundation
import LTMTestSupport
import XCTest

@testable import LTMReports

/// The papers' zero-shot table in report.html (#15): a `--tasks paper` run (fixture: gpt2-tiny, ltm-gpt2vocab and
/// mdlm-gpt2vocab, one block per column, `mdlm` protocol) as models × the seven columns with `=`/`≤` on every cell,
/// beside the published rows of the run's protocol, each labelled with its table, unconfirmed values marked. The
/// fixture is that run's results.json (`ltm-bench zero-shot --model …/gpt2-tiny --model …/ltm-gpt2vocab/ckpt.pt
/// --model …/mdlm-gpt2vocab --tasks paper --protocol mdlm --limit-blocks 1 --inference-steps 2`, as
/// `ZeroShotDatasetPipelineTests.testThePaperPresetScoresSevenColumnsForEveryFamily` sets up its data folder).
final class PaperTableTests: XCTestCase {
  static let tasks = ["ptb", "wikitext2", "lm1b", "lambada", "ag_news", "pubmed", "arxiv"]

  static func published() throws -> [PublishedTable] {
    try PublishedTable.load(file: PublishedTable.location(tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks")))
  }

  static func paperRun() throws -> ResultsDocument {
    try ResultsDocument.load(from: SharedData.packageRoot.appendingPathComponent("Tests/LTMReportsTests/Fixtures/paper-results.json"))
  }

  func testTheCommittedPublishedNumbersLoadWithTheirLabels() throws {
    let tables = try Self.published()
    XCTAssertEqual(tables.map(\.id), ["mdlm-table", "ltm-blog"])
    XCTAssertEqual(tables.map(\.protocolName), ["mdlm", "ltm"])
    let mdlm = try XCTUnwrap(tables.first?.rows.first { $0.model == "MDLM" })
    XCTAssertEqual(mdlm.bound, "upper")
    XCTAssertEqual(Self.tasks.map { mdlm.values[$0] }, [95.26, 32.83, 67.01, 47.52, 61.15, 41.89, 37.37])
    XCTAssertEqual(tables[0].rows.first { $0.model == "AR (retrained)" }?.unconfirmed, ["wikitext2", "wikitext103"])
  }

  func testBrokenPublishedFilesAreOneLineErrors() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-published-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    let row = "    rows:\n      - {model: M, bound: upper, values: {ptb: 90.0}}\n"
    let head = "version: 1\ntables:\n  - id: t\n    source: s\n    protocol: mdlm\n"
    for (text, needle) in [
      (head + row.replacingOccurrences(of: "upper", with: "low"), "bound must be exact or upper"),
      (head + row.replacingOccurrences(of: "90.0", with: "0.5"), "not a perplexity"),
      (head + row.replacingOccurrences(of: "bound", with: "bond"), "unknown key 'bond'"),
      (head + row.replacingOccurrences(of: "}}", with: "}, unconfirmed: [lm1b]}"), "'lm1b' has no value"),
      ("version: 2\ntables: []\n", "version 2"),
      (head, "rows"),
    ] {
      let file = dir.appendingPathComponent("zero-shot.yaml")
      try text.write(to: file, atomically: true, encoding: .utf8)
      XCTAssertThrowsError(try PublishedTable.load(file: file), needle) { error in
        let message = String(describing: error)
        XCTAssertTrue(message.contains(needle) && message.contains(file.path) && !message.contains("\n"), "\(needle): \(message)")
      }
    }
    XCTAssertEqual(try PublishedTable.load(file: dir.appendingPathComponent("absent.yaml")), [])
  }

  func testThePaperRunRendersAsTheTableBesideThePublishedRows() throws {
    let doc = try Self.paperRun()
    let html = try HTMLReport.render(doc, published: try Self.published())
    let table = try Self.matrix(html)
    XCTAssertEqual(Self.cells(table, "th"), ["model"] + Self.tasks)
    let rows = table.components(separatedBy: "<tr").dropFirst(2)
    XCTAssertEqual(rows.count, 6, "3 measured and 3 published rows")
    for (row, sign) in zip(rows, ["=", "≤", "≤", "=", "≤", "≤"]) {
      XCTAssertEqual(Self.cells(row, "td").count, 8)
      XCTAssertEqual(row.components(separatedBy: ">\(sign)</span>").count - 1, 7, row)
    }
    XCTAssertTrue(rows.dropFirst(3).allSatisfy { $0.contains("class=\"published\"") && $0.contains("published · mdlm-table") })
    XCTAssertFalse(rows.prefix(3).contains { $0.contains("published") }, "measured rows are never labelled published")
    XCTAssertEqual(table.components(separatedBy: "class=\"unconfirmed-mark\" title").count - 1, 1 + 7, "AR's Wikitext and SEDD's row")
    XCTAssertTrue(html.contains("Sahoo et al. 2024 (MDLM)"))
    // Another protocol's table is never shown beside this run.
    XCTAssertFalse(html.contains("LTM-M") || html.contains("ltm-blog"))
    var ltmRun = doc
    ltmRun.run.protocolName = "bd3lm"
    XCTAssertFalse(try HTMLReport.render(ltmRun, published: try Self.published()).contains("published ·"))
  }

  /// Headless Chromium lays the table out: the DOM it builds has the seven columns and the six rows.
  func testChromiumRendersThePaperTable() throws {
    let chromium = try ChromiumRenderTests.chromium()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-paper-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    let page = dir.appendingPathComponent("report.html")
    try HTMLReport.render(try Self.paperRun(), published: try Self.published()).write(to: page, atomically: true, encoding: .utf8)
    let (status, dom) = try ChromiumRenderTests.run(chromium, [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
      "--dump-dom", page.absoluteString,
    ], timeout: 120)
    XCTAssertEqual(status, 0, dom)
    let table = try Self.matrix(dom)
    XCTAssertEqual(Self.cells(table, "th"), ["model"] + Self.tasks)
    XCTAssertEqual(table.components(separatedBy: "<tr class=\"published\"").count - 1, 3)
    XCTAssertEqual(table.components(separatedBy: "<tr").count - 1, 7)
  }

  static func matrix(_ html: String) throws -> String {
    let start = try XCTUnwrap(html.range(of: "<table class=\"matrix\">"))
    let end = try XCTUnwrap(html.range(of: "</table>", range: start.upperBound..<html.endIndex))
    return String(html[start.lowerBound..<end.upperBound])
  }

  /// The text of every `<tag>` cell, tags inside stripped.
  static func cells(_ html: String, _ tag: String) -> [String] {
    html.components(separatedBy: "<\(tag)").dropFirst().filter { $0.first == ">" || $0.first == " " }.map { cell in
      let body = cell.drop { $0 != ">" }.dropFirst()
      let text = body.components(separatedBy: "</\(tag)>")[0]
      return text.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression).trimmingCharacters(in: .whitespaces)
    }
  }
}
