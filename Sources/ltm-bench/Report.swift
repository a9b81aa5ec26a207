import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench report`: renders report.html again from a results.json, optionally against a baseline.
struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Render a self-contained report.html from a results.json (with deltas when --baseline is given).")

  @Argument(help: "The results.json to render.")
  var results: String

  @Option(help: "Compare against this baseline and show the deltas.")
  var baseline: String?

  @Option(name: [.short, .long], help: "The HTML file to write.")
  var output: String = "report.html"

  @OptionGroup(title: "Comparison (with --baseline)") var compare: CompareArguments

  func run() throws {
    try CLIErrors.oneLine {
      let doc = try ResultsDocument.load(from: URL(fileURLWithPath: results))
      let comparison = try baseline.map {
        Comparison.compare(current: doc, baseline: try ResultsDocument.load(from: URL(fileURLWithPath: $0)), options: try compare.options())
      }
      // The papers' numbers beside the run's, when the tasks folder is at hand (a copied results.json renders without).
      let tasks = DefaultPaths.findRepositoryFolder("tasks", marker: "ptb.yaml")
      let published = try tasks.map { try PublishedTable.load(file: PublishedTable.location(tasksDirectory: $0)) } ?? []
      try ReportWriter.writeHTML(doc, comparison: comparison, published: published, to: URL(fileURLWithPath: output))
    }
    print("wrote \(output)")
  }
}
