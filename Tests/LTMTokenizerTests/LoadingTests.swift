import Foundation
import LTMTestSupport
import XCTest

@testable import LTMTokenizer

/// `load(directory:)`: which files win, and one-line errors that name the file.
final class LoadingTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func copyShared(_ name: String, as target: String? = nil) throws {
    try FileManager.default.copyItem(
      at: SharedData.file("data/gpt2/\(name)"), to: directory.appendingPathComponent(target ?? name))
  }

  private func write(_ name: String, _ text: String) throws {
    try Data(text.utf8).write(to: directory.appendingPathComponent(name))
  }

  private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  /// Asserts `.malformed` naming `file`, with a reason containing `fragment`, and a one-line description.
  private func assertMalformed(
    file: String, reason fragment: String, line: UInt = #line, _ body: () throws -> Any
  ) {
    XCTAssertThrowsError(try body(), line: line) { error in
      guard case .malformed(let named, let reason)? = error as? TokenizerError else {
        return XCTFail("expected .malformed, got \(error)", line: line)
      }
      XCTAssertEqual(named, file, line: line)
      XCTAssertTrue(reason.contains(fragment), "reason: \(reason)", line: line)
      XCTAssertFalse("\(error)".contains("\n"), line: line)
      XCTAssertTrue("\(error)".contains(file), line: line)
    }
  }

  func testMissingDirectoryAndEmptyDirectory() {
    let absent = directory.appendingPathComponent("absent")
    XCTAssertThrowsError(try GPT2Tokenizer.load(directory: absent)) {
      XCTAssertEqual($0 as? TokenizerError, .missingFiles(directory: absent.path))
      XCTAssertFalse("\($0)".contains("\n"))
    }
    XCTAssertThrowsError(try GPT2Tokenizer.load(directory: directory)) {
      XCTAssertEqual($0 as? TokenizerError, .missingFiles(directory: self.directory.path))
    }
  }

  func testHalfAPairIsMissing() throws {
    try copyShared("vocab.json")
    try copyShared("vocab.bpe")
    XCTAssertThrowsError(try GPT2Tokenizer.load(directory: directory)) {
      XCTAssertEqual($0 as? TokenizerError, .missingFiles(directory: self.directory.path))
    }
  }

  func testPreferenceOrder() throws {
    try write("x.tiktoken", "garbage")
    try write("encoder.json", "garbage")
    try write("vocab.bpe", "garbage")
    try copyShared("vocab.json")
    try copyShared("merges.txt")
    XCTAssertEqual(try GPT2Tokenizer.load(directory: directory).encode("Hello world"), [15496, 995])

    try FileManager.default.removeItem(at: directory.appendingPathComponent("vocab.json"))
    assertMalformed(file: path("encoder.json"), reason: "JSON") { try GPT2Tokenizer.load(directory: directory) }
    try copyShared("encoder.json", as: "encoder.json.tmp")
    try FileManager.default.removeItem(at: directory.appendingPathComponent("encoder.json"))
    try FileManager.default.moveItem(
      at: directory.appendingPathComponent("encoder.json.tmp"), to: directory.appendingPathComponent("encoder.json"))
    try FileManager.default.removeItem(at: directory.appendingPathComponent("vocab.bpe"))
    try copyShared("vocab.bpe")
    XCTAssertEqual(try GPT2Tokenizer.load(directory: directory).encode("Hello world"), [15496, 995])

    try FileManager.default.removeItem(at: directory.appendingPathComponent("vocab.bpe"))
    assertMalformed(file: path("x.tiktoken"), reason: "line 1") { try GPT2Tokenizer.load(directory: directory) }
    try FileManager.default.removeItem(at: directory.appendingPathComponent("x.tiktoken"))
    try copyShared("gpt2.tiktoken")
    XCTAssertEqual(try GPT2Tokenizer.load(directory: directory).encode("Hello world"), [15496, 995])

    try copyShared("gpt2.tiktoken", as: "other.tiktoken")
    assertMalformed(file: directory.path, reason: "expected one") { try GPT2Tokenizer.load(directory: directory) }
  }

  func testMalformedVocabulary() throws {
    try copyShared("merges.txt")
    try write("vocab.json", #"{"a": 1, "b": }"#)
    assertMalformed(file: path("vocab.json"), reason: "character 14") { try GPT2Tokenizer.load(directory: directory) }
    try write("vocab.json", #"{"a": 0, "b": 0}"#)
    assertMalformed(file: path("vocab.json"), reason: "id 0 is used twice") { try GPT2Tokenizer.load(directory: directory) }
    try write("vocab.json", #"{"a b": 0}"#)
    assertMalformed(file: path("vocab.json"), reason: "byte alphabet") { try GPT2Tokenizer.load(directory: directory) }
    try write("vocab.json", #"{"<|endoftext|>": 7}"#)
    assertMalformed(file: path("vocab.json"), reason: "expected 50256") { try GPT2Tokenizer.load(directory: directory) }
    try write("vocab.json", #"{"a": 0}"#)
    assertMalformed(file: path("vocab.json"), reason: "single byte") { try GPT2Tokenizer.load(directory: directory) }
    assertMalformed(file: "vocab.json", reason: "not valid UTF-8") {
      try GPT2Tokenizer(vocabJSON: Data([0x7B, 0xFF, 0x7D]), merges: Data())
    }
  }

  func testMalformedMerges() throws {
    try copyShared("vocab.json")
    try write("merges.txt", "#version: 0.2\nĠ t\nĠ t h\n")
    assertMalformed(file: path("merges.txt"), reason: "line 3") { try GPT2Tokenizer.load(directory: directory) }
    try write("merges.txt", "#version: 0.2\nĠ t\nqzx qzy\n")
    assertMalformed(file: path("merges.txt"), reason: "not in the vocabulary") { try GPT2Tokenizer.load(directory: directory) }
    // An empty or truncated merges file would silently make every multi-byte token unreachable (#13).
    try write("merges.txt", "")
    assertMalformed(file: path("merges.txt"), reason: "0 merges leave 50000 multi-byte vocabulary tokens unreachable") { try GPT2Tokenizer.load(directory: directory) }
    let real = try String(contentsOf: SharedData.file("data/gpt2/merges.txt"), encoding: .utf8)
    try write("merges.txt", String(real.split(separator: "\n").prefix(30001).joined(separator: "\n")))
    assertMalformed(file: path("merges.txt"), reason: "30000 merges leave 20000") { try GPT2Tokenizer.load(directory: directory) }
  }

  func testMalformedTiktoken() throws {
    let real = try String(contentsOf: SharedData.file("data/gpt2/gpt2.tiktoken"), encoding: .utf8)
    var lines = real.split(separator: "\n").map(String.init)
    assertMalformed(file: "gpt2.tiktoken", reason: "line 2") { try GPT2Tokenizer(tiktoken: Data("IQ== 0\nI*== 1\n".utf8)) }
    assertMalformed(file: "gpt2.tiktoken", reason: "line 1") { try GPT2Tokenizer(tiktoken: Data("IQ==\n".utf8)) }
    assertMalformed(file: "gpt2.tiktoken", reason: "rank 0 is used twice") {
      try GPT2Tokenizer(tiktoken: Data("IQ== 0\nIg== 0\n".utf8))
    }
    assertMalformed(file: "gpt2.tiktoken", reason: "reserved") {
      try GPT2Tokenizer(tiktoken: Data((real + "YWJjZGVmZ2hpamts 50256\n").utf8))
    }
    lines.removeFirst()  // "!" (byte 0x21)
    assertMalformed(file: "gpt2.tiktoken", reason: "0x21") {
      try GPT2Tokenizer(tiktoken: Data(lines.joined(separator: "\n").utf8))
    }
    let crlf = Data(real.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    XCTAssertEqual(try GPT2Tokenizer(tiktoken: crlf).encode("Hi"), [17250])
  }
}
