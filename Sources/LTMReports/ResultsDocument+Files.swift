import Foundation

extension ResultsDocument {
  /// Reads a `results.json` (or a baseline, or a shard), turning a decoding failure into one line that names
  /// the file and the key.
  public static func load(from url: URL) throws -> ResultsDocument {
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw ReportError.unreadable(path: url.path, reason: "no such file or not readable")
    }
    let doc: ResultsDocument
    do {
      doc = try decode(from: data)
    } catch let DecodingError.keyNotFound(key, context) {
      throw ReportError.unreadable(path: url.path, reason: "missing key \(path(context.codingPath + [key])): not an ltm-bench results file")
    } catch let DecodingError.typeMismatch(_, context) {
      throw ReportError.unreadable(path: url.path, reason: "wrong type at \(path(context.codingPath))")
    } catch let DecodingError.valueNotFound(_, context) {
      throw ReportError.unreadable(path: url.path, reason: "null at \(path(context.codingPath))")
    } catch {
      throw ReportError.unreadable(path: url.path, reason: "not valid JSON")
    }
    guard doc.schemaVersion == currentSchemaVersion else {
      throw ReportError.unreadable(
        path: url.path, reason: "schema_version \(doc.schemaVersion), this ltm-bench reads \(currentSchemaVersion)")
    }
    if let problem = doc.implausibility() { throw ReportError.unreadable(path: url.path, reason: problem) }
    return doc
  }

  private static func path(_ keys: [CodingKey]) -> String {
    keys.isEmpty ? "the top level (an ltm-bench results file is a JSON object)" : codingPathText(keys)
  }

  /// This run as a baseline file: per-block scores dropped (a baseline keeps the numbers, not the blocks) and
  /// `default_tolerance` set when given. A shard is refused: a baseline must describe a whole run.
  public func asBaseline(defaultTolerance: Double?) throws -> ResultsDocument {
    if let shard = run.shard {
      throw ReportError.invalid("this is shard \(shard.index)/\(shard.count) of a run: merge the shards first (ltm-bench merge)")
    }
    if let t = defaultTolerance, !(t >= 0) { throw ReportError.invalid("--tolerance must be at least 0, got \(t)") }
    var doc = self
    doc.defaultTolerance = defaultTolerance ?? self.defaultTolerance
    doc.results = results.map { r in
      var r = r
      r.perBlock = nil
      return r
    }
    return doc
  }
}

/// A decoding error's key path as a reader writes it: `results[2].ppl`; "" at the top level. Shared by the files
/// the reports read (results.json, the published-numbers table).
func codingPathText(_ keys: [CodingKey]) -> String {
  keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
}
