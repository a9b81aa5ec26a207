import Dispatch
import Foundation
import XCTest

@testable import LTMTokenizer

/// `encode` is called from `DispatchQueue.concurrentPerform`; threads share one cache and must get the ids a
/// single thread gets, from a cold cache and through shard clearing.
final class ConcurrencyTests: XCTestCase {
  private func checkConcurrentEncoding(cache: BPECache) throws {
    let model = try TokenizerFixtures.standard().model
    var texts: [String] = []
    var expected: [[Int32]] = []
    for file in ["ptb-test", "wikitext-test", "lm1b-heldout-00010"] {
      for example in try TokenizerFixtures.pipelineExamples(file).prefix(1000) {
        texts.append(example.text)
        expected.append(example.ids)
      }
    }
    let tokenizer = GPT2Tokenizer(model: model, cache: cache)
    let workers = 8
    var results = [[[Int32]]](repeating: [], count: workers)
    results.withUnsafeMutableBufferPointer { slots in
      let base = slots.baseAddress!
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        // Each worker walks the texts from a different offset so the same pieces are merged at the same time.
        var mine = [[Int32]](repeating: [], count: texts.count)
        for k in 0..<texts.count {
          let i = (k + w * texts.count / workers) % texts.count
          mine[i] = tokenizer.encode(texts[i])
        }
        base[w] = mine
      }
    }
    for (w, got) in results.enumerated() {
      let wrong = zip(got, expected).filter { $0.0 != $0.1 }.count
      XCTAssertEqual(wrong, 0, "worker \(w)")
    }
  }

  func testConcurrentEncodingFromColdCache() throws {
    try checkConcurrentEncoding(cache: BPECache())
  }

  func testConcurrentEncodingWhileShardsKeepClearing() throws {
    try checkConcurrentEncoding(cache: BPECache(entriesPerShard: 3))
  }
}
