import Foundation
import LTMTestSupport
import XCTest

/// The four `zero-shot-pipeline` fixture files, decoded once per test process (they are about 10 MB of JSON).
enum PipelineFixtures {
  /// One example as the reference produced it: the loader's text, the detokenized text, the GPT-2 ids (no EOS).
  struct Row: Decodable {
    var raw: String
    var detok: String
    var ids: [Int32]
  }

  /// Fixture name, the data file it was read from (relative to `shared/data`), and its detokenizer.
  static let files: [(name: String, dataFile: String, detokenizer: String)] = [
    ("ptb-valid", "ptb/ptb.valid.txt", "ptb"),
    ("ptb-test", "ptb/ptb.test.txt", "ptb"),
    ("wikitext-test", "wikitext/wiki.test.raw", "wikitext"),
    ("lm1b-heldout-00010", "lm1b/news.en.heldout-00010-of-00050", "lm1b"),
  ]

  private static let cache = Cache()

  /// The rows of `zero-shot-pipeline/<name>.jsonl`; throws (failing the test) when the file is missing.
  static func rows(_ name: String) throws -> [Row] {
    try cache.rows(name)
  }

  /// `summary.json`.
  static func summary() throws -> [String: Any] {
    try SharedData.json("fixtures/zero-shot-pipeline/summary.json")
  }

  private final class Cache: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String: [Row]] = [:]

    func rows(_ name: String) throws -> [Row] {
      lock.lock()
      defer { lock.unlock() }
      if let rows = stored[name] { return rows }
      let data = try Data(contentsOf: SharedData.file("fixtures/zero-shot-pipeline/\(name).jsonl"))
      let decoder = JSONDecoder()
      var rows: [Row] = []
      for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        rows.append(try decoder.decode(Row.self, from: Data(line)))
      }
      stored[name] = rows
      return rows
    }
  }
}

/// Byte-exact string comparison: Swift `==` on `String` uses canonical equivalence, which would hide exactly
/// the normalisation differences the detokenizer tests exist to catch.
func assertSameBytes(_ actual: String, _ expected: String, _ message: @autoclosure () -> String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
  if Array(actual.utf8) != Array(expected.utf8) {
    XCTFail("\(message()): got \(actual.debugDescription), expected \(expected.debugDescription)", file: file, line: line)
  }
}

/// The message of an error thrown by `body`, or nil when it does not throw.
func errorMessage(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch {
    return String(describing: error)
  }
}

/// A fresh temporary directory, removed after the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-tasks-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
  return dir
}

/// The committed golden of `tools/make_reference_text_goldens.py`, made by the reference code itself.
enum ReferenceTextGoldens {
  static func load() throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/reference-text-goldens.json")
    return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
  }
}
