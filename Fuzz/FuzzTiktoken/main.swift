import Foundation
@testable import LTMTokenizer

/// A `*.tiktoken` rank file (base64 token, space, rank per line).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTiktoken(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
  _ = try? VocabularyFormats.model(tiktoken: Array(UnsafeRawBufferPointer(start: start, count: count)), file: "fuzz.tiktoken")
  return 0
}
