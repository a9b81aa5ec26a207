import LTMReports
import XCTest

/// The merged results of a sharded run equal the unsharded run's, field for field; only the wall time differs.
func XCTAssertSameResults(_ merged: ResultsDocument, _ whole: ResultsDocument, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(merged.results.count, whole.results.count, "result rows", file: file, line: line)
  XCTAssertEqual(merged.tasks, whole.tasks, file: file, line: line)
  for (m, w) in zip(merged.results, whole.results) {
    var (a, b) = (m, w)
    (a.wallSeconds, b.wallSeconds) = (0, 0)
    XCTAssertEqual(a, b, "\(m.model) on \(m.task): merged \(m.ppl) vs unsharded \(w.ppl)", file: file, line: line)
  }
}
