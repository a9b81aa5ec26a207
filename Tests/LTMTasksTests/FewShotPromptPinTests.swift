import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTasks

/// The exact prompts of one GSM8K 5-shot document, for both families' formats (the LTM paper's scripts): test
/// document 0 with seed 0, whose shots are train documents [3795, 553, 3623, 4249, 4550]. The literals were checked against an independent
/// Python reconstruction from the data files and these ids:
///   ltm:  "".join("<|beginoftext|>Question: " + q + "Answer: " + a for each shot) + "<|beginoftext|>Question: " + q0
///   gpt2: "".join("Question: " + q + "Answer: " + a + "<|endoftext|>" for each shot) + "Question: " + q0
/// and each generation prompt is that context + "Answer: ".
final class FewShotPromptPinTests: XCTestCase {
  static let shotIDs = [3795, 553, 3623, 4249, 4550]

  func prompts(_ family: String) throws -> FewShotPromptText {
    let data = try SharedData.file("data")
    let task = try FewShotCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks/fewshot")).task(named: "gsm8k")
    let test = try task.documents(split: "test", dataDirectory: data)
    let train = try task.documents(split: "train", dataDirectory: data)
    let ids = try ShotSampler.sample(k: 5, poolSize: train.count, exclude: nil, seed: 0, task: "gsm8k", document: 0)
    XCTAssertEqual(ids, Self.shotIDs)
    return try task.promptText(for: test[0], shots: ids.map { train[$0] }, family: family)
  }

  func testLTMFormat() throws {
    let text = try prompts("ltm")
    let expected = [
      "<|beginoftext|>Question: If Natasha was going 10 mph over the speed limit and it took her an hour to arrive at her destination that was 60 miles away, what was the speed limit?Answer: Natasha was driving at 60 miles / 1hr = <<60/1=60>>60 mph",
      "The speed limit was 60mph - 10 mph = <<60-10=50>>50 mph",
      "#### 50<|beginoftext|>Question: Emma buys 2 containers of milk every school day for lunch. She does not go to school on the weekends. How many containers of milk does she buy in 3 weeks?Answer: There are 5 school days in a week: 5 days/week x 2 containers of milk/day = 10 containers of milk every week",
      "Finally the number of container for 3 weeks is 3 weeks x 10 containers/week = <<3*10=30>>30 containers",
      "#### 30<|beginoftext|>Question: Mark is a lawyer who works at the county courthouse every day. It takes him 5 minutes to find parking and 3 minutes to walk into the courthouse. 2 days of the week it takes him 30 minutes to get through the metal detector and the other 3 days are less crowded so he gets through in 10 minutes. How long does he spend on all these activities in a week with 5 work days?Answer: First find how long Mark spends on parking and walking each day: 5 minutes + 3 minutes = <<5+3=8>>8 minutes",
      "Then multiply that number by his number of workdays to find the total walking and parking time: 8 minutes/day * 5 days/week = <<8*5=40>>40 minutes/week",
      "Then multiply the number of long-wait days by the time of each long wait: 2 days/week * 30 minutes/day = <<2*30=60>>60 minutes/week",
      "Then multiply the number of short-wait days by the time of each short wait: 3 days/week * 10 minutes/day = <<3*10=30>>30 minutes/week",
      "Then add the length of time Mark spends on each activity to find the total time spent: 30 minutes/week + 60 minutes/week + 40 minutes/week = <<30+60+40=130>>130 minutes/week",
      "#### 130<|beginoftext|>Question: Courtney liked to collect marbles.  She kept them in mason jars.  One jar had 80 marbles.  Her second jar had twice that amount.  She just started her third jar which currently has 1/4 the amount of her first jar.  How many marbles does she have in total?Answer: One jar had 80 and the second jar had twice that amount so 2*80 = 160 marbles",
      "The third jar had 1/4 of the first jar's 80 marbles so it had .25*80 = <<1/4*80=20>>20 marbles",
      "When you add up all the jars, she had 80+160+20 = <<80+160+20=260>>260 marbles",
      "#### 260<|beginoftext|>Question: Johannes owns a vegetable shop, he sells cabbage for $2 per kilogram. If Johannes was able to earn $30 last Wednesday, $24 last Friday, and $42 today, how many kilograms of cabbage was he able to sell?Answer: Johannes was able to sell $30 / $2 = <<30/2=15>>15 kilograms last Wednesday.",
      "He was able to sell $24 / $2 = <<24/2=12>>12 kilograms last Friday.",
      "And he was able to sell $42 / $2 = <<42/2=21>>21 kilograms today.",
      "Therefore, Johannes was able to sell is 15 + 12 + 21 = <<48=48>>48 kilograms of cabbage.",
      "#### 48<|beginoftext|>Question: Janet\u{2019}s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?Answer: ",
    ].joined(separator: "\n")
    XCTAssertEqual(text.generationPrompt, expected)
    XCTAssertEqual(text.context + "Answer: ", expected, "the posterior is fitted on the prompt without \"Answer: \"")
    XCTAssertEqual(text.gold, "18")
  }

  func testGPT2Format() throws {
    let text = try prompts("gpt2")
    let expected = [
      "Question: If Natasha was going 10 mph over the speed limit and it took her an hour to arrive at her destination that was 60 miles away, what was the speed limit?Answer: Natasha was driving at 60 miles / 1hr = <<60/1=60>>60 mph",
      "The speed limit was 60mph - 10 mph = <<60-10=50>>50 mph",
      "#### 50<|endoftext|>Question: Emma buys 2 containers of milk every school day for lunch. She does not go to school on the weekends. How many containers of milk does she buy in 3 weeks?Answer: There are 5 school days in a week: 5 days/week x 2 containers of milk/day = 10 containers of milk every week",
      "Finally the number of container for 3 weeks is 3 weeks x 10 containers/week = <<3*10=30>>30 containers",
      "#### 30<|endoftext|>Question: Mark is a lawyer who works at the county courthouse every day. It takes him 5 minutes to find parking and 3 minutes to walk into the courthouse. 2 days of the week it takes him 30 minutes to get through the metal detector and the other 3 days are less crowded so he gets through in 10 minutes. How long does he spend on all these activities in a week with 5 work days?Answer: First find how long Mark spends on parking and walking each day: 5 minutes + 3 minutes = <<5+3=8>>8 minutes",
      "Then multiply that number by his number of workdays to find the total walking and parking time: 8 minutes/day * 5 days/week = <<8*5=40>>40 minutes/week",
      "Then multiply the number of long-wait days by the time of each long wait: 2 days/week * 30 minutes/day = <<2*30=60>>60 minutes/week",
      "Then multiply the number of short-wait days by the time of each short wait: 3 days/week * 10 minutes/day = <<3*10=30>>30 minutes/week",
      "Then add the length of time Mark spends on each activity to find the total time spent: 30 minutes/week + 60 minutes/week + 40 minutes/week = <<30+60+40=130>>130 minutes/week",
      "#### 130<|endoftext|>Question: Courtney liked to collect marbles.  She kept them in mason jars.  One jar had 80 marbles.  Her second jar had twice that amount.  She just started her third jar which currently has 1/4 the amount of her first jar.  How many marbles does she have in total?Answer: One jar had 80 and the second jar had twice that amount so 2*80 = 160 marbles",
      "The third jar had 1/4 of the first jar's 80 marbles so it had .25*80 = <<1/4*80=20>>20 marbles",
      "When you add up all the jars, she had 80+160+20 = <<80+160+20=260>>260 marbles",
      "#### 260<|endoftext|>Question: Johannes owns a vegetable shop, he sells cabbage for $2 per kilogram. If Johannes was able to earn $30 last Wednesday, $24 last Friday, and $42 today, how many kilograms of cabbage was he able to sell?Answer: Johannes was able to sell $30 / $2 = <<30/2=15>>15 kilograms last Wednesday.",
      "He was able to sell $24 / $2 = <<24/2=12>>12 kilograms last Friday.",
      "And he was able to sell $42 / $2 = <<42/2=21>>21 kilograms today.",
      "Therefore, Johannes was able to sell is 15 + 12 + 21 = <<48=48>>48 kilograms of cabbage.",
      "#### 48<|endoftext|>Question: Janet\u{2019}s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?Answer: ",
    ].joined(separator: "\n")
    XCTAssertEqual(text.generationPrompt, expected)
    XCTAssertEqual(text.gold, "18")
  }
}
