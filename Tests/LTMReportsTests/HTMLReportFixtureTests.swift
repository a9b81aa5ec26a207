import Foundation
import LTMTestSupport
import XCTest
@testable import LTMReports

/// The HTML report of the committed fixture (`Fixtures/report-results.json`: GPT-2 rows, an LTM inference-steps
/// sweep with both bounds, partial rows) against `Fixtures/report-baseline.json`: every section is there, with
/// the numbers, signs and deltas it should carry. Regenerate the fixtures with `tools/make_report_fixture.py`.
final class HTMLReportFixtureTests: XCTestCase {
  static let fixtures = SharedData.packageRoot.appendingPathComponent("Tests/LTMReportsTests/Fixtures")

  static func fixture(_ name: String) throws -> ResultsDocument {
    try ResultsDocument.load(from: fixtures.appendingPathComponent(name))
  }

  static func renderFixture() throws -> String {
    let current = try fixture("report-results.json")
    let baseline = try fixture("report-baseline.json")
    return try HTMLReport.render(current, comparison: Comparison.compare(current: current, baseline: baseline))
  }

  /// The text of the element with `id`, up to its closing `</section>`.
  private func section(_ id: String, in html: String) throws -> String {
    let start = try XCTUnwrap(html.range(of: "<section id=\"\(id)\""), "section #\(id) missing")
    let end = try XCTUnwrap(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
    return String(html[start.lowerBound..<end.upperBound])
  }

  private func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

  func testEverySectionIsPresentInOrder() throws {
    let html = try Self.renderFixture()
    var last = html.startIndex
    for id in ["summary", "results", "baseline", "charts", "steps", "details", "provenance"] {
      let r = try XCTUnwrap(html.range(of: "<section id=\"\(id)\""), "section #\(id) missing")
      XCTAssertGreaterThan(r.lowerBound, last, "#\(id) out of order")
      last = r.lowerBound
    }
  }

  func testSelfContainedAndPrintable() throws {
    let html = try Self.renderFixture()
    XCTAssertTrue(html.hasPrefix("<!doctype html>"))
    XCTAssertFalse(html.lowercased().contains("<script"), "no scripts")
    XCTAssertFalse(html.contains("<link"), "no external stylesheet")
    XCTAssertFalse(html.contains("@import") || html.contains("@font-face") || html.contains("url("), "no fonts or images")
    for scheme in ["http:", "https:", "//cdn", "src="] { XCTAssertFalse(html.contains(scheme), "loads from the network: \(scheme)") }
    XCTAssertTrue(html.contains("@media print"), "print styles")
    XCTAssertTrue(html.contains("@page"))
    XCTAssertEqual(count("<svg", in: html), 3 + 2, "a bar chart per task and a steps curve per swept task")
    XCTAssertEqual(count("<svg", in: html), count("</svg>", in: html))
    XCTAssertEqual(count("<table", in: html), count("</table>", in: html))
    XCTAssertEqual(count("<tr>", in: html), count("</tr>", in: html))
  }

  func testSummaryAndProvenance() throws {
    let html = try Self.renderFixture()
    let summary = try section("summary", in: html)
    for needle in ["seed", "threads", "wall time", "5120.4 s", "bench-01", "ltm-bench 0.1.0", "OpenBLAS 0.3.21", "Debian GNU/Linux 12"] {
      XCTAssertTrue(summary.contains(needle), "summary lacks \(needle)")
    }
    XCTAssertTrue(html.contains("LTM paper: EOS after every example"), "the protocol's one-line description")
    let provenance = try section("provenance", in: html)
    XCTAssertTrue(provenance.contains("124,439,808"), "parameter count")
    XCTAssertTrue(provenance.contains("248dfc3911869ec493c76e65bf2fcf7f615828b0"), "checkpoint sha256")
    XCTAssertTrue(provenance.contains("ptb/ptb.test.txt"), "data file")
    XCTAssertTrue(provenance.contains("b2d6" + String(repeating: "3", count: 60)), "data file sha256")
    XCTAssertTrue(provenance.contains("4 of 50 files"), "a partial LM1B split says so")
  }

  /// Models × tasks: one row per (model, steps), the bound sign on every number, deltas coloured by direction.
  func testMatrixHasSignsAndDirectionalDeltas() throws {
    let results = try section("results", in: html())
    XCTAssertEqual(count("<tr><td><strong>gpt2</strong>", in: results), 1)
    XCTAssertEqual(count("<tr><td><strong>ltm-small</strong>", in: results), 5, "one row per inference-step count")
    XCTAssertEqual(count("title=\"exact\">=</span>", in: results), 3)
    XCTAssertEqual(count("title=\"upper bound\">≤</span>", in: results), 11)
    // ltm-small steps 16: ptb improved 2.54% (beyond its 2% tolerance), wikitext2 regressed 2.11%.
    XCTAssertTrue(results.contains("class=\"delta better\"") && results.contains("-2.54% better"), results)
    XCTAssertTrue(results.contains("class=\"delta worse\"") && results.contains("+2.11% worse"))
    XCTAssertEqual(count("class=\"delta same\"", in: results), 4, "the other four baseline rows are within tolerance")
    XCTAssertEqual(count("class=\"partial-mark\"", in: results), 2, "LM1B rows are partial (4 of 50 files)")
  }

  func testBaselineSectionStatesTheVerdict() throws {
    let baseline = try section("baseline", in: html())
    XCTAssertTrue(baseline.contains("class=\"banner fail\""))
    XCTAssertTrue(baseline.contains("6 compared: 1 regressed, 1 improved beyond tolerance"))
    XCTAssertTrue(baseline.contains("0.02 (baseline entry)") && baseline.contains("0.005 (baseline default)"), "where each tolerance came from")
    XCTAssertTrue(baseline.contains("REGRESSED"))
  }

  func testChartsAndStepsCurves() throws {
    let html = try html()
    let charts = try section("charts", in: html)
    XCTAssertEqual(count("<rect ", in: charts), 6 + 6 + 2, "one bar per result")
    XCTAssertEqual(count("<title>baseline</title>", in: charts), 6, "a baseline tick on each compared bar")
    let steps = try section("steps", in: html)
    XCTAssertEqual(count("<figcaption>", in: steps), 2, "ptb and wikitext2 are swept; lm1b has one step count")
    XCTAssertEqual(count("<polyline", in: steps), 4, "a fitted-ε and a fresh-ε line per swept task")
    XCTAssertEqual(count("stroke-dasharray", in: steps), 4, "fresh-ε lines and their legend entries are dashed")
    XCTAssertEqual(count("<circle", in: steps), 20, "one marker per (steps, bound)")
    let points = try XCTUnwrap(steps.range(of: "points=\"")).upperBound
    let coordinates = steps[points...].prefix { $0 != "\"" }.split(separator: " ")
    XCTAssertEqual(coordinates.count, 5)
    let ys = coordinates.map { Double($0.split(separator: ",")[1])! }
    XCTAssertEqual(ys, ys.sorted(), "the bound falls with more steps, so the line descends (SVG y grows downwards)")
  }

  func testDetailsShowBothLTMBounds() throws {
    let html = try html()
    XCTAssertTrue(html.contains("this is the number the LTM paper reports"), "says which bound the paper reports")
    let details = try section("details", in: html)
    XCTAssertEqual(count("<h3>", in: details), 3)
    XCTAssertTrue(details.contains("K = 16, s.e. 0.0031 nats/token"), "fresh-ε Monte Carlo error")
    XCTAssertTrue(details.contains("of the bound"), "KL share")
    XCTAssertTrue(details.contains("reconstruction "), "NLL/KL split")
    XCTAssertTrue(details.contains("partial: 4 of 50 data files"))
    XCTAssertTrue(details.contains("steps 16, elbo_samples=1, fast_lr=0.34"), "the full scorer settings")
  }

  /// Without a sweep and without a baseline, neither the steps section nor the baseline section appears.
  func testOptionalSectionsAreOmitted() throws {
    let html = try HTMLReport.render(ReportsTests.sampleDocument())
    XCTAssertFalse(html.contains("<section id=\"steps\""))
    XCTAssertFalse(html.contains("<section id=\"baseline\""))
    XCTAssertFalse(html.contains("class=\"delta"))
    XCTAssertTrue(html.contains("<section id=\"details\""))
  }

  private func html() throws -> String { try Self.renderFixture() }
}
