import Foundation
import FuzzSupport
import LTMReports

/// A results.json as `compare`, `merge` and `report` read it: decoded, checked for impossible numbers, then compared
/// with itself, merged when it is a shard, and rendered as text and HTML.
FuzzInput.run { start, count in
  guard let document = try? ResultsDocument.decode(from: Data(FuzzInput.bytes(start, count))),
    document.implausibility() == nil
  else { return 0 }
  let comparison = Comparison.compare(current: document, baseline: document)
  _ = TextTable.render(document)
  _ = try? HTMLReport.render(document, comparison: comparison)
  if document.run.shard != nil { _ = try? ShardMerge.merge([(name: "fuzz.json", document: document)]) }
  return 0
}
