import Foundation
import FuzzSupport
@testable import LTMHarness

/// A block cache (JSONL lines with checksums), read as a resumed run reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCacheLine(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  let url = FuzzInput.file(UnsafeRawBufferPointer(start: start, count: count), suffix: ".jsonl")
  _ = try? Journal<BlockCache.Key, BlockRecord>.read(url)
  return 0
}
