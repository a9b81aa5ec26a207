import Foundation
import LTMMauve

/// A `.npy` feature file: header, dtype, shape and data size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  _ = try? NPYFile.parse(Data(bytes: start, count: count), path: "fuzz.npy")
  return 0
}
