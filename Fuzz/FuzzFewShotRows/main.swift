import Foundation
import FuzzSupport
@testable import LTMTasks

/// Few-shot data rows: JSONL objects and CSV with quoting.
FuzzInput.run { start, count in
  let text = String(decoding: FuzzInput.bytes(start, count), as: UTF8.self)
  _ = try? FewShotRecords.jsonl(text, file: "fuzz.jsonl")
  _ = try? FewShotRecords.csv(text, columns: ["label", "title", "description"], file: "fuzz.csv")
  return 0
}
