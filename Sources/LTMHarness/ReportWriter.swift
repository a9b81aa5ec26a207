import Foundation
import LTMReports

/// Writes `results.json` and `report.html` atomically (temp file + rename), so a reader never sees half a report.
public enum ReportWriter {
  public static func write(_ document: ResultsDocument, to directory: URL) throws -> ZeroShotRunner.Outputs {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let json = directory.appendingPathComponent("results.json")
    let html = directory.appendingPathComponent("report.html")
    try document.jsonData().write(to: json, options: .atomic)
    try Data(HTMLReport.render(document).utf8).write(to: html, options: .atomic)
    return ZeroShotRunner.Outputs(document: document, resultsJSON: json, reportHTML: html)
  }
}
