import Foundation
import FuzzSupport
@testable import LTMTokenizer

/// A `*.tiktoken` rank file (base64 token, space, rank per line).
FuzzInput.run { start, count in
  _ = try? VocabularyFormats.model(tiktoken: Array(FuzzInput.bytes(start, count)), file: "fuzz.tiktoken")
  return 0
}
