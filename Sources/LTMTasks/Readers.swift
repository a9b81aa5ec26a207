import Foundation

/// How a task's files are read into examples (one example = one string handed to the detokenizer).
///
/// The three dataset readers reproduce what the Hugging Face loaders used by the reference code yield from the
/// original distribution files, line for line: they open the files in Python text mode (UTF-8, universal
/// newlines: "\r\n", "\r" and "\n" all end a line and read as "\n") and iterate over the lines. The example
/// count and every example's text decide the block contents, so they are matched exactly, not approximately.
public enum ReaderKind: String, Sendable, Codable, CaseIterable {
  /// PTB: one example per line, stripped, blank lines kept as "" (HF `ptb_text_only`: `line.strip()`).
  case ptbLines = "ptb_lines"
  /// WikiText raw: every line with its trailing newline; blank lines as "" (HF `wikitext`:
  /// `row if row.strip() else ""`). The newline matters: the detokenizer's " \n" rule and the tokens see it.
  case wikitextRaw = "wikitext_raw"
  /// LM1B heldout shards: one example per stripped line, all files of the split in sorted order (HF `lm1b`).
  case lm1bLines = "lm1b_lines"
  /// A user's plain text: one example per line, stripped, empty lines skipped.
  case plainText = "plain_text"
  /// JSON Lines: one example per non-blank line, the text of the task's `field` (see `TextFields`).
  case jsonl
  /// CSV without a header row (RFC 4180, as Python's `csv` module reads the AG News files): one example per row,
  /// the text of the task's `field` among its `columns`.
  case csv

  /// Reads one data file. `displayPath` names the file in errors (the path relative to `--data-dir`).
  public func read(file url: URL, displayPath: String? = nil, fields: TextFields? = nil, columns: [String] = []) throws -> [String] {
    let name = displayPath ?? url.path
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw TaskError.unreadable(path: name, reason: oneLine(error))
    }
    return try examples(utf8: [UInt8](data), file: name, fields: fields, columns: columns)
  }

  /// The examples in the UTF-8 bytes of one file; `file` names it in errors.
  public func examples(utf8 bytes: [UInt8], file: String, fields: TextFields? = nil, columns: [String] = []) throws -> [String] {
    if let offset = TextFile.firstInvalidUTF8Offset(bytes) {
      let line = 1 + bytes[..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
      throw TaskError.unreadable(path: file, reason: "not valid UTF-8 (line \(line), byte offset \(offset))")
    }
    let lines = TextFile.universalLines(bytes)
    switch self {
    case .ptbLines, .lm1bLines:
      return lines.map { PythonText.strip(TextFile.string(bytes, $0.range)) }
    case .wikitextRaw:
      return lines.map { line in
        let text = TextFile.string(bytes, line.range)
        guard !PythonText.strip(text).isEmpty else { return "" }
        // The translated line ending is part of the example (Python text mode yields "\n").
        return line.terminated ? text + "\n" : text
      }
    case .plainText:
      return lines.compactMap { line in
        let text = PythonText.strip(TextFile.string(bytes, line.range))
        return text.isEmpty ? nil : text
      }
    case .jsonl:
      guard let fields else {
        throw TaskError.unreadable(path: file, reason: "the jsonl reader needs the task's 'field' (the text key)")
      }
      var out: [String] = []
      out.reserveCapacity(lines.count)
      for (index, line) in lines.enumerated() {
        let slice = bytes[line.range]
        if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        out.append(try fields.text(ofJSON: Data(slice), file: file, line: index + 1))
      }
      return out
    case .csv:
      guard let fields, !columns.isEmpty else {
        throw TaskError.unreadable(path: file, reason: "the csv reader needs the task's 'columns' and 'field'")
      }
      return try FewShotRecords.csv(String(decoding: bytes, as: UTF8.self), columns: columns, file: file).map { fields.text(of: $0.fields) }
    }
  }
}

/// Byte-level helpers for text files: validation and Python's universal-newline line iteration.
enum TextFile {
  struct Line {
    /// The line's bytes without its line ending.
    var range: Range<Int>
    /// Whether a line ending ("\n", "\r\n" or "\r") followed it; only the last line can lack one.
    var terminated: Bool
  }

  /// Python text-mode iteration: a line ends at "\n", "\r\n" or "\r"; a final line without an ending is
  /// still a line; an empty file has none. ASCII CR and LF never occur inside a multi-byte UTF-8 sequence, so
  /// splitting the bytes is the same as splitting the decoded text.
  static func universalLines(_ b: [UInt8]) -> [Line] {
    var lines: [Line] = []
    var start = 0
    var i = 0
    let n = b.count
    while i < n {
      let c = b[i]
      if c == 0x0A {
        lines.append(Line(range: start..<i, terminated: true))
        i += 1
        start = i
      } else if c == 0x0D {
        lines.append(Line(range: start..<i, terminated: true))
        i += (i + 1 < n && b[i + 1] == 0x0A) ? 2 : 1
        start = i
      } else {
        i += 1
      }
    }
    if start < n { lines.append(Line(range: start..<n, terminated: false)) }
    return lines
  }

  /// A `String` from already validated UTF-8 bytes.
  @inline(__always)
  static func string(_ b: [UInt8], _ range: Range<Int>) -> String {
    String(decoding: b[range], as: UTF8.self)
  }

  /// The byte offset of the first ill-formed UTF-8 sequence, or nil when the bytes are valid UTF-8.
  static func firstInvalidUTF8Offset(_ b: [UInt8]) -> Int? {
    // Fast path: pure ASCII needs no decoding.
    if !b.contains(where: { $0 >= 0x80 }) { return nil }
    var decoder = UTF8()
    var iterator = b.makeIterator()
    var offset = 0
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): offset += UTF8.width(scalar)
      case .emptyInput: return nil
      case .error: return offset
      }
    }
  }
}

/// An error's description on one line (Foundation messages sometimes span several).
func oneLine(_ error: Error) -> String {
  oneLine(String(describing: error))
}

func oneLine(_ text: String) -> String {
  text.split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }
    .filter { !$0.isEmpty }.joined(separator: " ")
}
