import Foundation

/// Which fields of a record make one example's text, as the Hugging Face loaders build it: one string field
/// (`field: text`); several fields joined (`field: [title, description]`, `join: " "`: `ag_news` yields
/// `" ".join((title, description))`); or one field holding a list of strings, joined (`field: article_text`,
/// `join: "\n"`: `scientific_papers` yields `"\n".join(d["article_text"])`, so an empty list is an empty article).
public struct TextFields: Sendable, Equatable, Codable {
  public var names: [String]
  /// Joins several fields, or the strings of a list field; nil: each named field must hold one string.
  public var join: String?

  public init(_ names: [String], join: String? = nil) {
    self.names = names
    self.join = join
  }

  private enum CodingKeys: String, CodingKey { case names, join }

  /// A single field without `join` is written as its name, as in the YAML.
  public init(from decoder: Decoder) throws {
    if let name = try? decoder.singleValueContainer().decode(String.self) {
      self.init([name])
      return
    }
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(try c.decode([String].self, forKey: .names), join: try c.decodeIfPresent(String.self, forKey: .join))
  }

  public func encode(to encoder: Encoder) throws {
    if names.count == 1, join == nil {
      var single = encoder.singleValueContainer()
      try single.encode(names[0])
      return
    }
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(names, forKey: .names)
    try c.encodeIfPresent(join, forKey: .join)
  }

  /// For cache keys and reports: `title+description join=" "`.
  public var canonical: String {
    names.joined(separator: "+") + (join.map { " join=\(String(reflecting: $0))" } ?? "")
  }

  /// The example text of one record whose fields are already strings (CSV rows).
  func text(of record: [String: String]) -> String {
    names.map { record[$0] ?? "" }.joined(separator: join ?? "")
  }

  /// The example text of one JSON Lines record; `file` and `line` name it in errors.
  func text(ofJSON data: Data, file: String, line: Int) throws -> String {
    guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any] else {
      throw TaskError.invalidRecord(file: file, line: line, reason: "not a JSON object")
    }
    let parts = try names.map { name -> String in
      switch object[name] {
      case nil: throw TaskError.invalidRecord(file: file, line: line, reason: "no field '\(name)'")
      case let text as String: return text
      case let list as [Any] where join != nil:
        guard let strings = list as? [String] else {
          throw TaskError.invalidRecord(file: file, line: line, reason: "field '\(name)' is a list with a value that is not a string")
        }
        return strings.joined(separator: join!)
      case is [Any]:
        throw TaskError.invalidRecord(file: file, line: line, reason: "field '\(name)' is a list of strings; the task must say how to join them ('join')")
      default:
        throw TaskError.invalidRecord(file: file, line: line, reason: "field '\(name)' is not a string")
      }
    }
    return parts.joined(separator: join ?? "")
  }
}
