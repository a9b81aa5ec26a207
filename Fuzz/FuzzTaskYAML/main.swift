import Foundation
@testable import LTMTasks

/// A zero-shot task definition (YAML).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTaskYAML(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  _ = try? TaskDefinition.parse(yaml: String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self), file: "fuzz.yaml")
  return 0
}
