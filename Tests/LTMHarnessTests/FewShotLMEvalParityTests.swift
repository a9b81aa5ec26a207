import Foundation
import LTMMetrics
import LTMModels
import LTMTasks
import LTMTestSupport
import LTMTokenizer
import XCTest
@testable import LTMHarness

/// The few-shot tasks that follow lm-eval, against lm-evaluation-harness itself (`tools/make_lmeval_prompt_goldens.py`
/// ran lm-eval's own task YAML, `fewshot_context`, `construct_requests` and `_encode_pair` on the same documents and
/// shots): the prompt string byte for byte, the request's continuation or stop strings, and the (context,
/// continuation) token split exactly.
final class FewShotLMEvalParityTests: XCTestCase {
  func testPromptsRequestsAndTokensEqualLMEval() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/lmeval-prompts.json")
    let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    let cases = try XCTUnwrap(golden["cases"] as? [[String: Any]])
    XCTAssertEqual(Set(cases.compactMap { $0["task"] as? String }), ["lambada_openai", "arithmetic_2da", "gsm8k"])
    let catalog = try FewShotCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot"))
    let tokenizer = try GPT2Tokenizer.load(directory: SharedData.file("data/gpt2"))
    let encoder = FewShotEncoder(
      tokenizer: tokenizer, descriptor: ModelDescriptor(family: "gpt2", parameterCount: 0, vocabSize: 50257, contextLength: 1024, bound: .exact))
    for c in cases {
      let name = try XCTUnwrap(c["task"] as? String), index = try XCTUnwrap(c["document"] as? Int)
      let label = "\(name) document \(index), shots \(c["shots"] ?? "")"
      let task = try catalog.task(named: name)
      let documents = try task.documents(split: task.evalSplit, dataDirectory: SharedData.data)
      let pool = try XCTUnwrap(c["same_split"] as? Bool)
        ? documents : try task.documents(split: try XCTUnwrap(task.fewshotSplit), dataDirectory: SharedData.data)
      let shots = try XCTUnwrap(c["shots"] as? [Int]).map { pool[$0] }
      let text = try task.promptText(for: documents[index], shots: shots, family: "gpt2")
      assertSameText(text.context, try XCTUnwrap(c["context"] as? String), "\(label): fewshot_context")
      if let continuation = c["continuation"] as? String {
        assertSameText(text.context, try XCTUnwrap(c["request_context"] as? String), "\(label): request context")
        XCTAssertEqual(text.continuations, [continuation], label)
        let (request, cut) = try encoder.pair(context: text.context, continuation: continuation)
        XCTAssertEqual(cut, 0, label)
        XCTAssertEqual(request.context.map(Int.init), try XCTUnwrap(c["context_tokens"] as? [Int]), "\(label): context tokens")
        XCTAssertEqual(request.continuation.map(Int.init), try XCTUnwrap(c["continuation_tokens"] as? [Int]), "\(label): continuation tokens")
      } else {
        assertSameText(text.generationPrompt, try XCTUnwrap(c["request_context"] as? String), "\(label): generation prompt")
        XCTAssertEqual(task.format(forFamily: "gpt2").generation.until, try XCTUnwrap(c["until"] as? [String]), label)
      }
    }
  }

  /// Equal strings, and where they are not, the first differing position with its surroundings.
  private func assertSameText(_ got: String, _ want: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    guard got != want else { return }
    let a = Array(got.unicodeScalars), b = Array(want.unicodeScalars)
    let i = zip(a, b).prefix { $0 == $1 }.count
    func around(_ s: [Unicode.Scalar]) -> String { String(String.UnicodeScalarView(s[max(0, i - 30)..<min(s.count, i + 30)])).debugDescription }
    XCTFail("\(message): differs at scalar \(i): ours \(around(a)) vs lm-eval \(around(b))", file: file, line: line)
  }

  /// lambada_openai at 0 and 2 shots, log-likelihoods and greedy flags against lm-eval's `HFLM` on gpt2-tiny
  /// (`tools/make_lmeval_loglikelihood_goldens.py`): with the demonstrations pinned (document i's shots are documents
  /// i + 7 and i + 13) both tools build the same prompt byte for byte, every document's log-likelihood agrees within
  /// 1e-4 nats or 1e-7 relative (lm-eval sums in float32), every `is_greedy` is equal, and the perplexity and accuracy
  /// lm-eval aggregates agree within 1e-6 relative.
  func testLambadaLogLikelihoodsEqualLMEvalAtZeroAndTwoShots() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/lmeval-lambada.json")
    let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    let byShots = try XCTUnwrap(golden["by_shots"] as? [String: [String: Any]])
    XCTAssertEqual(Set(byShots.keys), ["0", "2"])
    let task = try FewShotCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot")).task(named: "lambada_openai")
    let documents = try task.documents(split: task.evalSplit, dataDirectory: SharedData.data)
    let config = FewShotConfiguration(
      modelPaths: [], taskNames: [], dataDirectory: SharedData.data, outputDirectory: FileManager.default.temporaryDirectory,
      tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot"))
    let entry = try FewShotRunner.loadModel(path: try SharedData.file("fixtures/gpt2-tiny"), index: 0, taken: [], configuration: config)
    let encoder = FewShotEncoder(tokenizer: entry.tokenizer, descriptor: entry.model.descriptor)
    for (k, expected) in byShots.sorted(by: { $0.key < $1.key }) {
      let cases = try XCTUnwrap(expected["cases"] as? [[String: Any]])
      XCTAssertEqual(cases.count, 24)
      var requests: [LoglikelihoodRequest] = []
      for c in cases {
        let i = try XCTUnwrap(c["document"] as? Int)
        let text = try task.promptText(for: documents[i], shots: try XCTUnwrap(c["shots"] as? [Int]).map { documents[$0] }, family: "gpt2")
        assertSameText(text.context, try XCTUnwrap(c["context"] as? String), "\(k) shots, document \(i): context")
        requests.append(try encoder.pair(context: text.context, continuation: text.continuations[0]).request)
      }
      let scores = try entry.model.loglikelihoods(requests, seed: 0, document: 0)
      for (score, c) in zip(scores, cases) {
        let reference = try XCTUnwrap(c["loglikelihood"] as? Double)
        XCTAssertEqual(score.logprob, reference, accuracy: max(1e-4, 1e-7 * abs(reference)), "\(k) shots, document \(c["document"] ?? "")")
        XCTAssertEqual(score.isGreedy, c["is_greedy"] as? Bool, "\(k) shots, document \(c["document"] ?? "")")
      }
      let ppl = FewShotStatistics.perplexity(logLikelihoods: scores.map(\.logprob))
      let referencePPL = try XCTUnwrap(expected["perplexity"] as? Double)
      XCTAssertEqual(ppl, referencePPL, accuracy: 1e-6 * referencePPL, "\(k) shots: perplexity")
      XCTAssertEqual(Double(scores.filter { $0.isGreedy == true }.count) / Double(scores.count), expected["acc"] as? Double, "\(k) shots: acc")
    }
  }
}
