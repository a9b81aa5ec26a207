import Foundation
@testable import LTMTasks

/// Few-shot data rows: JSONL objects and CSV with quoting.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFewShotRows(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
  _ = try? FewShotRecords.jsonl(text, file: "fuzz.jsonl")
  _ = try? FewShotRecords.csv(text, columns: ["label", "title", "description"], file: "fuzz.csv")
  return 0
}
