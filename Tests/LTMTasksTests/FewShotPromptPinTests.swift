import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTasks

/// The exact prompts of one GSM8K 5-shot document, for both families' formats, against the LTM authors' own
/// prompt-building statements (`sample_gsm8k_incontext.py` for LTM, `sample_gsm8k_gpt_incontext.py` for GPT-2, run by
/// `tools/make_reference_text_goldens.py` on the same documents): test document 0 with seed 0, whose shots are train
/// documents [5113, 6204, 2987, 3984, 6500] (the ids the harness draws for gsm8k_ltm; FewShotRunnerTests pins the draw).
final class FewShotPromptPinTests: XCTestCase {
  func check(_ family: String) throws {
    let golden = try XCTUnwrap(ReferenceTextGoldens.load()["gsm8k_prompts"] as? [String: Any])
    let shotIDs = try XCTUnwrap(golden["train_shot_ids"] as? [Int])
    XCTAssertEqual(shotIDs, [5113, 6204, 2987, 3984, 6500])
    let reference = try XCTUnwrap(golden[family] as? [String: Any])
    let data = try SharedData.file("data")
    let task = try FewShotCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot")).task(named: "gsm8k_ltm")
    let test = try task.documents(split: "test", dataDirectory: data)
    let train = try task.documents(split: "train", dataDirectory: data)
    let text = try task.promptText(for: test[0], shots: shotIDs.map { train[$0] }, family: family)
    assertSameBytes(text.generationPrompt, try XCTUnwrap(reference["generation_prompt"] as? String), "\(family): generation prompt")
    XCTAssertEqual(text.gold, "18")
    if family == "ltm" {
      assertSameBytes(text.context, try XCTUnwrap(reference["fit_context"] as? String), "the posterior is fitted on the prompt without \"Answer: \"")
    }
  }

  func testLTMFormat() throws { try check("ltm") }

  func testGPT2Format() throws { try check("gpt2") }
}
