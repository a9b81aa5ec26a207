import Foundation
import FuzzSupport
@testable import LTMCheckpoint

/// The restricted unpickler on raw pickle bytes (a checkpoint's data.pkl), storages served as zeros.
FuzzInput.run { start, count in
  let code = Array(FuzzInput.bytes(start, count))
  for opaque in [false, true] {
    var unpickler = Unpickler(code, path: "fuzz.pkl", materializeLimit: 1 << 20) { request in
      Data(count: min(max(request.numel, 0), 1 << 16) * request.dtype.byteSize)
    }
    unpickler.opaqueGlobals = opaque
    _ = try? unpickler.load()
  }
  return 0
}
