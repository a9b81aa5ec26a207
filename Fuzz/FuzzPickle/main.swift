import Foundation
@testable import LTMCheckpoint

/// The restricted unpickler on raw pickle bytes (a checkpoint's data.pkl), storages served as zeros.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  let code = Array(UnsafeRawBufferPointer(start: start, count: count))
  for opaque in [false, true] {
    var unpickler = Unpickler(code, path: "fuzz.pkl", materializeLimit: 1 << 20) { request in
      Data(count: min(max(request.numel, 0), 1 << 16) * request.dtype.byteSize)
    }
    unpickler.opaqueGlobals = opaque
    _ = try? unpickler.load()
  }
  return 0
}
