import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// Incremental decoding with the KV cache on gpt2-tiny: every cached step's logits equal the full forward's, greedy
/// decoding equals re-running the full forward and taking the argmax, and the samplers are seeded and exact.
final class GPT2DecodingTests: XCTestCase {
  private var model: GPT2Model!
  private var ids: [Int32] = []

  override func setUpWithError() throws {
    BLAS.threads = 1
    let loaded = try ModelRegistry.load(path: try SharedData.file("fixtures/gpt2-tiny"))
    model = try XCTUnwrap(loaded.model as? GPT2Model)
    let lines = try SharedData.jsonLines("fixtures/zero-shot-pipeline/wikitext-test.jsonl")
    ids = try XCTUnwrap(lines[3]["ids"] as? [Int]).map(Int32.init)
  }

  private func assertRowClose(_ got: ArraySlice<Float>, _ want: ArraySlice<Float>, _ label: String) {
    XCTAssertEqual(got.count, want.count)
    var worst: Float = 0
    for (a, b) in zip(got, want) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
    XCTAssertLessThan(worst, 1e-4, label)
  }

  func testCachedLogitsEqualFullForwardAtEveryStep() throws {
    let v = model.config.vocabSize
    let tokens = Array(ids.prefix(60))
    let full = try model.logits(tokens: tokens)
    let prompt = 12
    let cache = try model.makeCache(batch: 1, capacity: tokens.count)
    var step = try model.extend(cache, tokens: [Array(tokens.prefix(prompt))])
    assertRowClose(step[0..<v], full[((prompt - 1) * v)..<(prompt * v)], "prefill")
    for pos in prompt..<tokens.count {
      step = try model.extend(cache, tokens: [[tokens[pos]]])
      assertRowClose(step[0..<v], full[(pos * v)..<((pos + 1) * v)], "step at position \(pos)")
    }
    XCTAssertEqual(cache.lengths, [tokens.count])
  }

  func testRaggedBatchMatchesSeparateForwards() throws {
    let v = model.config.vocabSize
    let a = Array(ids.prefix(9)), b = Array(ids[20..<37]), c = Array(ids[50..<51])
    let cache = try model.makeCache(batch: 3, capacity: 40)
    var logits = try model.extend(cache, tokens: [a, b, c])
    var seqs = [a, b, c]
    for s in 0..<5 {
      let next: [[Int32]] = [[ids[100 + s]], s % 2 == 0 ? [] : [ids[120 + s]], [ids[140 + s], ids[141 + s]]]
      for r in 0..<3 { seqs[r] += next[r] }
      logits = try model.extend(cache, tokens: next)
      for r in 0..<3 where !next[r].isEmpty {
        let full = try model.logits(tokens: seqs[r])
        let t = seqs[r].count
        assertRowClose(logits[(r * v)..<((r + 1) * v)], full[((t - 1) * v)..<(t * v)], "row \(r) step \(s)")
      }
      XCTAssertTrue(s % 2 == 0 ? logits[v..<(2 * v)].allSatisfy { $0 == 0 } : true, "an idle row returns zeros")
    }
    XCTAssertEqual(cache.lengths, seqs.map(\.count))
  }

  func testGreedyDecodeEqualsArgmaxOfFullForwards() throws {
    let prompts = [Array(ids.prefix(10)), Array(ids[30..<45])]
    let generated = try model.generate(prompts: prompts, newTokens: 12, sampling: .greedy, seeds: [0, 0])
    let v = model.config.vocabSize
    for (r, prompt) in prompts.enumerated() {
      XCTAssertEqual(generated[r].count, 12)
      var seq = prompt
      for t in generated[r] {
        let full = try model.logits(tokens: seq)
        let last = full[((seq.count - 1) * v)..<(seq.count * v)]
        let argmax = last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }! - (seq.count - 1) * v
        XCTAssertEqual(Int(t), argmax, "row \(r) after \(seq.count) tokens")
        seq.append(t)
      }
    }
  }

  func testSamplingIsSeededAndIndependentOfBatching() throws {
    let prompt = Array(ids.prefix(8))
    let settings = SamplingSettings(temperature: 0.9, topK: 50, topP: 0.95)
    let seeds = TokenSampler.rowSeeds(base: 42, count: 3)
    let a = try model.generate(prompts: [prompt, prompt, prompt], newTokens: 10, sampling: settings, seeds: seeds)
    let b = try model.generate(prompts: [prompt, prompt, prompt], newTokens: 10, sampling: settings, seeds: seeds)
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a[0], a[1], "different row seeds give different samples")
    let alone = try model.generate(prompts: [prompt], newTokens: 10, sampling: settings, seeds: [seeds[2]])
    XCTAssertEqual(alone[0], a[2])
    let other = try model.generate(prompts: [prompt], newTokens: 10, sampling: settings, seeds: TokenSampler.rowSeeds(base: 43, count: 1))
    XCTAssertNotEqual(other[0], a[0])
  }

  func testStopTokenEndsARow() throws {
    let prompt = Array(ids.prefix(8))
    let free = try model.generate(prompts: [prompt], newTokens: 6, sampling: .greedy, seeds: [0])[0]
    let stopped = try model.generate(prompts: [prompt], newTokens: 6, sampling: .greedy, seeds: [0], stopToken: free[2])[0]
    XCTAssertEqual(stopped, Array(free.prefix(through: free.firstIndex(of: free[2])!)))
  }
}

/// Exact masks and the draw of `SamplingSettings`/`TokenSampler` on hand-built logits.
final class SamplingTests: XCTestCase {
  // softmax of these at T = 1 is proportional to 8:4:2:1:1 (ln 8, ln 4, ln 2, 0, 0) with a tie at the bottom.
  private let logits: [Float] = [Float(log(2.0)), 0, Float(log(8.0)), Float(log(4.0)), 0]

  private func dist(_ s: SamplingSettings) -> [Double] { logits.withUnsafeBufferPointer { s.distribution($0.baseAddress!, count: 5) } }

  func testTemperatureOnly() {
    let p = dist(SamplingSettings())
    for (a, b) in zip(p, [2.0, 1, 8, 4, 1].map({ $0 / 16 })) { XCTAssertEqual(a, b, accuracy: 1e-7) }
    let hot = dist(SamplingSettings(temperature: 2))  // ∝ sqrt: 1.414:1:2.828:2:1
    let w = [Double(2).squareRoot(), 1, Double(8).squareRoot(), 2, 1]
    let wsum = w.reduce(0, +)
    for (a, b) in zip(hot, w.map({ $0 / wsum })) { XCTAssertEqual(a, b, accuracy: 1e-7) }
  }

  func testTopKMaskKeepsTies() {
    let p = dist(SamplingSettings(topK: 2))
    XCTAssertEqual(p.map { $0 > 0 }, [false, false, true, true, false])
    XCTAssertEqual(p[2], 8.0 / 12, accuracy: 1e-7)
    let tie = dist(SamplingSettings(topK: 4))  // the 4th largest is tied (two zeros): both kept, as HF does
    XCTAssertEqual(tie.map { $0 > 0 }, [true, true, true, true, true])
  }

  func testTopPMask() {
    // Sorted: 8/16, 4/16, 2/16, 1/16, 1/16. p = 0.5: 8/16 alone reaches it. p = 0.7: the mass ahead of 4/16 is 0.5
    // < 0.7, so it is kept; ahead of 2/16 is 0.75 ≥ 0.7, so it is not.
    XCTAssertEqual(dist(SamplingSettings(topP: 0.5)).map { $0 > 0 }, [false, false, true, false, false])
    let p = dist(SamplingSettings(topP: 0.7))
    XCTAssertEqual(p.map { $0 > 0 }, [false, false, true, true, false])
    XCTAssertEqual(p[2], 8.0 / 12, accuracy: 1e-7)
    XCTAssertEqual(p[3], 4.0 / 12, accuracy: 1e-7)
    // top-k then top-p on the renormalised survivors: k = 3 leaves 8:4:2; p = 0.8 needs 8/14 + 4/14 = 0.857.
    XCTAssertEqual(dist(SamplingSettings(topK: 3, topP: 0.8)).map { $0 > 0 }, [false, false, true, true, false])
  }

  func testTopPAgreesWithAFullSortOnALargeVocabulary() {
    var rng = SplitMix64(seed: 11)
    let logits = (0..<5000).map { _ in Float(rng.nextFloat() * 30 - 15) }
    for p in [0.3, 0.9, 0.99] {
      let got = logits.withUnsafeBufferPointer { SamplingSettings(topP: p).distribution($0.baseAddress!, count: 5000) }
      let full = logits.withUnsafeBufferPointer { SamplingSettings().distribution($0.baseAddress!, count: 5000) }
      let order = full.indices.sorted { full[$0] > full[$1] || (full[$0] == full[$1] && $0 < $1) }
      var ahead = 0.0
      var keep = Set<Int>()
      for i in order where ahead < p {
        keep.insert(i)
        ahead += full[i]
      }
      XCTAssertEqual(Set(got.indices.filter { got[$0] > 0 }), keep, "p \(p)")
      XCTAssertEqual(got.reduce(0, +), 1, accuracy: 1e-12)
    }
  }

  func testGreedyTakesTheFirstMaximum() throws {
    var s = try TokenSampler(settings: .greedy, seeds: [0])
    let tied: [Float] = [1, 3, 3, 0]
    XCTAssertEqual(tied.withUnsafeBufferPointer { s.sample($0.baseAddress!, vocab: 4, row: 0) }, 1)
  }

  func testDrawFrequenciesFollowTheDistribution() throws {
    var s = try TokenSampler(settings: SamplingSettings(topK: 4), seeds: [2024])
    var counts = [Int](repeating: 0, count: 5)
    let n = 40_000
    logits.withUnsafeBufferPointer { lb in
      for _ in 0..<n { counts[Int(s.sample(lb.baseAddress!, vocab: 5, row: 0))] += 1 }
    }
    for (i, want) in [2.0, 1, 8, 4, 1].map({ $0 / 16 }).enumerated() {
      let got = Double(counts[i]) / Double(n)
      XCTAssertEqual(got, want, accuracy: 4 * (want * (1 - want) / Double(n)).squareRoot() + 1e-3, "token \(i)")
    }
    var masked = try TokenSampler(settings: SamplingSettings(topP: 0.7), seeds: [7])
    logits.withUnsafeBufferPointer { lb in
      for _ in 0..<2000 { XCTAssertTrue([2, 3].contains(masked.sample(lb.baseAddress!, vocab: 5, row: 0))) }
    }
  }

  func testKthLargestAgreesWithSorting() {
    var rng = SplitMix64(seed: 9)
    for n in [1, 5, 33, 200, 5000] {
      let v = (0..<n).map { _ in Double(rng.next() % 50) }  // many ties
      let sorted = v.sorted(by: >)
      for k in [1, 2, n / 2 + 1, n] where k >= 1 && k <= n {
        XCTAssertEqual(SamplingSettings.kthLargest(v, k), sorted[k - 1], "n \(n) k \(k)")
      }
    }
  }

  func testInvalidSettingsAreRefused() {
    XCTAssertThrowsError(try SamplingSettings(temperature: 0).validate())
    XCTAssertThrowsError(try SamplingSettings(topK: 0).validate())
    XCTAssertThrowsError(try SamplingSettings(topP: 1.5).validate())
  }
}
