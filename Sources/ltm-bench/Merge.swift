import ArgumentParser
import Foundation
import LTMHarness
import LTMReports

/// `ltm-bench merge`: shard results of one run into the results the unsharded run would have written.
struct Merge: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Merge the shard results of one run (zero-shot --shard i/n) into one results.json and report.html.",
    discussion: """
      The shards must be of one run (same models and checksums, tasks, protocol, settings) and cover every \
      block exactly once. Numbers are recomputed from per-block scores in block order, so they equal the \
      unsharded run's exactly.
      """)

  @Argument(help: "Shard results files (results.json of each shard).")
  var shards: [String]

  @Option(help: "Where the merged results.json and report.html go.")
  var outputDir: String = "reports/merged"

  func run() throws {
    let outputs = try CLIErrors.oneLine { () -> ZeroShotRunner.Outputs in
      let docs = try shards.map { (name: $0, document: try ResultsDocument.load(from: URL(fileURLWithPath: $0))) }
      return try ReportWriter.write(ShardMerge.merge(docs), to: URL(fileURLWithPath: outputDir))
    }
    print(TextTable.render(outputs.document))
    print("")
    print("merged \(shards.count) shards")
    print("wrote \(outputs.resultsJSON.path)")
    print("wrote \(outputs.reportHTML.path)")
  }
}
