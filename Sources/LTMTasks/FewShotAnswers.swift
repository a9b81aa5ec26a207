import Foundation

/// Turning generated text into answers, as lm-eval's `generate_until` post-processing does.
extension FewShotTask {
  /// The text before the first stop string (lm-eval's `until`); the whole text when none occurs.
  public static func cut(_ text: String, at stops: [String]) -> String {
    var end = text.endIndex
    for stop in stops where !stop.isEmpty {
      if let r = text.range(of: stop), r.lowerBound < end { end = r.lowerBound }
    }
    return String(text[..<end])
  }

  /// lm-eval's regex filter + take_first: all matches of the filter's pattern, the first (group_select 0) or last
  /// (-1); of a match, its first non-empty capture group (Python `re.findall` returns the groups), else the whole
  /// match; the filter's fallback ("[invalid]") when nothing matches.
  public static func extract(_ text: String, filter: AnswerFilter) -> String {
    guard let regex = try? NSRegularExpression(pattern: filter.regex) else { return filter.fallback }
    let ns = text as NSString
    let matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
    guard let m = filter.groupSelect == -1 ? matches.last : matches.first else { return filter.fallback }
    if m.numberOfRanges > 1 {
      for g in 1..<m.numberOfRanges where m.range(at: g).location != NSNotFound && m.range(at: g).length > 0 {
        return ns.substring(with: m.range(at: g)).trimmingCharacters(in: .whitespaces)
      }
      return ""
    }
    return ns.substring(with: m.range).trimmingCharacters(in: .whitespaces)
  }

  /// lm-eval's exact_match: both strings with every `regexes_to_ignore` match removed (in order), case-folded when
  /// `ignore_case`, then compared for equality.
  public func isExactMatch(_ prediction: String, _ gold: String) -> Bool {
    normalizeForMatch(prediction) == normalizeForMatch(gold)
  }

  func normalizeForMatch(_ s: String) -> String {
    var out = s
    for pattern in exactMatch.regexesToIgnore {
      guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
      out = regex.stringByReplacingMatches(in: out, range: NSRange(location: 0, length: (out as NSString).length), withTemplate: "")
    }
    return exactMatch.ignoreCase ? out.lowercased() : out
  }
}
