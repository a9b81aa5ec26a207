import Foundation
import LTMReports

/// Writes `results.json` and `report.html` atomically (temp file + rename), so a reader never sees half a report.
public enum ReportWriter {
  /// `published`: the papers' tables, shown beside the run's rows of the same protocol (`PublishedTable`).
  public static func write(
    _ document: ResultsDocument, comparison: Comparison? = nil, published: [PublishedTable] = [], to directory: URL
  ) throws -> ZeroShotRunner.Outputs {
    try OutputFolder.prepare(directory)
    let json = directory.appendingPathComponent("results.json")
    let html = directory.appendingPathComponent("report.html")
    try document.jsonData().write(to: json, options: .atomic)
    try writeHTML(document, comparison: comparison, published: published, to: html)
    return ZeroShotRunner.Outputs(document: document, resultsJSON: json, reportHTML: html, comparison: comparison)
  }

  /// Renders the report page alone (`ltm-bench report`).
  public static func writeHTML(_ document: ResultsDocument, comparison: Comparison?, published: [PublishedTable] = [], to url: URL) throws {
    try OutputFolder.prepare(url.deletingLastPathComponent(), option: "--output")
    try Data(HTMLReport.render(document, comparison: comparison, published: published).utf8).write(to: url, options: .atomic)
  }

  /// A few-shot run in lm-evaluation-harness's results layout, one file per model under `lm-eval/` (`LMEvalResults`).
  public static func writeLMEval(_ document: ResultsDocument, to directory: URL) throws -> [URL] {
    let folder = directory.appendingPathComponent("lm-eval")
    try OutputFolder.prepare(folder)
    return try LMEvalResults.documents(document).sorted { $0.key < $1.key }.map { model, object in
      let url = folder.appendingPathComponent(LMEvalResults.fileName(model: model))
      try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]).write(to: url, options: .atomic)
      return url
    }
  }

  /// Writes one results file (a baseline) atomically.
  public static func writeJSON(_ document: ResultsDocument, to url: URL) throws {
    try OutputFolder.prepare(url.deletingLastPathComponent(), option: "--output")
    try document.jsonData().write(to: url, options: .atomic)
  }
}
