import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench merge`: shard results of one run into the results the unsharded run would have written.
struct Merge: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Merge the shard results of one run (zero-shot --shard i/n) into one results.json and report.html.",
    discussion: """
      The shards must be of one run (same models and checksums, tasks, protocol, settings) and cover every \
      block exactly once. Numbers are recomputed from per-block scores in block order, so they equal the \
      unsharded run's exactly. A folder argument stands for its shards: the base folder of a sharded run \
      (--output-dir BASE/shard-{shard}) or one shard's output folder; a shard that is missing or has not \
      finished is named in the error.
      """)

  @Argument(help: "Shard results files (results.json of each shard), shard output folders, or a sharded run's base folder.")
  var shards: [String]

  @Option(help: "Where the merged results.json and report.html go.")
  var outputDir: String = "reports/merged"

  func run() throws {
    let outputs = try CLIErrors.oneLine { () -> ZeroShotRunner.Outputs in
      let files = try shards.flatMap { path -> [URL] in
        var isDirectory: ObjCBool = false
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [url] }
        return try RunStatus.read(url).finishedResults()
      }
      let docs = try files.map { (name: $0.path, document: try ResultsDocument.load(from: $0)) }
      return try ReportWriter.write(ShardMerge.merge(docs), to: URL(fileURLWithPath: outputDir))
    }
    print(TextTable.render(outputs.document))
    print("")
    print("merged \(outputs.document.run.mergedShards ?? 0) shards")
    print("wrote \(outputs.resultsJSON.path)")
    print("wrote \(outputs.reportHTML.path)")
  }
}
