import Foundation

/// Resolution of a task's file entries (names or glob patterns relative to `--data-dir`).
///
/// Glob semantics follow Python's `glob`/`fnmatch` (what the reference loaders use): `*`, `?` and `[...]`
/// (`[!...]` negates) within one path component, hidden names only matched by a pattern that starts with a
/// dot, and the matches sorted, here by code point (= Python's `sorted`), so that the LM1B shards are read in
/// the same order as the Hugging Face loader reads them.
enum DataFiles {
  /// Python's `glob.has_magic`.
  static func isPattern(_ entry: String) -> Bool {
    entry.unicodeScalars.contains { $0 == "*" || $0 == "?" || $0 == "[" }
  }

  /// The relative paths of the regular files matching `pattern` under `root`, sorted by code point.
  static func expand(_ pattern: String, under root: URL) -> [String] {
    let components = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    var found: [String] = []
    walk(components[...], prefix: [], root: root, into: &found)
    return found.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
  }

  private static func walk(_ rest: ArraySlice<String>, prefix: [String], root: URL, into found: inout [String]) {
    guard let head = rest.first else { return }
    let isLast = rest.count == 1
    let directory = prefix.reduce(root) { $0.appendingPathComponent($1) }
    let candidates: [String]
    if isPattern(head) {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
      let matcher = GlobMatcher(head)
      candidates = names.filter { name in
        (!name.hasPrefix(".") || head.hasPrefix(".")) && matcher.matches(name)
      }
    } else {
      candidates = [head]
    }
    for name in candidates {
      var isDirectory: ObjCBool = false
      let path = directory.appendingPathComponent(name).path
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
      if isLast {
        if !isDirectory.boolValue { found.append((prefix + [name]).joined(separator: "/")) }
      } else if isDirectory.boolValue {
        walk(rest.dropFirst(), prefix: prefix + [name], root: root, into: &found)
      }
    }
  }
}

/// One path component's glob pattern (Python `fnmatch` syntax, case-sensitive).
struct GlobMatcher {
  private enum Token {
    case literal(Unicode.Scalar)
    case anyOne
    case anyRun
    case set(negated: Bool, ranges: [ClosedRange<UInt32>])
  }

  private let tokens: [Token]

  init(_ pattern: String) {
    let p = Array(pattern.unicodeScalars)
    var tokens: [Token] = []
    var i = 0
    while i < p.count {
      let c = p[i]
      i += 1
      switch c {
      case "*":
        if case .anyRun? = tokens.last { continue }
        tokens.append(.anyRun)
      case "?":
        tokens.append(.anyOne)
      case "[":
        // As fnmatch.translate: an optional "!", then a "]" that is literal when it comes first, up to the
        // closing "]"; with no closing bracket the "[" is a literal.
        var j = i
        if j < p.count && p[j] == "!" { j += 1 }
        if j < p.count && p[j] == "]" { j += 1 }
        while j < p.count && p[j] != "]" { j += 1 }
        guard j < p.count else {
          tokens.append(.literal("["))
          continue
        }
        var body = Array(p[i..<j])
        let negated = body.first == "!"
        if negated { body.removeFirst() }
        var ranges: [ClosedRange<UInt32>] = []
        var k = 0
        while k < body.count {
          if k + 2 < body.count && body[k + 1] == "-" {
            if body[k].value <= body[k + 2].value { ranges.append(body[k].value...body[k + 2].value) }
            k += 3
          } else {
            ranges.append(body[k].value...body[k].value)
            k += 1
          }
        }
        tokens.append(.set(negated: negated, ranges: ranges))
        i = j + 1
      default:
        tokens.append(.literal(c))
      }
    }
    self.tokens = tokens
  }

  func matches(_ name: String) -> Bool {
    let s = Array(name.unicodeScalars)
    // Iterative wildcard matching: on a mismatch, let the most recent `*` swallow one more character.
    var ti = 0
    var si = 0
    var starToken = -1
    var starSubject = 0
    while si < s.count {
      if ti < tokens.count, accepts(tokens[ti], s[si]) {
        ti += 1
        si += 1
      } else if ti < tokens.count, case .anyRun = tokens[ti] {
        starToken = ti
        starSubject = si
        ti += 1
      } else if starToken >= 0 {
        ti = starToken + 1
        starSubject += 1
        si = starSubject
      } else {
        return false
      }
    }
    while ti < tokens.count, case .anyRun = tokens[ti] { ti += 1 }
    return ti == tokens.count
  }

  private func accepts(_ token: Token, _ c: Unicode.Scalar) -> Bool {
    switch token {
    case .literal(let l): return l == c
    case .anyOne: return true
    case .anyRun: return false
    case .set(let negated, let ranges): return ranges.contains { $0.contains(c.value) } != negated
    }
  }
}
