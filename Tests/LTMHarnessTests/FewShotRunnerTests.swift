import Foundation
import LTMCheckpoint
import LTMModels
import LTMReports
import LTMTestSupport
import LTMTokenizer
import XCTest

@testable import LTMHarness

/// A deterministic stand-in for the adapters (built on another branch): scores and candidates are functions of
/// the request tokens, and every call is counted, so tests can tell computed documents from cached ones.
final class FakeFewShotModel: FewShotLanguageModel {
  let descriptor: ModelDescriptor
  var settingsSummary: [String: String] { ["fake": "1"] }
  private(set) var calls = 0
  private(set) var generationRequests: [GenerationRequest] = []
  private(set) var generationSettings: [FewShotGenerationSettings] = []
  /// The document whose log-likelihoods come out NaN (an overflowing model), if any.
  var nanDocument: Int?

  init(family: String = "gpt2", vocabSize: Int = 50257, contextLength: Int = 1024, bound: BoundKind = .exact) {
    descriptor = ModelDescriptor(family: family, parameterCount: 1, vocabSize: vocabSize, contextLength: contextLength, bound: bound)
  }

  func loglikelihoods(_ requests: [LoglikelihoodRequest], seed: UInt64, document: Int) throws -> [ContinuationScore] {
    calls += 1
    return requests.map { r in
      let s = r.continuation.reduce(0) { $0 + Int($1) } + Int(r.context.last ?? 0)
      return ContinuationScore(
        logprob: document == nanDocument ? .nan : -Double(s % 97) / 10 - 0.25 * Double(r.continuation.count),
        isGreedy: descriptor.bound == .upper ? nil : s % 3 == 0, tokenCount: r.continuation.count,
        estimator: descriptor.bound == .upper ? "fake-bound" : "exact")
    }
  }

  /// Candidate i: the prompt's last (i + 2) tokens, then " 18" (so pass@k hits GSM8K golds equal to 18).
  func generate(_ request: GenerationRequest, settings: FewShotGenerationSettings, seed: UInt64, document: Int) throws -> [[Int32]] {
    calls += 1
    generationRequests.append(request)
    generationSettings.append(settings)
    return (0..<settings.candidates).map { i in Array(request.prompt.suffix(i + 2)) + (i == 1 ? [1248] : [1105]) }
  }
}

final class FewShotRunnerTests: XCTestCase {
  static let tokenizer: GPT2Tokenizer = try! GPT2Tokenizer.load(directory: SharedData.file("data/gpt2"))

  func tempDir() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-fewshot-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
  }

  func config(_ out: URL, tasks: [String], shots: [Int]?, limit: Int?, shard: ShardInfo? = nil, models: Int = 1) throws -> FewShotConfiguration {
    FewShotConfiguration(
      modelPaths: Array(repeating: try SharedData.file("fixtures/gpt2-tiny"), count: models), taskNames: tasks, shots: shots,
      limit: limit, dataDirectory: try SharedData.file("data"), outputDirectory: out,
      tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot"), shard: shard, bootstrapIterations: 200)
  }

  func runner(_ config: FewShotConfiguration, _ fakes: [FakeFewShotModel]) -> FewShotRunner {
    FewShotRunner(configuration: config, modelSource: source(fakes))
  }

  /// Model `index` of a run is `fakes[index]`.
  func source(_ fakes: [FakeFewShotModel]) -> FewShotRunner.ModelSource {
    { _, index, _ in
      let fake = fakes[index]
      return FewShotModelEntry(
        model: fake, tokenizer: Self.tokenizer,
        info: ModelInfo(id: "fake-\(fake.descriptor.family)-\(index)", path: "-", family: fake.descriptor.family, parameters: 1, bound: fake.descriptor.bound.rawValue, checkpointFiles: []),
        cacheKey: "fake-\(index)")
    }
  }

  func samples(_ url: URL) throws -> [FewShotSample] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { try JSONDecoder().decode(FewShotSample.self, from: Data($0.utf8)) }
  }

  func testRunWritesResultsSamplesAndReportForEveryOutputType() throws {
    let out = tempDir()
    let fake = FakeFewShotModel()
    let tasks = ["arithmetic_2da", "lambada_openai", "gsm8k_ltm", "gsm8k", "ag_news_topic"]
    let outputs = try runner(try config(out, tasks: tasks, shots: [0, 2], limit: 3), [fake]).run()
    let section = try XCTUnwrap(outputs.document.fewshot)
    XCTAssertEqual(section.results.count, tasks.count * 2)
    XCTAssertEqual(outputs.computedDocuments, tasks.count * 2 * 3)
    XCTAssertEqual(fake.calls, tasks.count * 2 * 3, "one adapter call per document")

    // The written file decodes to the same document.
    let decoded = try ResultsDocument.decode(from: Data(contentsOf: outputs.resultsJSON))
    XCTAssertEqual(decoded, outputs.document)
    XCTAssertEqual(decoded.command, "fewshot")

    let lines = try samples(outputs.samples)
    // gsm8k_ltm: 5 beams per document; gsm8k: 1 candidate; the others one line per document.
    XCTAssertEqual(lines.count, 2 * 3 * (1 + 1 + 5 + 1 + 1))
    for line in lines {
      XCTAssertEqual(line.promptSHA256, Digests.sha256(string: line.prompt))
      XCTAssertFalse(line.shotIDs.contains(line.documentID) && line.task != "gsm8k_ltm" && line.task != "gsm8k", "a single-split task never shows a document its own answer")
      XCTAssertEqual(line.shotIDs.count, line.shots)
    }

    // Metrics agree with the sample log they summarise.
    func result(_ task: String, _ shots: Int) throws -> FewShotResult {
      try XCTUnwrap(section.results.first { $0.task == task && $0.shots == shots })
    }
    let lambada = try result("lambada_openai", 2)
    let ll = lines.filter { $0.task == "lambada_openai" && $0.shots == 2 }.map { $0.logprobs![0] }
    let ppl = try XCTUnwrap(lambada.metrics.first { $0.name == "perplexity" })
    XCTAssertEqual(ppl.value, exp(-ll.reduce(0, +) / Double(ll.count)), accuracy: 1e-12)
    XCTAssertEqual(ppl.bound, "exact")
    XCTAssertTrue(ppl.stderrMethod.hasPrefix("bootstrap (200 resamples"))
    let acc = try XCTUnwrap(lambada.metrics.first { $0.name == "acc" })
    let greedy = lines.filter { $0.task == "lambada_openai" && $0.shots == 2 }.map { $0.correct! ? 1.0 : 0.0 }
    XCTAssertEqual(acc.value, greedy.reduce(0, +) / 3, accuracy: 1e-12)

    let gsm = try result("gsm8k_ltm", 0)
    XCTAssertEqual(gsm.metrics.map(\.name), ["pass@5", "pass@1 (unbiased)"])
    XCTAssertEqual(gsm.settings["strategy"], "beam")
    let gsmLines = lines.filter { $0.task == "gsm8k_ltm" && $0.shots == 0 }
    // Candidate 1 ends in " 18": document 0's gold (Janet's ducks, #### 18) passes.
    XCTAssertEqual(gsmLines.filter { $0.documentID == 0 && $0.correct == true }.map(\.candidate), [1])
    let cot = try result("gsm8k", 2)
    XCTAssertEqual(cot.metrics.map(\.name), ["exact_match,strict-match", "exact_match,flexible-extract"])
    let ag = try result("ag_news_topic", 0)
    XCTAssertEqual(ag.metrics.map(\.name), ["acc", "acc_norm_chars"])
    XCTAssertTrue(ag.partialReasons.contains("first 3 of 7600 documents (--limit)"))
    XCTAssertFalse(ag.complete)

    let html = try String(contentsOf: outputs.reportHTML, encoding: .utf8)
    XCTAssertTrue(html.contains("<section id=\"fewshot\">"))
    XCTAssertEqual(html.components(separatedBy: "<figcaption>").count - 1, tasks.count, "an accuracy-against-shots plot per task")
    XCTAssertFalse(html.contains("<section id=\"results\">"), "no empty zero-shot sections")
    XCTAssertEqual(try HTMLReport.render(decoded), html, "`ltm-bench report` re-renders the same page from results.json")
    XCTAssertTrue(html.contains("<th class=\"num\">0-shot</th><th class=\"num\">2-shot</th>"))
  }

  /// The LTM GSM8K protocol: prompt = context + "Answer: ", z fitted on the context alone, 50 greedy tokens, one
  /// candidate per fit (`--fits`).
  func testLTMGenerationRequestFollowsThePaper() throws {
    let out = tempDir()
    let fake = FakeFewShotModel(family: "ltm", vocabSize: 50258)
    var c = try config(out, tasks: ["gsm8k_ltm"], shots: [2], limit: 1)
    c.modelOptions.latent.fits = 3
    let outputs = try runner(c, [fake]).run()
    let request = try XCTUnwrap(fake.generationRequests.first)
    let tok = Self.tokenizer
    XCTAssertEqual(request.prompt.first, 50257, "LTM demonstrations start with <|beginoftext|>")
    XCTAssertEqual(Array(request.prompt.suffix(4)), tok.encode("?Answer: "))
    XCTAssertEqual(Array(request.prompt.prefix(request.fitContext!.count - 1)), Array(request.fitContext!.dropLast()))
    XCTAssertEqual(tok.decode(Array(request.fitContext!.suffix(1))), "?")
    XCTAssertEqual(fake.generationSettings[0], FewShotGenerationSettings(strategy: .greedy, maxNewTokens: 50, beams: 1, candidates: 3, stopTokens: []))
    XCTAssertEqual(outputs.document.fewshot?.results[0].metrics.map(\.name), ["pass@3", "pass@1 (unbiased)"])
  }

  /// A second run over the same output directory computes nothing; a run killed mid-write resumes with only the
  /// missing documents.
  func testResumeComputesOnlyWhatIsMissing() throws {
    let out = tempDir()
    let first = FakeFewShotModel()
    let c = try config(out, tasks: ["arithmetic_2da", "gsm8k_ltm"], shots: [1], limit: 4)
    let one = try runner(c, [first]).run()
    XCTAssertEqual(first.calls, 8)

    let second = FakeFewShotModel()
    let two = try runner(c, [second]).run()
    XCTAssertEqual(second.calls, 0, "the second run takes every document from the cache")
    XCTAssertEqual(two.resumedDocuments, 8)
    XCTAssertEqual(two.document.fewshot?.results.map(\.metrics), one.document.fewshot?.results.map(\.metrics))
    XCTAssertEqual(try Data(contentsOf: two.samples), try Data(contentsOf: one.samples))

    // Simulate a kill: keep 5 entries and half of the sixth line.
    let cache = out.appendingPathComponent(FewShotRunner.cacheFileName)
    let lines = try String(contentsOf: cache, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.count, 8)
    let torn = lines.prefix(5).joined(separator: "\n") + "\n" + lines[5].prefix(lines[5].count / 2)
    try Data(torn.utf8).write(to: cache)
    let third = FakeFewShotModel()
    let three = try runner(c, [third]).run()
    XCTAssertEqual(third.calls, 3)
    XCTAssertEqual(three.resumedDocuments, 5)
    XCTAssertEqual(try Data(contentsOf: three.samples), try Data(contentsOf: one.samples))
  }

  /// A document's shots (and so its prompt) are the same with and without --limit and under any shard.
  func testShotsDoNotDependOnLimitOrShard() throws {
    func prompts(limit: Int, shard: ShardInfo?) throws -> [Int: (shots: [Int], prompt: String)] {
      let out = tempDir()
      let result = try runner(try config(out, tasks: ["gsm8k_ltm", "lambada_openai"], shots: [3], limit: limit, shard: shard), [FakeFewShotModel()]).run()
      var map: [Int: (shots: [Int], prompt: String)] = [:]
      for s in try samples(result.samples) where s.task == "lambada_openai" || s.candidate == 0 {
        map[s.documentID + (s.task == "gsm8k_ltm" ? 100_000 : 0)] = (s.shotIDs, s.prompt)
      }
      return map
    }
    let full = try prompts(limit: 6, shard: nil)
    XCTAssertEqual(full.count, 12)
    let limited = try prompts(limit: 2, shard: nil)
    let shard0 = try prompts(limit: 6, shard: ShardInfo(index: 0, count: 2))
    let shard1 = try prompts(limit: 6, shard: ShardInfo(index: 1, count: 2))
    XCTAssertEqual(Set(limited.keys), [0, 1, 100_000, 100_001])
    XCTAssertEqual(Set(shard0.keys).union(shard1.keys), Set(full.keys))
    XCTAssertTrue(Set(shard0.keys).isDisjoint(with: shard1.keys))
    for part in [limited, shard0, shard1] {
      for (doc, value) in part {
        XCTAssertEqual(value.shots, full[doc]!.shots, "document \(doc)")
        XCTAssertEqual(value.prompt, full[doc]!.prompt, "document \(doc)")
      }
    }
  }

  /// `--shot-pool test` (the LTM paper's quirk): GSM8K demonstrations come from the test file itself.
  func testShotPoolTestDrawsFromTheEvaluatedSplit() throws {
    let out = tempDir()
    var c = try config(out, tasks: ["gsm8k_ltm"], shots: [3], limit: 2)
    c.shotPool = .test
    let outputs = try runner(c, [FakeFewShotModel()]).run()
    XCTAssertTrue(outputs.document.fewshot!.tasks[0].shotSource.hasPrefix("test (--shot-pool test"))
    XCTAssertEqual(outputs.document.fewshot!.shotPool, "test")
    let testQuestions = try SharedData.jsonLines("data/gsm8k/test.jsonl").map { $0["question"] as! String }
    for line in try samples(outputs.samples) where line.candidate == 0 {
      for id in line.shotIDs { XCTAssertTrue(line.prompt.contains("Question: " + testQuestions[id] + "Answer: "), "shot \(id)") }
    }
  }

  /// A model whose log-likelihoods are NELBO-based estimates and that has no greedy decoder: perplexity is labelled
  /// an estimate (≈, not a bound: a difference of bounds bounds nothing) and greedy accuracy is absent with its reason.
  func testBoundModelsLabelPerplexityAndDropGreedyAccuracy() throws {
    let out = tempDir()
    let fake = FakeFewShotModel(family: "mdlm", bound: .upper)
    let outputs = try runner(try config(out, tasks: ["lambada_openai"], shots: [0], limit: 3), [fake]).run()
    let r = try XCTUnwrap(outputs.document.fewshot?.results.first)
    XCTAssertEqual(r.metrics.map(\.name), ["perplexity"])
    XCTAssertEqual(r.metrics[0].bound, "estimate")
    XCTAssertTrue(r.metrics[0].label.hasPrefix("≈ "))
    XCTAssertEqual(r.absentMetrics.map(\.name), ["acc"])
    XCTAssertTrue(r.absentMetrics[0].reason.contains("no greedy decoder"))
    XCTAssertEqual(r.estimator, "fake-bound")
  }

  func testBadInputsAreClearErrors() throws {
    let out = tempDir()
    XCTAssertThrowsError(try runner(try config(out, tasks: ["gsm9k"], shots: [1], limit: 1), [FakeFewShotModel()]).run()) {
      XCTAssertTrue(String(describing: $0).contains("unknown task 'gsm9k'"), "\($0)")
    }
    XCTAssertThrowsError(try runner(try config(out, tasks: ["gsm8k_ltm"], shots: [1], limit: 0), [FakeFewShotModel()]).run()) {
      XCTAssertTrue(String(describing: $0).contains("--limit must be at least 1"), "\($0)")
    }
    var fits = try config(out, tasks: ["gsm8k_ltm"], shots: [1], limit: 1)
    fits.modelOptions.latent.fits = 5
    XCTAssertThrowsError(try runner(fits, [FakeFewShotModel()]).run()) {
      XCTAssertTrue(String(describing: $0).contains("applies to LTM checkpoints"), "\($0)")
    }
    XCTAssertThrowsError(try FewShotConfiguration.parseShots("5,x"))
    XCTAssertEqual(try FewShotConfiguration.parseShots("0,5,10"), [0, 5, 10])
  }

  /// The per-document draw is pinned: changing it changes every reported few-shot number.
  /// One broken model must not cost the others their results (#13): a model whose weights hold NaN is left out at
  /// load, and a NaN log-likelihood leaves out that model × task × shots result; each is one failure line, the rest is
  /// reported, and nothing non-finite reaches the cache. A run with no loadable model is the load error itself.
  func testNonFiniteWeightsOrScoresLeaveOutOnlyTheirResults() throws {
    let out = tempDir()
    let overflowing = FakeFewShotModel()
    overflowing.nanDocument = 1
    let fakes = [FakeFewShotModel(), FakeFewShotModel(), overflowing]
    let brokenWeights = CheckpointError.nonFiniteWeight(path: "/ckpt/model.safetensors", tensor: "wte.weight", value: .nan, index: 3)
    func run(_ config: FewShotConfiguration) throws -> FewShotRunner.Outputs {
      try FewShotRunner(configuration: config) { path, index, taken in
        if index == 0 { throw brokenWeights }
        return try self.source(fakes)(path, index, taken)
      }.run()
    }
    let outputs = try run(try config(out, tasks: ["lambada_openai", "arithmetic_2da"], shots: [0], limit: 3, models: 3))
    XCTAssertEqual(outputs.failures.count, 3, "\(outputs.failures)")
    XCTAssertTrue(outputs.failures[0].contains("left out") && outputs.failures[0].contains("wte.weight") && outputs.failures[0].contains("non-finite"), outputs.failures[0])
    XCTAssertTrue(outputs.failures[1].contains("fake-gpt2-2 on lambada_openai (0-shot): document 1 (log-likelihood) scored nan"), outputs.failures[1])
    XCTAssertTrue(outputs.failures[2].contains("fake-gpt2-2 on arithmetic_2da (0-shot): document 1"), outputs.failures[2])
    let results = try XCTUnwrap(outputs.document.fewshot).results.map { "\($0.model) \($0.task)" }
    XCTAssertEqual(results, ["fake-gpt2-1 lambada_openai", "fake-gpt2-1 arithmetic_2da"])
    XCTAssertEqual(outputs.document.models.map(\.id), ["fake-gpt2-1", "fake-gpt2-2"])
    let cache = try String(contentsOf: out.appendingPathComponent(FewShotRunner.cacheFileName), encoding: .utf8)
    XCTAssertFalse(cache.contains("nan") || cache.contains("NaN"))

    var alone = try config(tempDir(), tasks: ["lambada_openai"], shots: [0], limit: 1)
    alone.modelPaths = [alone.modelPaths[0]]
    XCTAssertThrowsError(try run(alone)) { XCTAssertEqual(String(describing: $0), brokenWeights.description) }
  }

  /// samples.jsonl carries lm-eval's per-sample fields under its names (#15): `target`, `is_greedy` and the token
  /// count of each continuation, beside ltm-bench's own.
  func testSamplesCarryLMEvalFields() throws {
    let out = tempDir()
    let outputs = try runner(try config(out, tasks: ["lambada_openai", "ag_news_topic"], shots: [0], limit: 2), [FakeFewShotModel()]).run()
    let lines = try samples(outputs.samples)
    let lambada = try XCTUnwrap(lines.first { $0.task == "lambada_openai" })
    XCTAssertEqual(lambada.target, lambada.continuations?.first)
    XCTAssertEqual(lambada.isGreedy?.count, 1)
    XCTAssertEqual(lambada.continuationTokens?.count, 1)
    XCTAssertGreaterThan(lambada.continuationTokens?.first ?? 0, 0)
    let news = try XCTUnwrap(lines.first { $0.task == "ag_news_topic" })
    XCTAssertEqual(news.continuationTokens?.count, 4)
    XCTAssertNotNil(Int(news.target ?? ""), "multiple choice: lm-eval's target is the gold index")
    let raw = try String(contentsOf: outputs.samples, encoding: .utf8)
    XCTAssertTrue(raw.contains("\"is_greedy\":[") && raw.contains("\"continuation_tokens\":[") && raw.contains("\"target\":"))
  }

  /// The results in lm-eval's layout (#15): `results.<task>."<metric>,<filter>"`, its stderr ("N/A" when none),
  /// versions, n-shot, n-samples; a task at two shot counts is keyed per count.
  func testResultsAreWrittenInLMEvalsLayout() throws {
    let out = tempDir()
    let outputs = try runner(try config(out, tasks: ["lambada_openai", "gsm8k"], shots: [0, 2], limit: 3), [FakeFewShotModel()]).run()
    XCTAssertEqual(outputs.lmEvalResults.map(\.lastPathComponent), ["fake-gpt2-0.json"])
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: outputs.lmEvalResults[0])) as? [String: Any])
    let results = try XCTUnwrap(object["results"] as? [String: [String: Any]])
    XCTAssertEqual(Set(results.keys), ["lambada_openai_0shot", "lambada_openai_2shot", "gsm8k_0shot", "gsm8k_2shot"])
    let lambada = try XCTUnwrap(results["lambada_openai_2shot"])
    XCTAssertEqual(lambada["alias"] as? String, "lambada_openai")
    let section = try XCTUnwrap(outputs.document.fewshot)
    let mine = try XCTUnwrap(section.results.first { $0.task == "lambada_openai" && $0.shots == 2 })
    // Foundation's JSONSerialization may print the last bit of a double differently.
    XCTAssertEqual(try XCTUnwrap(lambada["acc,none"] as? Double), try XCTUnwrap(mine.metrics.first { $0.name == "acc" }?.value), accuracy: 1e-12)
    let stderr = try XCTUnwrap(mine.metrics.first { $0.name == "perplexity" }?.stderr)
    XCTAssertEqual(try XCTUnwrap(lambada["perplexity_stderr,none"] as? Double), stderr, accuracy: 1e-12 * stderr)
    XCTAssertNotNil(results["gsm8k_0shot"]?["exact_match,strict-match"] as? Double)
    XCTAssertEqual((object["n-shot"] as? [String: Int])?["gsm8k_2shot"], 2)
    XCTAssertEqual(((object["n-samples"] as? [String: [String: Int]])?["gsm8k_2shot"])?["effective"], 3)
  }

  func testShotIDsArePinned() throws {
    let ids = try FewShotRunner.shotIDs(task: "gsm8k_ltm", document: 0, shots: 5, poolSize: 7473, excludeSelf: false, seed: 0)
    XCTAssertEqual(ids, [5113, 6204, 2987, 3984, 6500], "FewShotPromptPinTests and tools/make_reference_text_goldens.py build their prompts from these")
    XCTAssertEqual(try FewShotRunner.shotIDs(task: "lambada_openai", document: 3, shots: 4, poolSize: 5153, excludeSelf: true, seed: 0).count, 4)
  }

  /// lm-eval's `_encode_pair`: trailing context whitespace moves to the continuation; the continuation's tokens
  /// are encode(ctx + cont) minus encode(ctx); an empty context is the prefix token; long contexts are cut left.
  func testEncodePairMovesWhitespaceAndTruncatesLeft() throws {
    let tok = Self.tokenizer
    let gpt2 = FewShotEncoder(tokenizer: tok, descriptor: FakeFewShotModel().descriptor)
    let (r, cut) = try gpt2.pair(context: "Question: 2+2?\nAnswer: ", continuation: "4")
    XCTAssertEqual(r.context, tok.encode("Question: 2+2?\nAnswer:"))
    XCTAssertEqual(r.continuation, tok.encode(" 4"))
    XCTAssertEqual(cut, 0)
    let (empty, _) = try gpt2.pair(context: "", continuation: "The cat")
    XCTAssertEqual(empty.context, [50256])
    XCTAssertEqual(empty.continuation, tok.encode("The cat"))
    let ltm = FewShotEncoder(tokenizer: tok, descriptor: FakeFewShotModel(family: "ltm", vocabSize: 50258).descriptor)
    XCTAssertEqual(try ltm.pair(context: "", continuation: "x").request.context, [50257])
    let short = FewShotEncoder(tokenizer: tok, descriptor: FakeFewShotModel(contextLength: 8).descriptor)
    let (t, removed) = try short.pair(context: "one two three four five six seven eight nine ten", continuation: " eleven")
    XCTAssertEqual(t.context.count + t.continuation.count, 9)
    XCTAssertEqual(t.context, Array(tok.encode("one two three four five six seven eight nine ten").suffix(8)))
    XCTAssertEqual(removed, 2)
    XCTAssertThrowsError(try gpt2.pair(context: "x", continuation: ""))
  }
}
