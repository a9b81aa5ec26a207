import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench compare`: deltas of a results file against a baseline, non-zero exit on regression.
struct Compare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare a results.json against a baseline; exit 1 on a regression, a missing entry or a different protocol.",
    discussion: """
      Results are matched by model and task; they must agree on protocol, split, blocks, scored tokens, \
      inference steps and scorer settings, or the comparison fails as "not the same comparison". Lower \
      perplexity is better. Exit codes: 0 no failure, 1 regression (the table is printed first), missing or \
      incomparable entries, or bad input.
      """)

  @Argument(help: "The results to check (results.json of a run).")
  var current: String

  @Argument(help: "The baseline (a results.json, e.g. baselines/ci-reference.json).")
  var baseline: String

  @OptionGroup var compare: CompareArguments

  func run() throws {
    let comparison = try CLIErrors.oneLine { () -> Comparison in
      let options = try compare.options()
      let cur = try ResultsDocument.load(from: URL(fileURLWithPath: current))
      let base = try ResultsDocument.load(from: URL(fileURLWithPath: baseline))
      return Comparison.compare(current: cur, baseline: base, options: options)
    }
    try compare.report(comparison, current: current, baseline: baseline)
  }
}
