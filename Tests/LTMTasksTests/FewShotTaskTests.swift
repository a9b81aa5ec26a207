import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTasks

/// Few-shot task files: the shipped definitions, strict parsing, templates, preprocessing, choices and shots.
final class FewShotTaskTests: XCTestCase {
  static var tasksDirectory: URL { SharedData.packageRoot.appendingPathComponent("tasks/fewshot") }

  func catalog() throws -> FewShotCatalog { try FewShotCatalog.load(directory: Self.tasksDirectory) }

  func testShippedTasksLoad() throws {
    let names = try catalog().names
    let arithmetic = ["1dc", "2da", "2dm", "2ds", "3da", "3ds", "4da", "4ds", "5da", "5ds"].map { "arithmetic_\($0)" }
    XCTAssertEqual(Set(names), Set(arithmetic + ["gsm8k_ltm", "gsm8k", "lambada_openai", "ag_news_topic", "wikitext"]))
    let gsm8k = try catalog().task(named: "gsm8k_ltm")
    XCTAssertEqual(gsm8k.outputType, .generate)
    XCTAssertEqual(gsm8k.format(forFamily: "ltm").generation.maxNewTokens, 50)
    XCTAssertEqual(gsm8k.format(forFamily: "ltm").generation.strategy, "greedy")
    XCTAssertEqual(gsm8k.format(forFamily: "gpt2").generation.maxNewTokens, 100)
    XCTAssertEqual(gsm8k.format(forFamily: "gpt2").generation.strategy, "beam")
    XCTAssertEqual(gsm8k.format(forFamily: "gpt2").generation.beams, 5)
    XCTAssertEqual(gsm8k.format(forFamily: "gpt2").generation.candidates, 5)
    XCTAssertEqual(gsm8k.format(forFamily: "ltm").shotPrefix, "<|beginoftext|>")
    XCTAssertEqual(gsm8k.format(forFamily: "ltm").shotSuffix, "")
    XCTAssertEqual(gsm8k.format(forFamily: "gpt2").shotSuffix, "<|endoftext|>")
  }

  func testEveryShippedTaskReadsItsDataAndBuildsAPrompt() throws {
    let data = try SharedData.file("data")
    for (name, task) in try catalog().tasks {
      let docs = try task.documents(split: task.evalSplit, dataDirectory: data)
      let pool = try task.fewshotSplit.map { try task.documents(split: $0, dataDirectory: data) } ?? docs
      for family in ["gpt2", "ltm", "mdlm"] {
        // A rolling task scores the whole document: no context, no shots.
        let rolling = task.outputType == .loglikelihoodRolling
        let text = try task.promptText(for: docs[0], shots: rolling ? [] : [pool[1], pool[2]], family: family)
        if rolling {
          XCTAssertTrue(text.context.isEmpty && !(text.continuations.first ?? "").isEmpty, name)
        } else {
          XCTAssertFalse(text.context.isEmpty, name)
        }
        XCTAssertFalse(text.gold.isEmpty, name)
      }
    }
  }

  func testUnknownKeysAndBadTemplatesAreErrors() {
    let good = """
      name: t
      version: 1
      splits: {test: [x.jsonl]}
      eval_split: test
      output_type: loglikelihood
      doc_to_text: "{{a}}"
      doc_to_target: "{{b}}"
      metrics: [acc]
      """
    XCTAssertNoThrow(try FewShotTask.parse(yaml: good, file: "t.yaml"))
    func message(_ yaml: String) -> String {
      do {
        _ = try FewShotTask.parse(yaml: yaml, file: "t.yaml")
        return "no error"
      } catch { return String(describing: error) }
    }
    XCTAssertTrue(message(good + "\ntarget_delimter: x").contains("unknown key 'target_delimter'"))
    XCTAssertTrue(message(good + "\nfamilies: {ltm: {shot_prefx: x}}").contains("unknown key 'families.ltm.shot_prefx'"))
    XCTAssertTrue(message(good.replacingOccurrences(of: "{{a}}", with: "{{#a}}x{{/a}}")).contains("not a plain {{field}}"))
    XCTAssertTrue(message(good.replacingOccurrences(of: "[acc]", with: "[pass_at_k]")).contains("not a loglikelihood metric"))
    XCTAssertTrue(message(good.replacingOccurrences(of: "eval_split: test", with: "eval_split: dev")).contains("not one of the splits"))
    XCTAssertTrue(message(good + "\ngeneration: {strategy: beam, beams: 2, candidates: 3}").contains("at most `beams`"))
    // A stray '{{' is named as such, not passed on as Mustache's parser dump (#13).
    for tail in ["{{#", "{{! note", "{{/", "{{{"] {
      let stray = message(good.replacingOccurrences(of: "\"{{a}}\"", with: "\"{{a}} and \(tail)\""))
      XCTAssertTrue(stray.contains("a '{{' without its '}}'") && !stray.contains("ParserError") && !stray.contains("\n"), stray)
    }
    // A tagged or complex mapping key trapped inside Yams's load(yaml:) (found by FuzzFewShotTask): now one line.
    for key in ["generation: {strategy: greedy, max_new_tokens: 9,!until: [x]}", "? [a, b]\n: c"] {
      let text = message(good + "\n" + key)
      XCTAssertTrue(text.contains("not a plain string"), "\(key): \(text)")
    }
    // Split files are read under --data-dir only (#13).
    for (path, reason) in [("../x.jsonl", "'..'"), ("/etc/x.jsonl", "absolute"), ("a//x.jsonl", "empty component")] {
      let text = message(good.replacingOccurrences(of: "[x.jsonl]", with: "[\"\(path)\"]"))
      XCTAssertTrue(text.contains("splits.test") && text.contains("not a plain relative path") && text.contains(reason), text)
    }
  }

  func testTemplatesDoNotEscapeAndMissingFieldsAreErrors() throws {
    let doc = FewShotDocument(id: 0, fields: ["q": #"Is "a" < b & c > d's?"#], source: "x.jsonl", line: 3)
    XCTAssertEqual(try FewShotTemplate("Q: {{q}}\nA:").render(doc), "Q: Is \"a\" < b & c > d's?\nA:")
    XCTAssertEqual(try FewShotTemplate("Q: {{ q }}").render(doc), "Q: Is \"a\" < b & c > d's?")
    XCTAssertThrowsError(try FewShotTemplate("{{answer}}").render(doc)) { error in
      XCTAssertTrue(String(describing: error).contains("needs field 'answer'"), "\(error)")
      XCTAssertTrue(String(describing: error).contains("x.jsonl line 3"), "\(error)")
    }
  }

  /// lm-eval's arithmetic normalisation and LAMBADA's last-word split, done by the files' preprocess steps.
  func testArithmeticAndLambadaPreprocessing() throws {
    let data = try SharedData.file("data")
    let arithmetic = try catalog().task(named: "arithmetic_2da")
    let doc = try arithmetic.documents(split: "validation", dataDirectory: data)[0]
    let text = try arithmetic.promptText(for: doc, shots: [], family: "gpt2")
    XCTAssertEqual(text.context, "Question: What is 98 plus 45?\nAnswer:")
    XCTAssertEqual(text.continuations, [" 143"])
    let docs = try arithmetic.documents(split: "validation", dataDirectory: data)
    let shot = try arithmetic.promptText(for: docs[0], shots: [docs[1]], family: "gpt2")
    XCTAssertEqual(shot.context, "Question: What is 95 plus 58?\nAnswer: 153\n\nQuestion: What is 98 plus 45?\nAnswer:")

    let lambada = try catalog().task(named: "lambada_openai")
    let passages = try lambada.documents(split: "test", dataDirectory: data)
    XCTAssertEqual(passages.count, 5153)
    let first = try lambada.promptText(for: passages[0], shots: [], family: "gpt2")
    XCTAssertEqual(first.continuations, [" signs"])
    XCTAssertTrue(first.context.hasSuffix("his mouth curved in a confident grin, I don't care about"))
    XCTAssertEqual(first.context + " signs", passages[0].fields["text"])
  }

  func testAGNewsMultipleChoice() throws {
    let data = try SharedData.file("data")
    let task = try catalog().task(named: "ag_news_topic")
    let docs = try task.documents(split: "test", dataDirectory: data)
    XCTAssertEqual(docs.count, 7600)
    let text = try task.promptText(for: docs[0], shots: [], family: "gpt2")
    XCTAssertEqual(text.continuations, [" World", " Sports", " Business", " Sci/Tech"])
    XCTAssertEqual(text.goldIndex, 2, "class 3 is Business")
    XCTAssertEqual(
      text.context,
      "Title: Fears for T N pension after talks\nDescription: Unions representing workers at Turner   Newall say they are 'disappointed' after talks with stricken parent firm Federal Mogul.\nTopic:")
    let withShot = try task.promptText(for: docs[0], shots: [docs[1]], family: "gpt2")
    XCTAssertTrue(withShot.context.hasPrefix("Title: The Race is On"))
    XCTAssertTrue(withShot.context.contains("\nTopic: Sci/Tech\n\nTitle: Fears for T N pension"), withShot.context)
  }

  func testCSVReaderQuotesAndErrors() throws {
    let rows = try FewShotRecords.csv("\"1\",\"a, \"\"b\"\"\",\"x\ny\"\n2,c,d\n", columns: ["l", "t", "d"], file: "f.csv")
    XCTAssertEqual(rows.map(\.fields), [["l": "1", "t": "a, \"b\"", "d": "x\ny"], ["l": "2", "t": "c", "d": "d"]])
    XCTAssertEqual(rows.map(\.line), [1, 3])
    XCTAssertThrowsError(try FewShotRecords.csv("1,2\n", columns: ["l", "t", "d"], file: "f.csv")) { error in
      XCTAssertTrue(String(describing: error).contains("f.csv line 1: expected 3 CSV fields"), "\(error)")
    }
  }

  func testShotSamplerDrawsDistinctIdsAndNeverTheDocument() throws {
    func draw(_ k: Int, _ pool: Int, _ exclude: Int?, seed: UInt64) throws -> [Int] {
      var rng = XorShiftRNG(seed: seed)
      return try ShotSampler.sample(k: k, poolSize: pool, exclude: exclude, using: &rng)
    }
    let a = try draw(5, 20, 7, seed: 1)
    XCTAssertEqual(a, try draw(5, 20, 7, seed: 1), "the same generator state gives the same shots")
    XCTAssertEqual(Set(a).count, 5)
    XCTAssertNotEqual(a, try draw(5, 20, 7, seed: 2))
    // The whole pool minus the document: the document never appears, every other id does.
    for doc in 0..<20 {
      XCTAssertEqual(Set(try draw(19, 20, doc, seed: UInt64(doc + 1))), Set((0..<20).filter { $0 != doc }))
    }
    // Single draws are uniform over the pool minus the excluded id (about 2000 each of 20000).
    var counts = [Int](repeating: 0, count: 11)
    var rng = XorShiftRNG(seed: 9)
    for _ in 0..<20000 { counts[try ShotSampler.sample(k: 1, poolSize: 11, exclude: 4, using: &rng)[0]] += 1 }
    XCTAssertEqual(counts[4], 0)
    XCTAssertTrue(counts.enumerated().allSatisfy { $0.offset == 4 || abs($0.element - 2000) < 200 }, "\(counts)")
    XCTAssertThrowsError(try draw(20, 20, 3, seed: 1)) {
      XCTAssertEqual(String(describing: $0), "20 shots requested, but the shot pool holds 19 documents")
    }
  }

  func testAnswerFiltersAndExactMatchFollowLMEval() throws {
    let task = try catalog().task(named: "gsm8k")
    let strict = task.filters[0], flexible = task.filters[1]
    let output = " She has 3 apples, so 3 * 2 = $1,000.\n#### 1,000"
    XCTAssertEqual(FewShotTask.extract(output, filter: strict), "1,000")
    XCTAssertEqual(FewShotTask.extract(output, filter: flexible), "1,000")
    XCTAssertEqual(FewShotTask.extract("It costs $1,000.", filter: flexible), "$1,000.")
    XCTAssertEqual(FewShotTask.extract("no number", filter: strict), "[invalid]")
    let gold = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n#### 1000"
    XCTAssertTrue(task.isExactMatch("1,000", gold))
    XCTAssertTrue(task.isExactMatch("$1,000.", gold))
    XCTAssertFalse(task.isExactMatch("100", gold))
    XCTAssertFalse(task.isExactMatch("[invalid]", gold))
    XCTAssertEqual(FewShotTask.cut(" 18\n\nQuestion: next", at: task.format(forFamily: "gpt2").generation.until), " 18\n\n")
  }
}

/// xorshift64* for sampler tests (the harness seeds the sampler with SplitMix64).
struct XorShiftRNG: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
  mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 0x2545_F491_4F6C_DD1D
  }
}
