import Foundation
import FuzzSupport
@testable import LTMHarness
import LTMMetrics

/// A block cache (JSONL lines with checksums), read as a resumed run reads it.
FuzzInput.run { start, count in
  let url = FuzzInput.file(FuzzInput.bytes(start, count), suffix: ".jsonl")
  _ = try? Journal<BlockCache.Key, BlockRecord>.read(url)
  return 0
}
