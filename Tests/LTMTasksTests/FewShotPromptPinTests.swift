import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTasks

/// The exact prompts of one GSM8K 5-shot document, for both families' formats (the LTM paper's scripts): test
/// document 0 with seed 0, whose shots are train documents [2139, 2514, 1352, 5081, 88] (the ids the harness draws;
/// FewShotRunnerTests pins them). The literals were written by an independent Python reconstruction from the data
/// files and these ids:
///   ltm:  "".join("<|beginoftext|>Question: " + q + "Answer: " + a for each shot) + "<|beginoftext|>Question: " + q0
///   gpt2: "".join("Question: " + q + "Answer: " + a + "<|endoftext|>" for each shot) + "Question: " + q0
/// and each generation prompt is that context + "Answer: ".
final class FewShotPromptPinTests: XCTestCase {
  static let shotIDs = [2139, 2514, 1352, 5081, 88]

  func prompts(_ family: String) throws -> FewShotPromptText {
    let data = try SharedData.file("data")
    let task = try FewShotCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot")).task(named: "gsm8k")
    let test = try task.documents(split: "test", dataDirectory: data)
    let train = try task.documents(split: "train", dataDirectory: data)
    return try task.promptText(for: test[0], shots: Self.shotIDs.map { train[$0] }, family: family)
  }

  func testLTMFormat() throws {
    let text = try prompts("ltm")
    let expected = [
      "<|beginoftext|>Question: If there are sixty-five dolphins in the ocean, and three times that number joins in from a river which has its mouth at the ocean, calculate the total number of dolphins in the ocean.Answer: When three times the number of dolphins in the ocean joins in from a river, the number of dolphins in the ocean increases by 3 *65 = <<3*65=195>>195",
      "The total number of dolphins in the ocean increases to 195+65 = <<195+65=260>>260",
      "#### 260<|beginoftext|>Question: Hugo's mountain has an elevation of 10,000 feet above sea level.  Boris' mountain has an elevation that is 2,500 feet shorter than  Hugo's mountain.  If Hugo climbed his mountain 3 times, how many times would Boris need to climb his mountain to have climbed the same number of feet as Hugo?Answer: Boris' mountain has an elevation 2,500 feet shorter than Hugo's mountain, or 10,000-2,500=<<10000-2500=7500>>7500 feet above sea level.",
      "If Hugo climbed his mountain 3 times, his total climbing distance would be 3*10,000=<<3*10000=30000>>30,000 feet.",
      "To climb a total of 30,000 feet, Boris would need to need to climb his mountain 30,000/7,500=<<30000/7500=4>>4 times.",
      "#### 4<|beginoftext|>Question: A fan can create an airflow of 10 liters per second. If the fan works for 10 minutes each day, calculate the amount of airflow it will create in one week.Answer: If the fan works for 10 minutes each day, in a week with 7 days, it will have worked for 10*7 = <<10*7=70>>70 minutes.",
      "Since a minute has 60 seconds, the total time in seconds that the fan will have worked in one week is 70*60 = <<70*60=4200>>4200 seconds.",
      "Since the fan can create an airflow of 10 liters per second, in 4200 seconds, it will create an airflow of 4200*10= <<4200*10=42000>>42000 liters.",
      "#### 42000<|beginoftext|>Question: Penny's canoe can carry 6 people, but if she wants to take her dog, she will only fit 2/3 of that number inside. If every person in a trip where Penny had her dog inside the canoe weighed 140 pounds, and the dog 1/4 as much weight, calculate the total weight the canoe was carrying?Answer: When Penny has her dog inside the canoe, only 2/3*6 = <<2/3*6=4>>4 people could fit inside the canoe.",
      "If every person in a trip where Penny had her dog inside the canoe weighed 140 pounds, the total weight of people inside the canoe was 140*4= <<140*4=560>>560 pounds.",
      "The dog weighs 1/4*140 = <<140/4=35>>35 pounds",
      "On the trip, the canoe was carrying 560+35 = <<560+35=595>>595 pounds",
      "#### 595<|beginoftext|>Question: Brandon sold 86 geckos last year. He sold twice that many the year before. How many geckos has Brandon sold in the last two years?Answer: Last year: 86 geckos",
      "2 years ago: 86(2)=172",
      "Total number of geckos sold 86+172=<<86+172=258>>258 geckos",
      "#### 258<|beginoftext|>Question: Janet\u{2019}s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?Answer: ",
    ].joined(separator: "\n")
    XCTAssertEqual(text.generationPrompt, expected)
    XCTAssertEqual(text.context + "Answer: ", expected, "the posterior is fitted on the prompt without \"Answer: \"")
    XCTAssertEqual(text.gold, "18")
  }

  func testGPT2Format() throws {
    let text = try prompts("gpt2")
    let expected = [
      "Question: If there are sixty-five dolphins in the ocean, and three times that number joins in from a river which has its mouth at the ocean, calculate the total number of dolphins in the ocean.Answer: When three times the number of dolphins in the ocean joins in from a river, the number of dolphins in the ocean increases by 3 *65 = <<3*65=195>>195",
      "The total number of dolphins in the ocean increases to 195+65 = <<195+65=260>>260",
      "#### 260<|endoftext|>Question: Hugo's mountain has an elevation of 10,000 feet above sea level.  Boris' mountain has an elevation that is 2,500 feet shorter than  Hugo's mountain.  If Hugo climbed his mountain 3 times, how many times would Boris need to climb his mountain to have climbed the same number of feet as Hugo?Answer: Boris' mountain has an elevation 2,500 feet shorter than Hugo's mountain, or 10,000-2,500=<<10000-2500=7500>>7500 feet above sea level.",
      "If Hugo climbed his mountain 3 times, his total climbing distance would be 3*10,000=<<3*10000=30000>>30,000 feet.",
      "To climb a total of 30,000 feet, Boris would need to need to climb his mountain 30,000/7,500=<<30000/7500=4>>4 times.",
      "#### 4<|endoftext|>Question: A fan can create an airflow of 10 liters per second. If the fan works for 10 minutes each day, calculate the amount of airflow it will create in one week.Answer: If the fan works for 10 minutes each day, in a week with 7 days, it will have worked for 10*7 = <<10*7=70>>70 minutes.",
      "Since a minute has 60 seconds, the total time in seconds that the fan will have worked in one week is 70*60 = <<70*60=4200>>4200 seconds.",
      "Since the fan can create an airflow of 10 liters per second, in 4200 seconds, it will create an airflow of 4200*10= <<4200*10=42000>>42000 liters.",
      "#### 42000<|endoftext|>Question: Penny's canoe can carry 6 people, but if she wants to take her dog, she will only fit 2/3 of that number inside. If every person in a trip where Penny had her dog inside the canoe weighed 140 pounds, and the dog 1/4 as much weight, calculate the total weight the canoe was carrying?Answer: When Penny has her dog inside the canoe, only 2/3*6 = <<2/3*6=4>>4 people could fit inside the canoe.",
      "If every person in a trip where Penny had her dog inside the canoe weighed 140 pounds, the total weight of people inside the canoe was 140*4= <<140*4=560>>560 pounds.",
      "The dog weighs 1/4*140 = <<140/4=35>>35 pounds",
      "On the trip, the canoe was carrying 560+35 = <<560+35=595>>595 pounds",
      "#### 595<|endoftext|>Question: Brandon sold 86 geckos last year. He sold twice that many the year before. How many geckos has Brandon sold in the last two years?Answer: Last year: 86 geckos",
      "2 years ago: 86(2)=172",
      "Total number of geckos sold 86+172=<<86+172=258>>258 geckos",
      "#### 258<|endoftext|>Question: Janet\u{2019}s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?Answer: ",
    ].joined(separator: "\n")
    XCTAssertEqual(text.generationPrompt, expected)
    XCTAssertEqual(text.gold, "18")
  }
}
