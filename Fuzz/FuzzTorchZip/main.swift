import Foundation
import LTMCheckpoint
import FuzzSupport

/// A torch.save zip end to end: the archive, the pickle, the storages, the state dict.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchZip(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  let url = FuzzInput.file(UnsafeRawBufferPointer(start: start, count: count), suffix: ".pt")
  _ = try? TorchCheckpoint.load(url)
  _ = try? TorchCheckpoint.loadStateDict(url)
  return 0
}
