import Foundation
import XCTest
@testable import LTMReports

/// `ltm-bench compare`: direction per metric, tolerance precedence, and every reason two results are not the
/// same comparison.
final class ComparisonTests: XCTestCase {
  /// A one-result document; `tweak` edits the result.
  private func doc(ppl: Double = 100, protocolName: String = "ltm", defaultTolerance: Double? = nil, _ tweak: (inout ResultEntry) -> Void = { _ in }) -> ResultsDocument {
    var d = ReportsTests.sampleDocument()
    d.run.protocolName = protocolName
    d.defaultTolerance = defaultTolerance
    var r = d.results[0]
    r.protocolName = protocolName
    r.ppl = ppl
    tweak(&r)
    d.results = [r]
    return d
  }

  func testLowerPerplexityIsBetterAndRegressionsFail() {
    let base = doc(ppl: 100)
    let worse = Comparison.compare(current: doc(ppl: 101), baseline: base, options: ComparisonOptions(tolerance: 0.005))
    XCTAssertEqual(worse.rows.map(\.verdict), [.regressed])
    XCTAssertFalse(worse.passed)
    XCTAssertEqual(worse.rows[0].delta, 1, accuracy: 1e-12)
    XCTAssertEqual(worse.rows[0].relative, 0.01, accuracy: 1e-12)

    let better = Comparison.compare(current: doc(ppl: 99), baseline: base, options: ComparisonOptions(tolerance: 0.005))
    XCTAssertEqual(better.rows.map(\.verdict), [.improved])
    XCTAssertTrue(better.passed, "an improvement is not a regression")

    let within = Comparison.compare(current: doc(ppl: 100.4), baseline: base, options: ComparisonOptions(tolerance: 0.005))
    XCTAssertEqual(within.rows.map(\.verdict), [.within])
    XCTAssertTrue(within.passed)
  }

  func testFailOnChangeRejectsImprovementsToo() {
    let c = Comparison.compare(current: doc(ppl: 99), baseline: doc(ppl: 100), options: ComparisonOptions(tolerance: 1e-5, failOn: .change))
    XCTAssertEqual(c.rows.map(\.verdict), [.improved])
    XCTAssertFalse(c.passed, "a drift check fails on any change beyond tolerance")
  }

  /// Direction belongs to the metric: for a higher-is-better metric (MAUVE, accuracy) a rise is an improvement.
  func testHigherIsBetterMetricsFlipTheVerdict() {
    let accuracy = ComparisonMetric(name: "accuracy", direction: .higherIsBetter, isPerplexity: false) { $0.ppl / 1000 }
    let options = ComparisonOptions(metrics: [accuracy], tolerance: 0.001)
    XCTAssertEqual(Comparison.compare(current: doc(ppl: 110), baseline: doc(ppl: 100), options: options).rows.map(\.verdict), [.improved])
    XCTAssertEqual(Comparison.compare(current: doc(ppl: 90), baseline: doc(ppl: 100), options: options).rows.map(\.verdict), [.regressed])
    XCTAssertEqual(MetricDirection.higherIsBetter.relativeWorsening(current: 0.9, baseline: 1.0), 0.1, accuracy: 1e-12)
  }

  /// Precedence: baseline entry > baseline file default > --tolerance > built-in 1e-4.
  func testTolerancePrecedence() {
    let current = doc(ppl: 101)  // 1% worse
    func resolved(_ baseline: ResultsDocument, cli: Double?) -> (Double, ToleranceSource) {
      let row = Comparison.compare(current: current, baseline: baseline, options: ComparisonOptions(tolerance: cli)).rows[0]
      return (row.tolerance, row.toleranceSource)
    }
    XCTAssertTrue(resolved(doc(ppl: 100), cli: nil) == (1e-4, .builtIn))
    XCTAssertTrue(resolved(doc(ppl: 100), cli: 0.02) == (0.02, .commandLine))
    XCTAssertTrue(resolved(doc(ppl: 100, defaultTolerance: 0.03), cli: 0.02) == (0.03, .baselineDefault))
    XCTAssertTrue(resolved(doc(ppl: 100, defaultTolerance: 0.03) { $0.tolerance = 0.001 }, cli: 0.02) == (0.001, .baselineEntry))
    let perEntry = Comparison.compare(current: current, baseline: doc(ppl: 100, defaultTolerance: 0.03) { $0.tolerance = 0.001 }, options: ComparisonOptions(tolerance: 0.02))
    XCTAssertEqual(perEntry.rows[0].verdict, .regressed, "the entry's 0.1% is what counts")
  }

  func testMissingEntryFails() {
    var base = doc(ppl: 100)
    var extra = base.results[0]
    extra.task = "wikitext2"
    base.results.append(extra)
    let c = Comparison.compare(current: doc(ppl: 100), baseline: base)
    XCTAssertEqual(c.problems.map(\.kind), [.missing])
    XCTAssertTrue(c.problems[0].message.contains("wikitext2"), c.problems[0].message)
    XCTAssertFalse(c.passed)
  }

  func testDifferentProtocolIsAnErrorNotAComparison() {
    let c = Comparison.compare(current: doc(ppl: 100, protocolName: "mdlm"), baseline: doc(ppl: 100))
    XCTAssertTrue(c.rows.isEmpty, "numbers under different protocols must not be compared")
    XCTAssertEqual(c.problems.count, 1)
    XCTAssertTrue(c.problems[0].message.contains("protocol differs: current mdlm, baseline ltm"), c.problems[0].message)
    XCTAssertFalse(c.passed)
  }

  func testSplitBlocksStepsAndSettingsMustMatch() {
    let base = doc(ppl: 100) { $0.inferenceSteps = 16; $0.scorerSettings = ["fast_lr": "0.34"] }
    let cases: [(String, (inout ResultEntry) -> Void)] = [
      ("split differs", { $0.split = "validation" }),
      ("blocks differ: current 3, baseline 4", { $0.blocks = 3 }),
      ("scored tokens differ", { $0.scoredTokens = 1 }),
      ("inference_steps differ: current 8, baseline 16", { $0.inferenceSteps = 8 }),
      ("scorer setting fast_lr differs: current 0.3, baseline 0.34", { $0.scorerSettings["fast_lr"] = "0.3" }),
    ]
    for (needle, change) in cases {
      let current = doc(ppl: 100) { $0.inferenceSteps = 16; $0.scorerSettings = ["fast_lr": "0.34"]; change(&$0) }
      let c = Comparison.compare(current: current, baseline: base)
      XCTAssertTrue(c.rows.isEmpty, needle)
      XCTAssertEqual(c.problems.map(\.kind), [.notComparable], needle)
      XCTAssertTrue(c.problems.first?.message.contains(needle) ?? false, "\(needle): \(c.problems)")
      XCTAssertTrue(c.problems.first?.message.contains("not the same comparison") ?? false)
      XCTAssertFalse(c.passed, "\(needle): a comparison that is not the same must fail")
    }
  }

  func testDifferentTokenBlocksAreNotComparable() {
    var current = doc(ppl: 100)
    current.tasks[0].blocksSHA256 = "ff"
    let c = Comparison.compare(current: current, baseline: doc(ppl: 100))
    XCTAssertTrue(c.rows.isEmpty)
    XCTAssertEqual(c.problems.map(\.kind), [.notComparable])
    XCTAssertTrue(c.problems.first?.message.contains("scored tokens differ") ?? false, "\(c.problems)")
    XCTAssertFalse(c.passed)
  }

  /// A sweep in the current results matches the baseline's row with the same steps; the others are "not in the baseline".
  func testSweepRowsMatchByInferenceSteps() {
    var current = doc(ppl: 100) { $0.inferenceSteps = 16 }
    var other = current.results[0]
    other.inferenceSteps = 4
    other.ppl = 500
    current.results.insert(other, at: 0)
    let c = Comparison.compare(current: current, baseline: doc(ppl: 100) { $0.inferenceSteps = 16 })
    XCTAssertEqual(c.rows.map(\.verdict), [.within])
    XCTAssertEqual(c.rows[0].currentIndex, 1)
    XCTAssertEqual(c.unmatched, ["gpt2-tiny on ptb (steps 4)"])
    XCTAssertTrue(c.passed)
  }

  func testModelMapComparesARenamedCheckpoint() {
    let current = doc(ppl: 100) { $0.model = "my-new-ckpt" }
    XCTAssertFalse(Comparison.compare(current: current, baseline: doc(ppl: 100)).passed)
    XCTAssertTrue(Comparison.compare(current: current, baseline: doc(ppl: 100), options: ComparisonOptions(modelMap: ["my-new-ckpt": "gpt2-tiny"])).passed)
  }

  func testShardsAreNotCompared() {
    var current = doc(ppl: 100)
    current.run.shard = ShardInfo(index: 0, count: 2)
    let c = Comparison.compare(current: current, baseline: doc(ppl: 100))
    XCTAssertTrue(c.problems.first?.message.contains("merge the shards first") ?? false)
    XCTAssertTrue(c.rows.isEmpty)
    XCTAssertFalse(c.passed)
  }

  func testMetricNames() throws {
    XCTAssertEqual(try ComparisonMetric.named(["ppl,ppl_block_mean"]).map(\.name), ["ppl", "ppl_block_mean"])
    XCTAssertEqual(try ComparisonMetric.named(["all"]).count, ComparisonMetric.catalog.count)
    XCTAssertThrowsError(try ComparisonMetric.named(["bleu"])) { XCTAssertTrue(String(describing: $0).contains("bleu")) }
    XCTAssertTrue(ComparisonMetric.catalog.allSatisfy { $0.direction == .lowerIsBetter }, "every perplexity improves downwards")
  }

  /// Markdown for a pull-request comment: a heading with the verdict, a GFM table, problems as a list.
  func testMarkdownFitsAPullRequestComment() {
    var base = doc(ppl: 100) { $0.bound = "upper" }
    var missing = base.results[0]
    missing.task = "lm1b"
    base.results.append(missing)
    let c = Comparison.compare(current: doc(ppl: 103) { $0.bound = "upper" }, baseline: base)
    let md = ComparisonFormatter.render(c, format: .markdown, current: "new.json", baseline: "baselines/x.json")
    let lines = md.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    XCTAssertEqual(lines.first, "### ltm-bench compare: ❌ fail")
    XCTAssertTrue(lines.contains { $0.hasPrefix("| model | task |") })
    XCTAssertTrue(lines.contains { $0.hasPrefix("|---|") && $0.contains("---:|") })
    let row = try? XCTUnwrap(lines.first { $0.hasPrefix("| gpt2-tiny | ptb |") })
    XCTAssertTrue(row?.contains("≤ 100") ?? false, "a bound keeps its sign: \(row ?? "")")
    XCTAssertTrue(row?.contains("+3%") ?? false, row ?? "")
    XCTAssertTrue(row?.contains("REGRESSED") ?? false, row ?? "")
    XCTAssertTrue(lines.contains("**Problems**"))
    XCTAssertTrue(lines.contains { $0.hasPrefix("- gpt2-tiny on lm1b: in the baseline but not in the current results") })
    let text = ComparisonFormatter.render(c, format: .text, current: "new.json", baseline: "baselines/x.json")
    XCTAssertTrue(text.hasSuffix("FAIL: 1 compared: 1 regressed, 0 improved beyond tolerance; 1 missing, 0 not comparable"), text)
  }
}
