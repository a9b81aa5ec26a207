import Foundation
import FuzzSupport
import LTMCheckpoint

/// The safetensors header and every tensor's conversion: any input is refused with an error or read, never a trap.
FuzzInput.run { start, count in
  guard let archive = try? Safetensors.parse(Data(FuzzInput.bytes(start, count)), path: "fuzz.safetensors") else { return 0 }
  for tensor in archive.tensors.values {
    _ = try? tensor.floats()
    _ = try? tensor.int64s()
  }
  return 0
}
