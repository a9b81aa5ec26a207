import Foundation
import Yams

/// Perplexities the papers report (`tasks/published/zero-shot.yaml`), shown in report.html beside a run's own rows
/// when the run used the table's protocol. They never enter results.json, and every one is labelled "published"
/// with its source; a value the harness's sources could not confirm is marked as such.
public struct PublishedTable: Sendable, Equatable, Decodable {
  public var id: String
  public var source: String
  /// The block protocol the paper's numbers were computed under (`ltm`, `mdlm`, …).
  public var protocolName: String
  public var rows: [Row]

  public struct Row: Sendable, Equatable, Decodable {
    public var model: String
    /// "exact" or "upper", as a run's `bound`.
    public var bound: String
    /// Task name → perplexity.
    public var values: [String: Double]
    /// Tasks whose value could not be checked against the paper.
    public var unconfirmed: [String]

    enum CodingKeys: String, CodingKey, CaseIterable { case model, bound, values, unconfirmed }

    public init(from decoder: Decoder) throws {
      let c = try StrictKeys.container(decoder, CodingKeys.self)
      model = try c.decode(String.self, forKey: .model)
      bound = try c.decode(String.self, forKey: .bound)
      values = try c.decode([String: Double].self, forKey: .values)
      unconfirmed = try c.decodeIfPresent([String].self, forKey: .unconfirmed) ?? []
      guard ["exact", "upper"].contains(bound) else {
        throw DecodingError.dataCorruptedError(forKey: .bound, in: c, debugDescription: "bound must be exact or upper, got '\(bound)'")
      }
      if let bad = values.first(where: { !($0.value.isFinite && $0.value >= 1) }) {
        throw DecodingError.dataCorruptedError(forKey: .values, in: c, debugDescription: "\(bad.key): \(bad.value) is not a perplexity (finite, at least 1)")
      }
      if let stray = unconfirmed.first(where: { values[$0] == nil }) {
        throw DecodingError.dataCorruptedError(forKey: .unconfirmed, in: c, debugDescription: "'\(stray)' has no value")
      }
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable { case id, source, protocolName = "protocol", rows }

  public init(from decoder: Decoder) throws {
    let c = try StrictKeys.container(decoder, CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    source = try c.decode(String.self, forKey: .source)
    protocolName = try c.decode(String.self, forKey: .protocolName)
    rows = try c.decode([Row].self, forKey: .rows)
  }

  /// The tables of `file`; none when it does not exist (a tasks folder without published numbers).
  public static func load(file: URL) throws -> [PublishedTable] {
    guard FileManager.default.fileExists(atPath: file.path) else { return [] }
    guard let text = try? String(contentsOf: file, encoding: .utf8) else {
      throw ReportError.invalid("\(file.path): not readable as UTF-8 text")
    }
    return try parse(yaml: text, file: file.path)
  }

  /// The tables of YAML `text`; `file` names it in errors.
  static func parse(yaml text: String, file: String) throws -> [PublishedTable] {
    struct Document: Decodable {
      var version: Int
      var tables: [PublishedTable]
      enum CodingKeys: String, CodingKey, CaseIterable { case version, tables }
      init(from decoder: Decoder) throws {
        let c = try StrictKeys.container(decoder, CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        tables = try c.decode([PublishedTable].self, forKey: .tables)
      }
    }
    do {
      let document = try YAMLDecoder().decode(Document.self, from: text)
      guard document.version == 1 else { throw ReportError.invalid("\(file): version \(document.version) (this build reads 1)") }
      return document.tables
    } catch let error as ReportError {
      throw error
    } catch let error as DecodingError {
      throw ReportError.invalid("\(file): \(describe(error))")
    } catch {
      throw ReportError.invalid("\(file): \(String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " "))")
    }
  }

  /// "rows[1].bound: bound must be exact or upper, got 'low'": where, and what.
  private static func describe(_ error: DecodingError) -> String {
    let (path, text): ([CodingKey], String)
    switch error {
    case .keyNotFound(let key, let c): (path, text) = (c.codingPath + [key], "missing")
    case .typeMismatch(_, let c), .valueNotFound(_, let c): (path, text) = (c.codingPath, "wrong type (\(c.debugDescription))")
    case .dataCorrupted(let c): (path, text) = (c.codingPath, c.debugDescription)
    @unknown default: return String(describing: error)
    }
    let where_ = codingPathText(path)
    return (where_.isEmpty ? "" : where_ + ": ") + text.split(whereSeparator: \.isNewline).joined(separator: " ")
  }

  /// `tasks/published/zero-shot.yaml` below a tasks directory.
  public static func location(tasksDirectory: URL) -> URL {
    tasksDirectory.appendingPathComponent("published").appendingPathComponent("zero-shot.yaml")
  }
}

/// A keyed container that refuses keys the type does not know: a typo in a data file is an error, not a silent gap.
enum StrictKeys {
  private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  static func container<K: CodingKey & CaseIterable>(_ decoder: Decoder, _ keys: K.Type) throws -> KeyedDecodingContainer<K> {
    let all = try decoder.container(keyedBy: AnyKey.self)
    let known = Set(K.allCases.map(\.stringValue))
    if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
      throw DecodingError.dataCorruptedError(
        forKey: unknown, in: all, debugDescription: "unknown key '\(unknown.stringValue)' (allowed: \(known.sorted().joined(separator: ", ")))")
    }
    return try decoder.container(keyedBy: K.self)
  }
}
