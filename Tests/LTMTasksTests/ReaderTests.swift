import Foundation
import LTMTestSupport
import XCTest
@testable import LTMTasks

/// Readers on small synthetic files: Python's universal newlines, stripping, UTF-8 checking, JSON Lines.
final class ReaderTests: XCTestCase {
  private func read(_ kind: ReaderKind, _ text: String, field: String? = nil) throws -> [String] {
    try kind.examples(utf8: Array(text.utf8), file: "f.txt", fields: field.map { TextFields([$0]) })
  }

  func testUniversalNewlines() throws {
    let text = "a\r\nb\rc\n\n \u{A0}\nd"
    XCTAssertEqual(try read(.wikitextRaw, text), ["a\n", "b\n", "c\n", "", "", "d"])
    XCTAssertEqual(try read(.ptbLines, text), ["a", "b", "c", "", "", "d"])
    XCTAssertEqual(try read(.lm1bLines, text), ["a", "b", "c", "", "", "d"])
    XCTAssertEqual(try read(.plainText, text), ["a", "b", "c", "d"])
    XCTAssertEqual(try read(.ptbLines, "x\n"), ["x"], "a final newline does not start a line")
    XCTAssertEqual(try read(.ptbLines, ""), [])
  }

  func testWikitextKeepsInnerSpacesAndTheNewline() throws {
    XCTAssertEqual(try read(.wikitextRaw, " = Title = \n \n Text . \n"), [" = Title = \n", "", " Text . \n"])
  }

  func testStripIsUnicodeAware() throws {
    XCTAssertEqual(try read(.ptbLines, "\u{1C} a \u{3000}\n"), ["a"])
    XCTAssertEqual(try read(.ptbLines, "\u{200B}a\n"), ["\u{200B}a"])
  }

  func testInvalidUTF8NamesTheFileAndLine() {
    var bytes = Array("ok\nfine\n".utf8)
    bytes += [0x62, 0xFF, 0x0A]
    let message = errorMessage { _ = try ReaderKind.ptbLines.examples(utf8: bytes, file: "ptb/bad.txt") } ?? ""
    XCTAssertTrue(message.contains("ptb/bad.txt") && message.contains("UTF-8") && message.contains("line 3"), message)
    XCTAssertNil(TextFile.firstInvalidUTF8Offset(Array("h\u{E9}llo \u{1F600}".utf8)))
    XCTAssertEqual(TextFile.firstInvalidUTF8Offset([0x61, 0xC3]), 1, "a truncated sequence")
  }

  func testJSONLines() throws {
    let text = "{\"text\": \"first \\u201cq\\u201d\", \"n\": 1}\n\n{\"text\": \"second\"}\n"
    XCTAssertEqual(try read(.jsonl, text, field: "text"), ["first \u{201C}q\u{201D}", "second"])
    let missing = errorMessage { _ = try self.read(.jsonl, "{\"text\": \"a\"}\n{\"body\": \"b\"}\n", field: "text") } ?? ""
    XCTAssertEqual(missing, "f.txt line 2: no field 'text'")
    let number = errorMessage { _ = try self.read(.jsonl, "{\"text\": 3}\n", field: "text") } ?? ""
    XCTAssertEqual(number, "f.txt line 1: field 'text' is not a string")
    let broken = errorMessage { _ = try self.read(.jsonl, "{\"text\": \"a\"}\n[1, 2\n", field: "text") } ?? ""
    XCTAssertTrue(broken.hasPrefix("f.txt line 2:"), broken)
  }

  /// Records as the Hugging Face loaders build their text (#15): scientific_papers joins the paragraphs of
  /// `article_text` with "\n" (an empty list is an empty article), ag_news joins title and description with " ".
  func testListFieldsAndSeveralFieldsJoin() throws {
    let article = TextFields(["article_text"], join: "\n")
    let papers = "{\"article_id\": \"a\", \"article_text\": [\"p one .\", \"p two\"]}\n{\"article_id\": \"b\", \"article_text\": []}\n"
    XCTAssertEqual(try ReaderKind.jsonl.examples(utf8: Array(papers.utf8), file: "val.txt", fields: article), ["p one .\np two", ""])
    for (record, reason) in [
      ("{\"article_text\": [\"a\", 3]}", "field 'article_text' is a list with a value that is not a string"),
      ("{\"abstract_text\": [\"a\"]}", "no field 'article_text'"),
      ("{\"article_text\": {\"a\": 1}}", "field 'article_text' is not a string"),
    ] {
      let message = errorMessage { _ = try ReaderKind.jsonl.examples(utf8: Array((record + "\n").utf8), file: "val.txt", fields: article) } ?? ""
      XCTAssertEqual(message, "val.txt line 1: \(reason)")
    }
    let unjoined = errorMessage { _ = try self.read(.jsonl, "{\"text\": [\"a\"]}\n", field: "text") } ?? ""
    XCTAssertTrue(unjoined.contains("'join'"), unjoined)

    let rows = "\"3\",\"Wall St. Bears\",\"Short-sellers \"\"are\"\" back\\band\"\n\"4\",\"T\",\"D, with comma\"\n"
    let fields = TextFields(["title", "description"], join: " ")
    XCTAssertEqual(
      try ReaderKind.csv.examples(utf8: Array(rows.utf8), file: "test.csv", fields: fields, columns: ["label", "title", "description"]),
      ["Wall St. Bears Short-sellers \"are\" back\\band", "T D, with comma"])
    let short = errorMessage { _ = try ReaderKind.csv.examples(utf8: Array("\"1\",\"x\"\n".utf8), file: "test.csv", fields: fields, columns: ["label", "title", "description"]) } ?? ""
    XCTAssertTrue(short.contains("test.csv") && short.contains("expected 3 CSV fields"), short)
  }

  func testLambadaDataThroughAJSONLTask() throws {
    let spec = try TaskSpec.parse(yaml: """
      name: lambada
      reader: jsonl
      field: text
      detokenizer: lambada
      default_split: test
      splits:
        test: [lambada/lambada_test.jsonl]
      """, file: "lambada.yaml")
    let examples = try spec.examples(split: "test", dataDirectory: SharedData.file("data"))
    XCTAssertEqual(examples.count, 5153)
    XCTAssertTrue(examples.allSatisfy { $0.hasPrefix("\n") && !$0.contains("\u{201C}") })
  }

  func testEmptyDatasetAndUnreadableFile() throws {
    let dir = try temporaryDirectory(self)
    try "\n  \n".write(to: dir.appendingPathComponent("blank.txt"), atomically: true, encoding: .utf8)
    let spec = TaskSpec(name: "blank", reader: .plainText, detokenizer: .none, defaultSplit: "test", splits: ["test": ["blank.txt"]])
    XCTAssertThrowsError(try spec.examples(split: "test", dataDirectory: dir)) { error in
      XCTAssertEqual(error as? TaskError, .emptyDataset(task: "blank", split: "test"))
    }
    try Data([0x61, 0xFE, 0x0A]).write(to: dir.appendingPathComponent("bad.txt"))
    var bad = spec
    bad.splits = ["test": ["bad.txt"]]
    let message = errorMessage { _ = try bad.examples(split: "test", dataDirectory: dir) } ?? ""
    XCTAssertTrue(message.contains("bad.txt") && message.contains("UTF-8"), message)
  }
}
