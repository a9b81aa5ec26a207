import Foundation
import LTMTokenizer
import FuzzSupport

/// `vocab.json` + `merges.txt` (the input split at its first NUL); a tokenizer that loads must encode and decode.
FuzzInput.run { start, count in
  let (vocab, merges) = FuzzInput.split(FuzzInput.bytes(start, count))
  guard let tokenizer = try? GPT2Tokenizer(vocabJSON: vocab, merges: merges) else { return 0 }
  let ids = tokenizer.encode("Hello world, it's 2026!  N<|endoftext|> \u{1F600}")
  _ = tokenizer.decode(ids)
  return 0
}
