import Foundation
import LTMReports

/// A results.json as `compare`, `merge` and `report` read it: decoded, checked for impossible numbers, then compared
/// with itself, merged when it is a shard, and rendered as text and HTML.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResults(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  guard let document = try? ResultsDocument.decode(from: Data(bytes: start, count: count)),
    document.implausibility() == nil
  else { return 0 }
  let comparison = Comparison.compare(current: document, baseline: document)
  _ = TextTable.render(document)
  _ = HTMLReport.render(document, comparison: comparison)
  if document.run.shard != nil { _ = try? ShardMerge.merge([(name: "fuzz.json", document: document)]) }
  return 0
}
