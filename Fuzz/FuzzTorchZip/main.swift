import Foundation
import LTMCheckpoint
import FuzzSupport

/// A torch.save zip end to end: the archive, the pickle, the storages, the state dict.
FuzzInput.run { start, count in
  let url = FuzzInput.file(FuzzInput.bytes(start, count), suffix: ".pt")
  _ = try? TorchCheckpoint.load(url)
  _ = try? TorchCheckpoint.loadStateDict(url)
  return 0
}
