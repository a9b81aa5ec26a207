import Foundation
import LTMTestSupport
import XCTest
@testable import LTMTasks

/// Task YAML loading: the shipped catalog, user files named by path, and one-line errors naming the file and
/// key for everything a strict reader must refuse.
final class TaskDefinitionTests: XCTestCase {
  static let tinyYAML = """
    name: tiny
    description: three words
    reader: plain_text
    detokenizer: none
    default_split: test
    splits:
      test: [tiny.txt]
    """

  private func shippedCatalog() throws -> TaskCatalog {
    try TaskCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks"))
  }

  /// The error message of parsing `yaml`, which must be an `invalidDefinition` on one line naming the file.
  private func definitionError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
      _ = try TaskSpec.parse(yaml: yaml, file: "/x/user-task.yaml")
      XCTFail("accepted: \(yaml)", file: file, line: line)
      return ""
    } catch let error as TaskError {
      guard case .invalidDefinition = error else {
        XCTFail("wrong error \(error)", file: file, line: line)
        return ""
      }
      let message = error.description
      XCTAssertTrue(message.contains("/x/user-task.yaml"), message, file: file, line: line)
      XCTAssertFalse(message.contains("\n"), "multi-line: \(message)", file: file, line: line)
      return message
    } catch {
      XCTFail("unexpected error type \(error)", file: file, line: line)
      return ""
    }
  }

  func testShippedTasksAndTheirDefaults() throws {
    let catalog = try shippedCatalog()
    XCTAssertEqual(catalog.names, ["ag_news", "arxiv", "lambada", "lm1b", "ptb", "pubmed", "wikitext103", "wikitext2"])
    let expected: [String: (ReaderKind, Detokenizer, String, [String])] = [
      "lambada": (.jsonl, .lambada, "test", ["test"]),
      "ag_news": (.csv, .none, "test", ["test"]),
      "pubmed": (.jsonl, .scientificPapers, "validation", ["test", "validation"]),
      "arxiv": (.jsonl, .scientificPapers, "validation", ["test", "validation"]),
      "ptb": (.ptbLines, .ptb, "validation", ["test", "validation"]),
      "wikitext2": (.wikitextRaw, .wikitext, "validation", ["test", "validation"]),
      "wikitext103": (.wikitextRaw, .wikitext, "validation", ["test", "validation"]),
      "lm1b": (.lm1bLines, .lm1b, "test", ["test"]),
    ]
    for (name, (reader, detokenizer, split, splits)) in expected {
      let spec = try catalog.task(named: name)
      XCTAssertEqual(spec.name, name)
      XCTAssertEqual(spec.version, 1, name)
      XCTAssertEqual(spec.reader, reader, name)
      XCTAssertEqual(spec.detokenizer, detokenizer, name)
      XCTAssertEqual(spec.defaultSplit, split, name)
      XCTAssertEqual(spec.splitNames, splits, name)
      XCTAssertNotNil(spec.description, name)
    }
    XCTAssertEqual(try catalog.task(named: "ptb").splits["validation"], ["ptb/ptb.valid.txt"])
    XCTAssertEqual(try catalog.task(named: "wikitext2").splits, try catalog.task(named: "wikitext103").splits)
    XCTAssertEqual(try catalog.task(named: "lm1b").expectedFileCount(split: "test"), 50)
    XCTAssertNil(try catalog.task(named: "ptb").expectedFileCount(split: "validation"))
  }

  func testMissingDataFilesAndSplitsAreNamed() throws {
    let catalog = try shippedCatalog()
    let data = try SharedData.file("data")
    // The shared data has no wiki.valid.raw.
    XCTAssertThrowsError(try catalog.task(named: "wikitext2").files(split: "validation", dataDirectory: data)) { error in
      XCTAssertEqual(error as? TaskError, .missingFile(task: "wikitext2", split: "validation", path: "wikitext/wiki.valid.raw"))
      XCTAssertTrue(String(describing: error).contains("wikitext/wiki.valid.raw"))
    }
    XCTAssertThrowsError(try catalog.task(named: "lm1b").files(split: "validation", dataDirectory: data)) { error in
      XCTAssertEqual(error as? TaskError, .unknownSplit(task: "lm1b", split: "validation", known: ["test"]))
      XCTAssertTrue(String(describing: error).contains("validation"))
    }
    let empty = try temporaryDirectory(self)
    XCTAssertThrowsError(try catalog.task(named: "lm1b").files(split: "test", dataDirectory: empty)) { error in
      XCTAssertEqual(error as? TaskError, .noMatchingFiles(task: "lm1b", split: "test", pattern: "lm1b/news.en.heldout-*"))
      XCTAssertTrue(String(describing: error).contains("lm1b/news.en.heldout-*"))
    }
    XCTAssertEqual(try catalog.task(named: "ptb").files(split: "test", dataDirectory: data).map(\.lastPathComponent), ["ptb.test.txt"])
  }

  func testTinyUserTaskByPath() throws {
    let dir = try temporaryDirectory(self)
    let yamlFile = dir.appendingPathComponent("tiny.yaml")
    try Self.tinyYAML.write(to: yamlFile, atomically: true, encoding: .utf8)
    try "a few words\n\n  and a few more  \n".write(to: dir.appendingPathComponent("tiny.txt"), atomically: true, encoding: .utf8)
    let catalog = try shippedCatalog()
    let spec = try catalog.task(named: yamlFile.path)
    XCTAssertEqual(spec, TaskSpec(
      name: "tiny", description: "three words", reader: .plainText, detokenizer: .none, defaultSplit: "test",
      splits: ["test": ["tiny.txt"]]))
    XCTAssertEqual(try spec.examples(split: "test", dataDirectory: dir), ["a few words", "and a few more"])
    XCTAssertThrowsError(try catalog.task(named: dir.appendingPathComponent("absent.yaml").path)) { error in
      XCTAssertTrue(String(describing: error).contains("absent.yaml"), "\(error)")
    }
    XCTAssertThrowsError(try catalog.task(named: "nope")) { error in
      XCTAssertEqual(error as? TaskError, .unknownTask(name: "nope", known: ["ag_news", "arxiv", "lambada", "lm1b", "ptb", "pubmed", "wikitext103", "wikitext2", "paper (preset)"]))
    }
  }

  func testStrictKeysAndValues() {
    func yaml(replacing old: String, with new: String) -> String {
      XCTAssertTrue(Self.tinyYAML.contains(old), old)
      return Self.tinyYAML.replacingOccurrences(of: old, with: new)
    }
    let cases: [(String, [String])] = [
      (Self.tinyYAML + "\ndetokeniser: wikitext", ["unknown key 'detokeniser'", "line 8"]),
      (yaml(replacing: "reader: plain_text", with: "reader: tsv"), ["key 'reader'", "'tsv'", "plain_text"]),
      (yaml(replacing: "detokenizer: none", with: "detokenizer: moses"), ["key 'detokenizer'", "'moses'"]),
      (yaml(replacing: "default_split: test", with: "default_split: validation"), ["key 'default_split'", "'validation'"]),
      (yaml(replacing: "test: [tiny.txt]", with: "test: tiny.txt"), ["splits.test", "list"]),
      (yaml(replacing: "test: [tiny.txt]", with: "test: []"), ["splits.test"]),
      (yaml(replacing: "test: [tiny.txt]", with: "test: [/abs/tiny.txt]"), ["splits.test", "relative", "absolute"]),
      // A task file from elsewhere must not read outside --data-dir (#13): every way out is refused.
      (yaml(replacing: "test: [tiny.txt]", with: "test: [../secret.txt]"), ["splits.test", "not a plain relative path", "'..'"]),
      (yaml(replacing: "test: [tiny.txt]", with: "test: [\"data/../../x/*.txt\"]"), ["splits.test", "'..'"]),
      (yaml(replacing: "test: [tiny.txt]", with: "test: [\"a\\\\b.txt\"]"), ["splits.test", "backslash"]),
      (yaml(replacing: "name: tiny", with: "name: my task"), ["key 'name'"]),
      (yaml(replacing: "name: tiny\n", with: ""), ["missing key 'name'"]),
      (yaml(replacing: "reader: plain_text\n", with: ""), ["missing key 'reader'"]),
      (yaml(replacing: "detokenizer: none\n", with: ""), ["missing key 'detokenizer'"]),
      ("version: 2\n" + Self.tinyYAML, ["key 'version'", "2"]),
      ("version: one\n" + Self.tinyYAML, ["key 'version'", "integer"]),
      (Self.tinyYAML + "\nexpected_files:\n  test: 0", ["expected_files.test", "positive"]),
      (Self.tinyYAML + "\nexpected_files:\n  train: 3", ["expected_files", "'train'"]),
      (Self.tinyYAML + "\nfield: text", ["key 'field'", "jsonl and csv"]),
      (Self.tinyYAML + "\njoin: \" \"", ["key 'join'", "jsonl and csv"]),
      (yaml(replacing: "reader: plain_text", with: "reader: jsonl"), ["missing key 'field'"]),
      (yaml(replacing: "reader: plain_text", with: "reader: jsonl") + "\nfield: [a, b]", ["key 'field'", "several fields need 'join'"]),
      (yaml(replacing: "reader: plain_text", with: "reader: jsonl") + "\nfield: []", ["key 'field'", "at least one"]),
      (yaml(replacing: "reader: plain_text", with: "reader: jsonl") + "\nfield: text\ncolumns: [text]", ["key 'columns'", "only the csv"]),
      (yaml(replacing: "reader: plain_text", with: "reader: csv") + "\nfield: text", ["missing key 'columns'"]),
      (yaml(replacing: "reader: plain_text", with: "reader: csv") + "\nfield: body\ncolumns: [label, text]", ["'body' is not one of the columns"]),
      (yaml(replacing: "reader: plain_text", with: "reader: csv") + "\nfield: text\ncolumns: [text, text]", ["named twice"]),
      (Self.tinyYAML + "\nname: other", ["'name'"]),
      ("name: [unclosed", ["not valid YAML"]),
      ("", ["empty"]),
      ("- a\n- b", ["mapping"]),
    ]
    for (text, needles) in cases {
      let message = definitionError(text)
      for needle in needles { XCTAssertTrue(message.contains(needle), "\(needle) not in: \(message)") }
    }
  }

  func testVersionAndExpectedFilesAreAccepted() throws {
    let spec = try TaskSpec.parse(
      yaml: "version: 1\n" + Self.tinyYAML + "\nexpected_files:\n  test: 3\n", file: "t.yaml")
    XCTAssertEqual(spec.version, 1)
    XCTAssertEqual(spec.expectedFileCount(split: "test"), 3)
    let jsonl = try TaskSpec.parse(
      yaml: Self.tinyYAML.replacingOccurrences(of: "reader: plain_text", with: "reader: jsonl") + "\nfield: text",
      file: "t.yaml")
    XCTAssertEqual(jsonl.field, TextFields(["text"]))
    let csv = try TaskSpec.parse(
      yaml: Self.tinyYAML.replacingOccurrences(of: "reader: plain_text", with: "reader: csv")
        + "\ncolumns: [label, title, description]\nfield: [title, description]\njoin: \" \"",
      file: "t.yaml")
    XCTAssertEqual(csv.field, TextFields(["title", "description"], join: " "))
    XCTAssertEqual(csv.columns, ["label", "title", "description"])
  }

  /// A user's task file may keep its data beside it (`relative_to: task_file`, #15): its splits resolve under its own
  /// folder, never above it (`..` is still refused), and a missing file names that folder.
  func testATaskFileCanReadDataBesideIt() throws {
    let dir = try temporaryDirectory(self)
    let yaml = dir.appendingPathComponent("mine.yaml")
    try (Self.tinyYAML + "\nrelative_to: task_file").write(to: yaml, atomically: true, encoding: .utf8)
    try "one line\nanother line\n".write(to: dir.appendingPathComponent("tiny.txt"), atomically: true, encoding: .utf8)
    let spec = try TaskSpec.load(file: yaml)
    XCTAssertEqual(spec.taskFileDirectory?.standardizedFileURL.path, dir.standardizedFileURL.path)
    let elsewhere = try temporaryDirectory(self)
    XCTAssertEqual(try spec.examples(split: "test", dataDirectory: elsewhere), ["one line", "another line"])
    try FileManager.default.removeItem(at: dir.appendingPathComponent("tiny.txt"))
    let missing = errorMessage { _ = try spec.examples(split: "test", dataDirectory: elsewhere) } ?? ""
    XCTAssertTrue(missing.contains("tiny.txt") && missing.contains("the task file's folder"), missing)
    var globbed = spec
    globbed.splits["test"] = ["*.jsonl"]
    let unmatched = errorMessage { _ = try globbed.examples(split: "test", dataDirectory: elsewhere) } ?? ""
    XCTAssertTrue(unmatched.contains("*.jsonl") && unmatched.contains("the task file's folder"), unmatched)
    XCTAssertNil(try TaskSpec.parse(yaml: Self.tinyYAML, file: yaml.path).taskFileDirectory, "default: --data-dir")
    for (text, needle) in [
      (Self.tinyYAML + "\nrelative_to: home", "key 'relative_to'"),
      (Self.tinyYAML.replacingOccurrences(of: "test: [tiny.txt]", with: "test: [../tiny.txt]") + "\nrelative_to: task_file", "'..'"),
    ] {
      let message = errorMessage { _ = try TaskSpec.parse(yaml: text, file: yaml.path) } ?? ""
      XCTAssertTrue(message.contains(needle), "\(needle): \(message)")
    }
  }

  /// `--tasks paper` is the papers' seven zero-shot columns in their order (#15); presets are data, strictly read.
  func testPresetsExpandInOrderAndAreCheckedWhenLoaded() throws {
    let catalog = try shippedCatalog()
    let paper = ["ptb", "wikitext2", "lm1b", "lambada", "ag_news", "pubmed", "arxiv"]
    XCTAssertEqual(catalog.presets["paper"]?.tasks, paper)
    XCTAssertEqual(try catalog.expand(["paper"]), paper)
    XCTAssertEqual(try catalog.expand(["lm1b", "paper", "wikitext103"]), ["lm1b", "ptb", "wikitext2", "lambada", "ag_news", "pubmed", "arxiv", "wikitext103"])
    XCTAssertEqual(try catalog.expand(["ptb", "/x/mine.yaml"]), ["ptb", "/x/mine.yaml"], "other names are left to task(named:)")

    let dir = try temporaryDirectory(self)
    try Self.tinyYAML.write(to: dir.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("presets"), withIntermediateDirectories: true)
    for (text, needle) in [
      ("name: all\ntasks: [tiny, nope]\n", "lists unknown task 'nope'"),
      ("name: tiny\ntasks: [tiny]\n", "has the name of a task"),
      ("name: all\ntask: [tiny]\n", "unknown key 'task'"),
      ("name: all\ntasks: [tiny, tiny]\n", "listed twice"),
      ("name: all\ntasks: []\n", "non-empty list"),
    ] {
      try text.write(to: dir.appendingPathComponent("presets/all.yaml"), atomically: true, encoding: .utf8)
      let message = errorMessage { _ = try TaskCatalog.load(directory: dir) } ?? ""
      XCTAssertTrue(message.contains(needle) && !message.contains("\n"), "\(needle): \(message)")
    }
  }

  func testCatalogRefusesDuplicateNamesAndBadFiles() throws {
    let dir = try temporaryDirectory(self)
    try Self.tinyYAML.write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
    try Self.tinyYAML.write(to: dir.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
    try "not a task".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
    let message = errorMessage { _ = try TaskCatalog.load(directory: dir) } ?? ""
    XCTAssertTrue(message.contains("b.yml") && message.contains("a.yaml") && message.contains("'tiny'"), message)
    try FileManager.default.removeItem(at: dir.appendingPathComponent("b.yml"))
    XCTAssertEqual(try TaskCatalog.load(directory: dir).names, ["tiny"])
    try "name: [".write(to: dir.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
    let broken = errorMessage { _ = try TaskCatalog.load(directory: dir) } ?? ""
    XCTAssertTrue(broken.contains("c.yaml") && !broken.contains("\n"), broken)
    let missing = errorMessage { _ = try TaskCatalog.load(directory: dir.appendingPathComponent("none")) } ?? ""
    XCTAssertTrue(missing.contains("none"), missing)
  }

  func testGlobsAreSortedAndListedFilesReadOnce() throws {
    let dir = try temporaryDirectory(self)
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("d/sub"), withIntermediateDirectories: true)
    for name in ["part-10", "part-2", "part-1", ".part-hidden", "other"] {
      try "x \(name)\n".write(to: dir.appendingPathComponent("d/\(name)"), atomically: true, encoding: .utf8)
    }
    let spec = TaskSpec(
      name: "g", reader: .plainText, detokenizer: .none, defaultSplit: "all",
      splits: ["all": ["d/part-2", "d/part-*"], "set": ["d/part-[12]"], "dir": ["d/sub"]])
    XCTAssertEqual(try spec.files(split: "all", dataDirectory: dir).map(\.lastPathComponent), ["part-2", "part-1", "part-10"])
    XCTAssertEqual(try spec.examples(split: "all", dataDirectory: dir), ["x part-2", "x part-1", "x part-10"])
    XCTAssertEqual(try spec.files(split: "set", dataDirectory: dir).map(\.lastPathComponent), ["part-1", "part-2"])
    XCTAssertThrowsError(try spec.files(split: "dir", dataDirectory: dir)) { error in
      XCTAssertTrue(String(describing: error).contains("d/sub"), "\(error)")
    }
  }

  func testGlobMatcher() {
    XCTAssertTrue(GlobMatcher("news.en.heldout-*").matches("news.en.heldout-00010-of-00050"))
    XCTAssertFalse(GlobMatcher("news.en.heldout-*").matches("news.en-00010"))
    XCTAssertTrue(GlobMatcher("a?c").matches("abc"))
    XCTAssertFalse(GlobMatcher("a?c").matches("ac"))
    XCTAssertTrue(GlobMatcher("x[0-9]").matches("x7"))
    XCTAssertFalse(GlobMatcher("x[!0-9]").matches("x7"))
    XCTAssertTrue(GlobMatcher("x[!0-9]").matches("xa"))
    XCTAssertTrue(GlobMatcher("*.txt").matches(".txt"))
    XCTAssertTrue(GlobMatcher("a*b*c").matches("aXbYbZc"))
    XCTAssertFalse(GlobMatcher("a*b*c").matches("aXbYbZ"))
    XCTAssertTrue(GlobMatcher("[x").matches("[x"), "an unclosed bracket is literal")
  }

  func testSpecRoundTripsThroughJSON() throws {
    let spec = try shippedCatalog().task(named: "lm1b")
    let decoded = try JSONDecoder().decode(TaskSpec.self, from: JSONEncoder().encode(spec))
    XCTAssertEqual(decoded, spec)
    let minimal = #"{"name":"t","reader":"jsonl","detokenizer":"lambada","default_split":"test","splits":{"test":["a.jsonl"]},"field":"text"}"#
    let parsed = try JSONDecoder().decode(TaskSpec.self, from: Data(minimal.utf8))
    XCTAssertEqual(parsed.version, 1)
    XCTAssertEqual(parsed.expectedFiles, [:])
  }
}
