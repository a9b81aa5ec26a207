import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench baseline`: turns a run's results.json into a baseline file to commit under baselines/.
struct Baseline: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a results.json as a baseline file (per-block data dropped, a default tolerance set).")

  @Argument(help: "The results.json of the run to keep as the reference.")
  var results: String

  @Option(name: [.short, .long], help: "The baseline file to write (e.g. baselines/ci-reference.json).")
  var output: String

  @Option(help: "The file's default relative tolerance (results may carry their own `tolerance`).")
  var tolerance: Double?

  func run() throws {
    let doc = try CLIErrors.oneLine { () -> ResultsDocument in
      let doc = try ResultsDocument.load(from: URL(fileURLWithPath: results)).asBaseline(defaultTolerance: tolerance)
      try ReportWriter.writeJSON(doc, to: URL(fileURLWithPath: output))
      return doc
    }
    print("wrote \(output): \(doc.results.count) results, default tolerance \(doc.defaultTolerance.map { String(format: "%g", $0) } ?? "none")")
  }
}
