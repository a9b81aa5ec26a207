import Foundation
@testable import LTMTasks

/// A few-shot task definition (YAML, templates, filters, preprocess steps).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFewShotTask(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  _ = try? FewShotTask.parse(yaml: String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self), file: "fuzz.yaml")
  return 0
}
