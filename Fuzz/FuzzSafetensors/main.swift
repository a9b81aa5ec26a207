import Foundation
import LTMCheckpoint

/// The safetensors header and every tensor's conversion: any input is refused with an error or read, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  guard let archive = try? Safetensors.parse(Data(bytes: start, count: count), path: "fuzz.safetensors") else { return 0 }
  for tensor in archive.tensors.values {
    _ = try? tensor.floats()
    _ = try? tensor.int64s()
  }
  return 0
}
