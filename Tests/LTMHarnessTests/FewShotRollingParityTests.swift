import Foundation
import LTMModels
import LTMReports
import LTMTasks
import LTMTestSupport
import LTMTokenizer
import XCTest

@testable import LTMHarness

/// lm-eval's `wikitext` task (rolling log-likelihood, #15) against lm-evaluation-harness itself
/// (`tools/make_lmeval_loglikelihood_goldens.py`: lm-eval 0.4.13's own task, `HFLM` on gpt2-tiny, the first 8 pages of
/// WikiText-2 raw test): every page's log-likelihood, its words and bytes exactly, and the word perplexity, byte
/// perplexity and bits per byte lm-eval reports within 1e-6 relative. lm-eval sums each window's log-probabilities in
/// float32 (its page values are float32 numbers: -15414.212890625), whose rounding on a random model's 10⁴–10⁵-nat
/// pages is 10⁻³ nats; so a page agrees within 1e-4 nats or 1e-7 relative, whichever is larger (float32 holds 6e-8).
final class FewShotRollingParityTests: XCTestCase {
  func testWikitextEqualsLMEvalPageByPage() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/lmeval-wikitext.json")
    let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    let documents = try XCTUnwrap(golden["documents"] as? [[String: Any]])
    let limit = try XCTUnwrap(golden["limit"] as? Int)
    XCTAssertEqual(documents.count, limit)

    let task = try FewShotCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot")).task(named: "wikitext")
    XCTAssertEqual(try task.documents(split: task.evalSplit, dataDirectory: SharedData.data).count, golden["pages_in_split"] as? Int)

    let output = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-rolling-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: output) }
    let config = FewShotConfiguration(
      modelPaths: [try SharedData.file("fixtures/gpt2-tiny")], taskNames: ["wikitext"], limit: limit, dataDirectory: SharedData.data,
      outputDirectory: output, tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot"), threads: 2)
    let out = try FewShotRunner(configuration: config).run()
    let lines = try String(contentsOf: out.samples, encoding: .utf8).split(separator: "\n")
      .map { try JSONDecoder().decode(FewShotSample.self, from: Data($0.utf8)) }
    XCTAssertEqual(lines.count, limit)
    for (line, expected) in zip(lines, documents) {
      XCTAssertEqual(line.documentID, expected["doc_id"] as? Int)
      let ll = try XCTUnwrap(line.logprobs?.first), reference = try XCTUnwrap(expected["loglikelihood"] as? Double)
      XCTAssertEqual(ll, reference, accuracy: max(1e-4, 1e-7 * abs(reference)), "page \(line.documentID)")
      XCTAssertEqual(line.words, expected["words"] as? Int, "page \(line.documentID) words")
      XCTAssertEqual(line.bytes, expected["bytes"] as? Int, "page \(line.documentID) bytes")
    }
    let result = try XCTUnwrap(out.document.fewshot?.results.first)
    for name in ["word_perplexity", "byte_perplexity", "bits_per_byte"] {
      let value = try XCTUnwrap(result.metrics.first { $0.name == name }?.value, name)
      let reference = try XCTUnwrap(golden[name] as? Double, name)
      XCTAssertEqual(value, reference, accuracy: 1e-6 * reference, name)
    }
    XCTAssertEqual(result.metrics.first?.bound, "exact")
  }

  /// Any zero-shot dataset can be scored this way (#15): a rolling task over PTB's sentences with the zero-shot reader
  /// and detokenizer, from a user's task file. Each short sentence is one window after the prefix token, so its
  /// log-likelihood is the model's on [EOS] + sentence, and token perplexity is exp(−Σ ll / Σ tokens).
  func testAnyZeroShotDatasetRunsAsRollingDocuments() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-rolling-ptb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    let yaml = """
      name: ptb_rolling
      version: 1
      format: ptb_lines
      splits: {validation: [ptb/ptb.valid.txt]}
      eval_split: validation
      output_type: loglikelihood_rolling
      doc_to_target: "{{text}}"
      detokenizer: ptb
      metrics: [token_perplexity, word_perplexity, bits_per_byte]
      """
    try yaml.write(to: dir.appendingPathComponent("ptb_rolling.yaml"), atomically: true, encoding: .utf8)
    let config = FewShotConfiguration(
      modelPaths: [try SharedData.file("fixtures/gpt2-tiny")], taskNames: [dir.appendingPathComponent("ptb_rolling.yaml").path], limit: 5,
      dataDirectory: SharedData.data, outputDirectory: dir.appendingPathComponent("out"),
      tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot"), threads: 2)
    let out = try FewShotRunner(configuration: config).run()
    let lines = try String(contentsOf: out.samples, encoding: .utf8).split(separator: "\n")
      .map { try JSONDecoder().decode(FewShotSample.self, from: Data($0.utf8)) }
    XCTAssertEqual(lines.map(\.windows), Array(repeating: 1, count: 5))
    XCTAssertEqual(lines[0].gold, "consumers may want to move their telephones a little closer to the tv set")
    let ll = lines.reduce(0) { $0 + ($1.logprobs?.first ?? 0) }, tokens = lines.reduce(0) { $0 + ($1.tokens ?? 0) }
    let result = try XCTUnwrap(out.document.fewshot?.results.first)
    XCTAssertEqual(try XCTUnwrap(result.metrics.first { $0.name == "token_perplexity" }?.value), exp(-ll / Double(tokens)), accuracy: 1e-9 * exp(-ll / Double(tokens)))
  }

  /// Other families on a rolling task. MDLM's windows fit its `model_length` whole (context and continuation are one
  /// sequence to it), start from its BOS, `<|endoftext|>` (its 50257 is the mask), condition on one token each and
  /// count −NELBO of the window (a lower bound on the continuation's log-likelihood): upper-bound perplexities. LTM scores every window whole by its bound: each window conditions on one
  /// token, z is fitted on the window as the zero-shot protocol fits a block, and the window's log-likelihood is
  /// −NELBO, exactly the zero-shot fit's number for that block; the perplexities are labelled upper bounds.
  func testMDLMAndLTMRunRollingWithTheirLabels() throws {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-rolling-families-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: output) }
    func run(_ model: String) throws -> (FewShotResult, [FewShotSample]) {
      let config = FewShotConfiguration(
        modelPaths: [try SharedData.file(model)], taskNames: ["wikitext"], limit: 1, dataDirectory: SharedData.data,
        outputDirectory: output, tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot"), threads: 2,
        modelOptions: ModelRunOptions(
          latent: LatentInferenceOptions(steps: model.contains("ltm") ? [2] : nil),
          diffusionBound: DiffusionBoundOptions(timeSamples: model.contains("mdlm") ? 1 : nil)))
      let out = try FewShotRunner(configuration: config).run()
      let lines = try String(contentsOf: out.samples, encoding: .utf8).split(separator: "\n")
        .map { try JSONDecoder().decode(FewShotSample.self, from: Data($0.utf8)) }
      return (try XCTUnwrap(out.document.fewshot?.results.first), lines)
    }
    let (mdlm, mdlmLines) = try run("fixtures/mdlm-gpt2vocab")
    XCTAssertEqual(mdlm.estimator, "mdlm-window-elbo")
    XCTAssertTrue(mdlm.metrics.allSatisfy { $0.bound == "upper" && $0.value.isFinite })
    XCTAssertGreaterThan(mdlmLines[0].windows ?? 0, 1, "the first page is longer than one window")

    let (ltm, ltmLines) = try run("fixtures/ltm-gpt2vocab/ckpt.pt")
    XCTAssertEqual(ltm.estimator, "ltm-window-elbo")
    XCTAssertTrue(ltm.metrics.allSatisfy { $0.bound == "upper" && $0.value.isFinite })
    // The first window, rebuilt: one context token, then the page's first 1024 tokens; its −NELBO under the same fit.
    let loaded = try ModelRegistry.load(path: try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt"))
    let model = try XCTUnwrap(loaded.model as? LTMModel)
    let entry = try FewShotRunner.loadModel(
      path: try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt"), index: 0, taken: [],
      configuration: FewShotConfiguration(
        modelPaths: [], taskNames: [], dataDirectory: SharedData.data, outputDirectory: output,
        tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot"), modelOptions: ModelRunOptions(latent: LatentInferenceOptions(steps: [2]))))
    let encoder = FewShotEncoder(
      tokenizer: entry.tokenizer, descriptor: entry.model.descriptor, emptyContextToken: entry.model.emptyContextToken,
      requestTokenLimit: entry.model.requestTokenLimit)
    let windows = try encoder.rollingWindows(try XCTUnwrap(ltmLines[0].continuations?.first), contextTokens: entry.model.rollingContextTokens)
    XCTAssertTrue(windows.allSatisfy { $0.context.count == 1 })
    XCTAssertEqual(ltmLines[0].windows, windows.count)
    let first = windows[0].context + windows[0].continuation
    var options = try model.options(steps: 2, learningRate: nil, initialization: .official, freshSamples: 0)
    options.seed = 0
    let bound = try model.evaluate(blocks: [first], blockIndices: [LTMModel.contentKey(first)], options: options)[0]
    let scores = try entry.model.loglikelihoods([windows[0]], seed: 0, document: 0)
    XCTAssertEqual(scores[0].logprob, -bound.nelbo)
    XCTAssertEqual(scores[0].isLowerBound, true)
  }

  /// A JSONL dataset with the article as a list of paragraphs (scientific_papers) runs rolling too: the list is its
  /// lines joined with "\n", the text the zero-shot pubmed task reads, detokenized the same way.
  func testScientificPapersRunAsRollingDocuments() throws {
    let fixtures = SharedData.packageRoot.appendingPathComponent("Tests/LTMTasksTests/Fixtures/scientific-papers")
    let yaml = """
      name: pubmed_rolling
      version: 1
      format: jsonl
      splits: {validation: [pubmed-dataset/val.txt]}
      eval_split: validation
      output_type: loglikelihood_rolling
      doc_to_target: "{{article_text}}"
      detokenizer: scientific_papers
      metrics: [word_perplexity]
      """
    let task = try FewShotTask.parse(yaml: yaml, file: "pubmed_rolling.yaml")
    let docs = try task.documents(split: "validation", dataDirectory: fixtures)
    let zeroShot = try TaskCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks")).task(named: "pubmed")
    let examples = try zeroShot.examples(split: "validation", dataDirectory: fixtures)
    XCTAssertEqual(docs.count, examples.count)
    XCTAssertTrue(examples.contains(""), "the fixture's empty article")
    for (doc, example) in zip(docs, examples) {
      XCTAssertEqual(try task.promptText(for: doc, shots: [], family: "gpt2").continuations, [example])
    }
  }

  /// lm-eval's windows on a document longer than the context: the first predicts `contextLength` tokens from the
  /// prefix token, each later one the next block from the one token before it, the last a shorter block with the
  /// longest context that fits; every token is predicted exactly once.
  func testRollingWindowsCoverEveryTokenOnce() throws {
    let tokenizer = try GPT2Tokenizer.load(directory: SharedData.file("data/gpt2"))
    let encoder = FewShotEncoder(tokenizer: tokenizer, descriptor: ModelDescriptor(family: "gpt2", parameterCount: 0, vocabSize: 50257, contextLength: 8, bound: .exact))
    let text = (0..<20).map { "w\($0)" }.joined(separator: " ")
    let tokens = encoder.encode(text)
    let windows = try encoder.rollingWindows(text)
    XCTAssertEqual(windows.flatMap(\.continuation), tokens)
    XCTAssertEqual(windows[0].context, [50256])
    XCTAssertEqual(windows[0].continuation.count, 8)
    for w in windows { XCTAssertLessThanOrEqual(w.context.count + w.continuation.count - 1, 8) }
    for w in windows.dropFirst().dropLast() { XCTAssertEqual(w.context.count, 1) }
    if let last = windows.last, windows.count > 1 { XCTAssertEqual(last.context.count + last.continuation.count, 9) }
    XCTAssertEqual(try encoder.rollingWindows(""), [], "an empty document has no windows (log-likelihood 0, as lm-eval)")
    // A family that scores windows whole (LTM) gets one context token per window, the last one's included.
    let single = try encoder.rollingWindows(text, contextTokens: 1)
    XCTAssertEqual(single.flatMap(\.continuation), tokens)
    XCTAssertTrue(single.allSatisfy { $0.context.count == 1 })
  }
}
