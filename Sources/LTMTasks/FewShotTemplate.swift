import Foundation
import Mustache

/// A prompt template: text with `{{field}}` substitutions, rendered by swift-mustache with its TEXT content type,
/// so nothing is HTML-escaped (`"` and `&` in a GSM8K question stay as they are).
///
/// Only plain `{{field}}` tags are accepted (no sections, partials or triple braces): a task file is data, and
/// the expressions lm-eval writes in Jinja (GSM8K's answer after `####`, LAMBADA's last word) are declarative
/// `preprocess` steps instead. Every named field must exist in the document: a misspelt field is an error, not
/// an empty string.
public struct FewShotTemplate: Sendable {
  public let source: String
  /// The field names the template substitutes, in order of first appearance.
  public let fields: [String]
  private let template: MustacheTemplate?

  private static let tag = try! NSRegularExpression(pattern: #"\{\{(.*?)\}\}"#, options: [.dotMatchesLineSeparators])
  private static let fieldName = try! NSRegularExpression(pattern: #"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$"#)

  public struct InvalidTemplate: Error, CustomStringConvertible {
    public var description: String
  }

  public init(_ source: String) throws {
    self.source = source
    var fields: [String] = []
    let ns = source as NSString
    for match in Self.tag.matches(in: source, range: NSRange(location: 0, length: ns.length)) {
      let inner = ns.substring(with: match.range(at: 1))
      guard let m = Self.fieldName.firstMatch(in: inner, range: NSRange(location: 0, length: (inner as NSString).length)) else {
        throw InvalidTemplate(description: "template tag '{{\(inner)}}' is not a plain {{field}} (letters, digits and '_')")
      }
      let name = (inner as NSString).substring(with: m.range(at: 1))
      if !fields.contains(name) { fields.append(name) }
    }
    self.fields = fields
    // The pragma switches escaping off for the whole template; a template without tags is its own text.
    guard !fields.isEmpty else {
      template = nil
      return
    }
    do {
      template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source)
    } catch {
      // The plain tags passed above, so what Mustache refuses is a stray '{{' or '}}': say so, not its parser dump.
      throw InvalidTemplate(description: "template '\(source)' has a '{{' without its '}}' (or the reverse); only plain {{field}} tags are allowed")
    }
  }

  /// The text for `document`; throws naming the first field the document lacks.
  public func render(_ document: FewShotDocument) throws -> String {
    guard let template else { return source }
    for f in fields where document.fields[f] == nil {
      throw TaskError.invalidRecord(
        file: document.source, line: document.line,
        reason: "the template '\(source)' needs field '\(f)', which the document lacks (it has: \(document.fields.keys.sorted().joined(separator: ", ")))")
    }
    return template.render(document.fields)
  }
}

/// One document of a few-shot task: string fields, with where it came from for error messages.
public struct FewShotDocument: Sendable, Equatable {
  /// 0-based position in its split (the id the sample log and the shot seed use).
  public var id: Int
  public var fields: [String: String]
  /// The data file (relative to --data-dir) and 1-based line.
  public var source: String
  public var line: Int

  public init(id: Int, fields: [String: String], source: String = "-", line: Int = 0) {
    self.id = id
    self.fields = fields
    self.source = source
    self.line = line
  }
}
