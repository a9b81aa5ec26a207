import Foundation

extension FewShotTask {
  /// Every document of `split`, read from its files under `dataDirectory` and preprocessed, with ids 0, 1, … in
  /// file order. Errors name the file and line.
  public func documents(split: String, dataDirectory: URL) throws -> [FewShotDocument] {
    guard let files = splits[split] else { throw TaskError.unknownSplit(task: name, split: split, known: splits.keys.sorted()) }
    var docs: [FewShotDocument] = []
    for relative in files {
      let url = dataDirectory.appendingPathComponent(relative)
      guard FileManager.default.fileExists(atPath: url.path) else {
        throw TaskError.missingFile(task: name, split: split, path: relative)
      }
      let text: String
      do {
        text = try String(contentsOf: url, encoding: .utf8)
      } catch {
        throw TaskError.unreadable(path: relative, reason: "not readable as UTF-8 text")
      }
      let records: [(line: Int, fields: [String: String])]
      switch format {
      case .jsonl: records = try FewShotRecords.jsonl(text, file: relative)
      case .csv: records = try FewShotRecords.csv(text, columns: columns, file: relative)
      case .wikitextDocuments: records = FewShotRecords.wikitextPages(text)
      case .ptbLines, .wikitextRaw, .lm1bLines, .plainText:
        let reader = ReaderKind(rawValue: format.rawValue)!
        records = try reader.examples(utf8: Array(text.utf8), file: relative).enumerated().map { ($0.offset + 1, ["text": $0.element]) }
      }
      for r in records {
        var doc = FewShotDocument(id: docs.count, fields: r.fields, source: relative, line: r.line)
        try applyPreprocess(to: &doc)
        docs.append(doc)
      }
    }
    guard !docs.isEmpty else { throw TaskError.emptyDataset(task: name, split: split) }
    return docs
  }

  func applyPreprocess(to doc: inout FewShotDocument) throws {
    func value(_ field: String) throws -> String {
      guard let v = doc.fields[field] else {
        throw TaskError.invalidRecord(file: doc.source, line: doc.line, reason: "preprocess needs field '\(field)', which the document lacks")
      }
      return v
    }
    for step in preprocess {
      switch step {
      case .strip(let field):
        doc.fields[field] = try value(field).trimmingCharacters(in: .whitespacesAndNewlines)
      case .replace(let field, let of, let with):
        doc.fields[field] = try value(field).replacingOccurrences(of: of, with: with)
      case .captures(let field, let pattern, let into):
        let text = try value(field)
        let regex = try NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        guard let m = regex.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else {
          throw TaskError.invalidRecord(file: doc.source, line: doc.line, reason: "field '\(field)' does not match the preprocess pattern \(pattern)")
        }
        for (i, target) in into.enumerated() {
          let r = m.range(at: i + 1)
          doc.fields[target] = r.location == NSNotFound ? "" : ns.substring(with: r)
        }
      }
    }
  }
}

/// Record readers for few-shot data files.
enum FewShotRecords {
  /// WikiText raw as Wikipedia pages, as the EleutherAI/wikitext_document_level loading script yields them: the
  /// text split at "\n" (after Python's universal newlines); a line that, with "= = =" → "===" and "= =" → "==",
  /// stripped, starts with "= " and ends with " =" (a top-level heading) starts a page; a page is its lines joined
  /// with "\n" and is kept when it holds more than whitespace, except the last, which is always kept. `line` is the
  /// page's first line.
  static func wikitextPages(_ text: String) -> [(line: Int, fields: [String: String])] {
    let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
      .split(separator: "\n", omittingEmptySubsequences: false)
    var pages: [(Int, [String: String])] = []
    var current: [Substring] = []
    var start = 1
    for (i, line) in lines.enumerated() {
      let heading = PythonText.strip(line.replacingOccurrences(of: "= = =", with: "===").replacingOccurrences(of: "= =", with: "=="))
      if heading.hasPrefix("= ") && heading.hasSuffix(" =") {
        let page = current.joined(separator: "\n")
        if !PythonText.strip(page).isEmpty { pages.append((start, ["page": page])) }
        current = []
        start = i + 1
      }
      current.append(line)
    }
    pages.append((start, ["page": current.joined(separator: "\n")]))
    return pages
  }

  /// One JSON object per non-blank line; strings, numbers and booleans become string fields.
  static func jsonl(_ text: String, file: String) throws -> [(line: Int, fields: [String: String])] {
    var out: [(Int, [String: String])] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      guard !line.allSatisfy({ $0.isWhitespace }) else { continue }
      guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw TaskError.invalidRecord(file: file, line: i + 1, reason: "not a JSON object")
      }
      var fields: [String: String] = [:]
      for (key, value) in object {
        switch value {
        case let s as String: fields[key] = s
        case let n as NSNumber: fields[key] = n.stringValue
        case is NSNull: continue
        // A list of strings is its lines ("\n".join, as Hugging Face's scientific_papers builds an article from
        // its paragraphs), so a document template can name it.
        case let lines as [String]: fields[key] = lines.joined(separator: "\n")
        default: continue  // nested values cannot be templated; leaving them out makes a template naming one fail
        }
      }
      out.append((i + 1, fields))
    }
    return out
  }

  /// RFC 4180 CSV (double-quoted fields, "" for a quote, newlines allowed inside quotes), no header row. Every row
  /// must have exactly `columns.count` fields.
  static func csv(_ text: String, columns: [String], file: String) throws -> [(line: Int, fields: [String: String])] {
    var rows: [(Int, [String: String])] = []
    var field = ""
    var row: [String] = []
    var inQuotes = false
    var line = 1
    var rowLine = 1
    var chars = Array(text.unicodeScalars)[...]
    func endRow() throws {
      row.append(field)
      field = ""
      defer { row = [] }
      if row.count == 1 && row[0].isEmpty { return }  // blank line
      guard row.count == columns.count else {
        throw TaskError.invalidRecord(file: file, line: rowLine, reason: "expected \(columns.count) CSV fields (\(columns.joined(separator: ", "))), found \(row.count)")
      }
      rows.append((rowLine, Dictionary(uniqueKeysWithValues: zip(columns, row))))
    }
    while let c = chars.popFirst() {
      if inQuotes {
        if c == "\"" {
          if chars.first == "\"" {
            chars.removeFirst()
            field.unicodeScalars.append("\"")
          } else {
            inQuotes = false
          }
        } else {
          if c == "\n" { line += 1 }
          field.unicodeScalars.append(c)
        }
        continue
      }
      switch c {
      case "\"": inQuotes = true
      case ",":
        row.append(field)
        field = ""
      case "\r": continue
      case "\n":
        try endRow()
        line += 1
        rowLine = line
      default: field.unicodeScalars.append(c)
      }
    }
    if inQuotes { throw TaskError.invalidRecord(file: file, line: rowLine, reason: "unterminated quoted CSV field") }
    if !field.isEmpty || !row.isEmpty { try endRow() }
    return rows
  }
}
