import Foundation
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The GPT-2 few-shot adapter against transformers 5.23 on gpt2-tiny (`tools/make_fewshot_gpt2_goldens.py`):
/// loglikelihoods and is_greedy, greedy generation, and beam search (sequences exactly, scores within 1e-4).
final class GPT2FewShotTests: XCTestCase {
  private var model: GPT2Model!
  private var adapter: FewShotLanguageModel!
  private var golden: [String: Any]!

  override func setUpWithError() throws {
    BLAS.threads = 1
    let loaded = try ModelRegistry.load(path: try SharedData.file("fixtures/gpt2-tiny"))
    model = try XCTUnwrap(loaded.model as? GPT2Model)
    adapter = try fewShotModel(loaded, options: ModelRunOptions())
    let url = SharedData.packageRoot.appendingPathComponent("Tests/LTMModelsTests/Fixtures/fewshot-gpt2/expected.json")
    golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
  }

  private func ids(_ any: Any?) throws -> [Int32] { try XCTUnwrap(any as? [Int]).map(Int32.init) }
  private func cases(_ key: String) throws -> [[String: Any]] { try XCTUnwrap(golden[key] as? [[String: Any]]) }

  private func requests() throws -> [LoglikelihoodRequest] {
    try cases("loglikelihoods").map { try LoglikelihoodRequest(context: ids($0["context"]), continuation: ids($0["continuation"])) }
  }

  func testLoglikelihoodsMatchTransformers() throws {
    let cases = try cases("loglikelihoods")
    let got = try adapter.loglikelihoods(requests(), seed: 0, document: 0)
    XCTAssertEqual(got.count, cases.count)
    var greedySeen = false
    for (g, c) in zip(got, cases) {
      let want = try XCTUnwrap(c["logprob"] as? Double)
      XCTAssertEqual(g.logprob, want, accuracy: 1e-5 * max(1, abs(want)))
      XCTAssertEqual(g.isGreedy, try XCTUnwrap(c["is_greedy"] as? Bool))
      XCTAssertEqual(g.tokenCount, try ids(c["continuation"]).count)
      XCTAssertEqual(g.estimator, "exact")
      greedySeen = greedySeen || g.isGreedy == true
    }
    XCTAssertTrue(greedySeen, "the goldens must include an is_greedy = true case")
  }

  /// One padded batch per call gives each request what it gets alone (padding sits after a row's last position).
  func testBatchedEqualsOneByOne() throws {
    let all = try requests()
    let batched = try adapter.loglikelihoods(all, seed: 0, document: 0)
    for (i, r) in all.enumerated() {
      let alone = try adapter.loglikelihoods([r], seed: 0, document: 0)[0]
      XCTAssertEqual(batched[i].logprob, alone.logprob, accuracy: 1e-6 * max(1, abs(alone.logprob)), "request \(i)")
      XCTAssertEqual(batched[i].isGreedy, alone.isGreedy)
    }
  }

  func testGreedyGenerationMatchesTransformers() throws {
    for c in try cases("greedy") {
      let prompt = try ids(c["prompt"]), want = try ids(c["tokens"])
      let settings = FewShotGenerationSettings(
        strategy: .greedy, maxNewTokens: try XCTUnwrap(c["max_new_tokens"] as? Int), stopTokens: [Int32(try XCTUnwrap(c["eos"] as? Int))])
      XCTAssertEqual(try adapter.generate(GenerationRequest(prompt: prompt), settings: settings, seed: 0, document: 0), [want])
    }
  }

  /// A stop token ends the candidate after its first occurrence (kept), whichever of several stop tokens it is.
  func testGreedyStopsAtAnyStopToken() throws {
    let c = try cases("greedy")[0]
    let prompt = try ids(c["prompt"]), full = try ids(c["tokens"])
    let stop = full[6]
    let cut = Array(full.prefix(through: full.firstIndex(of: stop)!))
    let settings = FewShotGenerationSettings(strategy: .greedy, maxNewTokens: full.count, stopTokens: [50256, stop])
    XCTAssertEqual(try adapter.generate(GenerationRequest(prompt: prompt), settings: settings, seed: 0, document: 0), [cut])
    XCTAssertLessThan(cut.count, full.count)
  }

  func testBeamSearchMatchesTransformers() throws {
    for c in try cases("beam") {
      let prompt = try ids(c["prompt"]), eos = Int32(try XCTUnwrap(c["eos"] as? Int))
      let newTokens = try XCTUnwrap(c["max_new_tokens"] as? Int)
      let want = try XCTUnwrap(c["sequences"] as? [[Int]]).map { $0.map(Int32.init) }
      let scores = try XCTUnwrap(c["scores"] as? [Double])
      let got = try model.beamSearch(prompt: prompt, beams: 5, returned: 5, maxNewTokens: newTokens, stopTokens: [eos])
      XCTAssertEqual(got.map(\.tokens), want, "eos \(eos)")
      for (g, s) in zip(got, scores) { XCTAssertEqual(Double(g.score), s, accuracy: 1e-5 * max(1, abs(s))) }
      // Through the adapter: the same sequences, best first, fewer when fewer are asked.
      let settings = FewShotGenerationSettings(strategy: .beam, maxNewTokens: newTokens, beams: 5, candidates: 3, stopTokens: [eos])
      XCTAssertEqual(try adapter.generate(GenerationRequest(prompt: prompt), settings: settings, seed: 0, document: 0), Array(want.prefix(3)))
    }
  }

  /// After `reorder(rows:)` the cache holds what a fresh cache of the reordered prompts holds.
  func testCacheReorderFollowsTheBeams() throws {
    let c = try cases("beam")
    let prompts = try [ids(c[0]["prompt"]), ids(c[1]["prompt"]), ids(c[2]["prompt"])]
    let cache = try model.makeCache(batch: 3, capacity: 40)
    _ = try model.extend(cache, tokens: prompts)
    cache.reorder(rows: [2, 0, 0])
    let next: [[Int32]] = [[11], [12], [13]]
    let got = try model.extend(cache, tokens: next)
    let fresh = try model.makeCache(batch: 3, capacity: 40)
    _ = try model.extend(fresh, tokens: [prompts[2], prompts[0], prompts[0]])
    let want = try model.extend(fresh, tokens: next)
    XCTAssertLessThan(zip(got, want).map { abs($0 - $1) }.max()!, 1e-5)
    XCTAssertEqual(cache.lengths, fresh.lengths)
  }

  func testBadSettingsAreErrors() throws {
    let prompt: [Int32] = [464, 3290]
    func settings(_ s: FewShotGenerationSettings.Strategy, new: Int = 5, beams: Int = 1, candidates: Int = 1) -> FewShotGenerationSettings {
      FewShotGenerationSettings(strategy: s, maxNewTokens: new, beams: beams, candidates: candidates)
    }
    for bad in [settings(.greedy, candidates: 2), settings(.beam, beams: 2, candidates: 3), settings(.sample), settings(.greedy, new: 1023)] {
      XCTAssertThrowsError(try adapter.generate(GenerationRequest(prompt: prompt), settings: bad, seed: 0, document: 0))
    }
    XCTAssertThrowsError(try adapter.loglikelihoods([LoglikelihoodRequest(context: [], continuation: [1])], seed: 0, document: 0))
    XCTAssertThrowsError(try adapter.loglikelihoods([LoglikelihoodRequest(context: [1], continuation: [])], seed: 0, document: 0))
    XCTAssertThrowsError(
      try adapter.loglikelihoods([LoglikelihoodRequest(context: [Int32](repeating: 1, count: 1025), continuation: [2])], seed: 0, document: 0))
  }
}
