import Foundation
import LTMDownload
import LTMHarness
import LTMTestSupport
import XCTest

/// Download on first use fetches exactly the split zero-shot will score.
final class DataProvisioningTests: XCTestCase {
  private let tasks = SharedData.packageRoot.appendingPathComponent("tasks")

  func testRequiredFilesFollowTheScoredSplit() throws {
    func paths(_ names: [String], split: String? = nil, protocolName: String = "ltm") throws -> [String] {
      try DataProvisioning.requiredFiles(taskNames: names, split: split, protocolName: protocolName, tasksDirectory: tasks).map(\.path)
    }
    // Reference splits: validation for PTB and WikiText, test (all 50 shards) for LM1B.
    let defaults = try paths(["ptb", "wikitext2", "wikitext103", "lm1b"])
    XCTAssertEqual(Array(defaults.prefix(2)), ["ptb/ptb.valid.txt", "wikitext/wiki.valid.raw"])
    XCTAssertEqual(defaults.count, 2 + 50, "wikitext103 shares wikitext2's file")
    XCTAssertEqual(try paths(["ptb"], split: "test"), ["ptb/ptb.test.txt"])
    // The sedd protocol scores the test split.
    XCTAssertEqual(try paths(["ptb", "wikitext2"], protocolName: "sedd"), ["ptb/ptb.test.txt", "wikitext/wiki.test.raw"])
    XCTAssertThrowsError(try paths(["lm1b"], split: "validation")) { error in
      XCTAssertEqual(String(describing: error), "the download manifest has no 'validation' files for lm1b")
    }
  }

  func testATaskWithoutADownloadSourceSaysToPassDataDir() throws {
    let yaml = try temporaryDirectory(self).appendingPathComponent("mine.yaml")
    try "version: 1\nname: mine\nreader: plain_text\ndetokenizer: none\ndefault_split: test\nsplits:\n  test: [mine/a.txt]\n".write(to: yaml, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(
      try DataProvisioning.requiredFiles(taskNames: [yaml.path], split: nil, protocolName: "ltm", tasksDirectory: tasks)
    ) { error in
      XCTAssertTrue(String(describing: error).contains("task mine has no download source"), "\(error)")
      XCTAssertTrue(String(describing: error).contains("--data-dir"), "\(error)")
    }
  }
}
