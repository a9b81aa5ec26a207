import ArgumentParser
import Foundation
import LTMHarness

extension CompareFailureMode: ExpressibleByArgument {}
extension ComparisonFormatter.Format: ExpressibleByArgument {}

/// The options `compare` and `zero-shot --baseline` share: what to compare, how strictly, and how to print it.
struct CompareArguments: ParsableArguments {
  @Option(help: ArgumentHelp(
    "Relative tolerance for baseline results that carry none of their own.",
    discussion: "Precedence: the baseline result's `tolerance`, the baseline file's `default_tolerance`, this option, then 1e-4."))
  var tolerance: Double?

  @Option(name: .customLong("metric"), help: "Metrics to compare, comma-separated or repeated: ppl, ppl_token_weighted, ppl_block_mean, fresh_ppl, or all.")
  var metrics: [String] = ["ppl"]

  @Option(help: "Fail on a `regression` beyond tolerance, or on any `change` beyond it (drift checks).")
  var failOn: CompareFailureMode = .regression

  @Option(help: "Comparison output: text or markdown (for a pull-request comment).")
  var format: ComparisonFormatter.Format = .text

  @Option(name: .customLong("model-map"), help: "CURRENT=BASELINE: compare model CURRENT with the baseline's model BASELINE (repeatable).")
  var modelMap: [String] = []

  /// The comparison options, or a one-line error naming the bad value.
  func options() throws -> ComparisonOptions {
    var map: [String: String] = [:]
    for pair in modelMap {
      let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw ReportError.invalid("--model-map expects CURRENT=BASELINE, got '\(pair)'")
      }
      map[parts[0]] = parts[1]
    }
    if let t = tolerance, !(t >= 0) { throw ReportError.invalid("--tolerance must be at least 0, got \(t)") }
    return ComparisonOptions(metrics: try ComparisonMetric.named(metrics), tolerance: tolerance, failOn: failOn, modelMap: map)
  }

  /// Prints the comparison on stdout; a failed comparison then ends as one `error:` line and exit code 1.
  func report(_ comparison: Comparison, current: String, baseline: String) throws {
    print(ComparisonFormatter.render(comparison, format: format, current: current, baseline: baseline))
    if !comparison.passed {
      fflush(stdout)  // the table first, then the error line, even when both go to one pipe
      FileHandle.standardError.write(Data("error: comparison against \(baseline) failed: \(comparison.summary)\n".utf8))
      throw ExitCode.failure
    }
  }
}
