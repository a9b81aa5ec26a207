import Dispatch
import LTMTokenizer

/// Tokenizes many examples on several threads; the order of the result is the order of the input.
enum Tokenization {
  static func encodeAll(_ texts: [String], with tokenizer: GPT2Tokenizer, threads: Int) -> [[Int32]] {
    var out = [[Int32]](repeating: [], count: texts.count)
    let chunks = max(1, min(threads, texts.count / 64 + 1))
    let chunkSize = (texts.count + chunks - 1) / max(chunks, 1)
    out.withUnsafeMutableBufferPointer { buf in
      let base = buf.baseAddress
      DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = c * chunkSize
        let hi = min(lo + chunkSize, texts.count)
        guard lo < hi else { return }
        for i in lo..<hi { base?.advanced(by: i).pointee = tokenizer.encode(texts[i]) }
      }
    }
    return out
  }
}
