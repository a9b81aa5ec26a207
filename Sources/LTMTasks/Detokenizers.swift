/// Per-example text normalisation applied before tokenization.
///
/// The rules reproduce the reference Python functions (kuleshov-group/mdlm `dataloader.py`, identical in SEDD,
/// bd3lms, DUO, RADD and the LTM zero-shot code) rule for rule and in the same order, because every rule sees
/// the output of the previous one: reordering changes the text, and with it the token count and the perplexity.
/// The rule numbers below are those of `diffusion-and-zero-shot-protocols.md` §1.2.
public enum Detokenizer: String, Sendable, Codable, CaseIterable {
  case none, ptb, wikitext, lm1b, lambada
  case scientificPapers = "scientific_papers"

  /// The detokenized text, byte-identical to the reference Python function's output.
  public func apply(_ text: String) -> String {
    switch self {
    case .none: return text
    default: return PythonText.string(apply(scalars: PythonText.scalars(text)))
    }
  }

  func apply(scalars s: Scalars) -> Scalars {
    switch self {
    case .none: return s
    case .ptb: return Detokenizers.ptb(s)
    case .wikitext: return Detokenizers.wikitext(s)
    case .lm1b: return Detokenizers.lm1b(s)
    case .lambada: return Detokenizers.lambada(s)
    case .scientificPapers: return Detokenizers.lm1b(Detokenizers.wikitext(s))
    }
  }
}

/// The rule lists. Literal rules are Python `str.replace`; pattern rules are hand-written matchers that
/// reproduce what Python `re.sub` does with each pattern (leftmost match, scan resumes after it), which avoids
/// ICU's different `\w`, `\s` and `{` handling.
enum Detokenizers {
  // MARK: - WikiText (wt_detokenizer)

  static func wikitext(_ input: Scalars) -> Scalars {
    var s = input
    s = replace(s, "s '", "s'")  // 1
    s = slashDigitQuirk(s)  // 2
    s = replace(s, " @-@ ", "-")  // 3
    s = replace(s, " @,@ ", ",")  // 4
    s = replace(s, " @.@ ", ".")  // 5
    s = replace(s, " : ", ": ")  // 6
    s = replace(s, " ; ", "; ")  // 7
    s = replace(s, " . ", ". ")  // 8
    s = replace(s, " ! ", "! ")  // 9
    s = replace(s, " ? ", "? ")  // 10
    s = replace(s, " , ", ", ")  // 11
    s = tightenBrackets(s, open: "(", close: ")")  // 12
    s = tightenBrackets(s, open: "[", close: "]")  // 13
    s = tightenBrackets(s, open: "{", close: "}")  // 14
    s = tightenBrackets(s, open: "\"", close: "\"")  // 15
    s = tightenBrackets(s, open: "'", close: "'")  // 16
    s = replace(s, "= = = =", "====")  // 17
    s = replace(s, "= = =", "===")  // 18
    s = replace(s, "= =", "==")  // 19
    s = replace(s, " \u{B0} ", "\u{B0}")  // 20
    s = replace(s, " \n", "\n")  // 21
    s = replace(s, "\n ", "\n")  // 22
    s = replace(s, " N ", " 1 ")  // 23: one pass, so "x N N y" keeps its second N
    s = replace(s, " 's", "'s")  // 24
    return s
  }

  /// wt rule 2, `re.sub(r"/' [0-9]/", r"/'[0-9]/", s)`. The slashes are part of the pattern, so it rewrites the
  /// five characters `/' d/` into the literal text `/'[0-9]/`: a bug in the reference, kept for parity.
  static func slashDigitQuirk(_ s: Scalars) -> Scalars {
    let replacement = PythonText.scalars("/'[0-9]/")
    return substitute(s) { s, i in
      guard i + 5 <= s.count, s[i] == "/", s[i + 1] == "'", s[i + 2] == " ", isASCIIDigit(s[i + 3]), s[i + 4] == "/"
      else { return .noMatch }
      return .match(end: i + 5, replacement: replacement)
    }
  }

  /// wt rules 12–16, `re.sub(r"O\s*([^C]*?)\s*C", r"O\1C", s)`: each opener up to the first closer after it,
  /// with the whitespace just inside both ends removed. The lazy group plus greedy `\s*` on both sides is
  /// exactly Python's `strip()` of the inside (same `\s` set). An opener with no closer after it cannot match,
  /// and then neither can any later opener.
  static func tightenBrackets(_ s: Scalars, open: Unicode.Scalar, close: Unicode.Scalar) -> Scalars {
    substitute(s) { s, i in
      guard s[i] == open else { return .noMatch }
      var k = i + 1
      while k < s.count && s[k] != close { k += 1 }
      guard k < s.count else { return .noMoreMatches }
      return .match(end: k + 1, replacement: [open] + PythonText.strip(s[(i + 1)..<k]) + [close])
    }
  }

  // MARK: - PTB (ptb_detokenizer)

  static func ptb(_ input: Scalars) -> Scalars {
    var s = input
    s = replace(s, " 's", "'s")  // 1
    s = replace(s, "s ' ", "s' ")  // 2
    s = replace(s, " n't", "n't")  // 3
    s = replace(s, " \n ", "\n")  // 4
    s = replace(s, "\\/", "/")  // 5: backslash, slash
    for _ in 0..<10 { s = replace(s, " N ", " 1 ") }  // 6: ten passes, so runs of up to 20 N's all change
    s = replace(s, "$ 1", "$1")  // 7
    s = replace(s, "# 1", "#1")  // 8
    s = replace(s, "<unk>", "?")  // 9
    return s
  }

  // MARK: - LM1B (lm1b_detokenizer)

  static func lm1b(_ input: Scalars) -> Scalars {
    var s = input
    s = replace(s, "http : / / ", "http://")  // 1
    s = replace(s, "https : / / ", "https://")  // 2
    s = apostropheWord(s)  // 3
    s = wordPeriod(s, atEnd: false)  // 4
    s = wordPeriod(s, atEnd: true)  // 5
    s = replace(s, " ? ", "? ")  // 6
    s = spaceBeforeFinal(s, "?")  // 7
    s = replace(s, " ! ", "! ")  // 8
    s = spaceBeforeFinal(s, "!")  // 9
    s = replace(s, " , ", ", ")  // 10
    s = replace(s, " : ", ": ")  // 11
    s = replace(s, " ; ", "; ")  // 12
    s = replace(s, " / ", "/")  // 13
    s = spacedPair(s, open: "\"", close: "\"", excluded: ["\""])  // 14
    s = spacedPair(s, open: "'", close: "'", excluded: ["'"])  // 15
    s = spacedPair(s, open: "(", close: ")", excluded: ["(", ")"])  // 16
    s = spacedPair(s, open: "[", close: "]", excluded: ["[", "]"])  // 17
    s = replace(s, "$ ", "$")  // 18
    s = replace(s, "\u{A3} ", "\u{A3}")  // 19: pound sign
    return s
  }

  /// lm1b rule 3, `re.sub(r" '(\w+)", r"'\1", s)`: drops the space before an apostrophe followed by a word.
  static func apostropheWord(_ s: Scalars) -> Scalars {
    substitute(s) { s, i in
      guard s[i] == " ", i + 1 < s.count, s[i + 1] == "'" else { return .noMatch }
      let end = wordRunEnd(s, from: i + 2)
      guard end > i + 2 else { return .noMatch }
      return .match(end: end, replacement: Array(s[(i + 1)..<end]))
    }
  }

  /// lm1b rules 4 and 5, `re.sub(r" (\w+) \. ", r" \1. ", s)` and `re.sub(r" (\w+) \.$", r" \1.", s)`.
  /// The greedy `\w+` after a space never benefits from backtracking (a shorter run is followed by a word
  /// character, not a space), so a match starts at a space whose whole following word is followed by " .".
  /// Rule 4's match consumes its trailing space, so in " a . b . " only the first period moves.
  static func wordPeriod(_ s: Scalars, atEnd: Bool) -> Scalars {
    substitute(s) { s, i in
      guard s[i] == " " else { return .noMatch }
      let j = wordRunEnd(s, from: i + 1)
      guard j > i + 1, j + 1 < s.count, s[j] == " ", s[j + 1] == "." else { return .noMatch }
      if atEnd {
        guard isEndAnchor(s, j + 2) else { return .noMatch }
        return .match(end: j + 2, replacement: Array(s[i..<j]) + ["."])
      }
      guard j + 2 < s.count, s[j + 2] == " " else { return .noMatch }
      return .match(end: j + 3, replacement: Array(s[i..<j]) + [".", " "])
    }
  }

  /// lm1b rules 7 and 9, `re.sub(r" \?$", "?", s)` and `re.sub(r" \!$", "!", s)`.
  static func spaceBeforeFinal(_ s: Scalars, _ mark: Unicode.Scalar) -> Scalars {
    substitute(s) { s, i in
      guard s[i] == " ", i + 1 < s.count, s[i + 1] == mark, isEndAnchor(s, i + 2) else { return .noMatch }
      return .match(end: i + 2, replacement: [mark])
    }
  }

  /// lm1b rules 14–17, `re.sub(r"O ([^X]+) C", r"O\1C", s)` with the closer C in the excluded set X: the
  /// group cannot cross any character of X, so the only candidate closer is the first X character after the
  /// opener, and it must be C, preceded by a space, with at least one character between the two spaces.
  static func spacedPair(
    _ s: Scalars, open: Unicode.Scalar, close: Unicode.Scalar, excluded: Set<Unicode.Scalar>
  ) -> Scalars {
    substitute(s) { s, i in
      guard s[i] == open, i + 1 < s.count, s[i + 1] == " " else { return .noMatch }
      var k = i + 2
      while k < s.count && !excluded.contains(s[k]) { k += 1 }
      // The opener is itself excluded, so without an excluded character after it no later opener matches.
      guard k < s.count else { return .noMoreMatches }
      guard s[k] == close, k >= i + 4, s[k - 1] == " " else { return .noMatch }
      return .match(end: k + 1, replacement: [open] + s[(i + 2)..<(k - 1)] + [close])
    }
  }

  // MARK: - LAMBADA (lambada_detokenizer)

  /// Curly double quotes become straight ones; the text is stripped and gets a leading newline.
  static func lambada(_ input: Scalars) -> Scalars {
    var s = input
    s = replace(s, "\u{201C}", "\"")
    s = replace(s, "\u{201D}", "\"")
    return ["\n"] + PythonText.strip(s)
  }

  // MARK: - Matching machinery

  enum Attempt {
    /// A match spanning `i..<end` (end > i), rewritten as `replacement`.
    case match(end: Int, replacement: Scalars)
    case noMatch
    /// No match here nor at any later position: the rest is copied unchanged.
    case noMoreMatches
  }

  /// Python `re.sub` driving: try a match at every position from the left; after a match the scan resumes
  /// at its end, otherwise one position later. Every pattern used here matches at least one character.
  static func substitute(_ s: Scalars, _ attempt: (Scalars, Int) -> Attempt) -> Scalars {
    var out = Scalars()
    var copied = 0
    var i = 0
    var changed = false
    scan: while i < s.count {
      switch attempt(s, i) {
      case .match(let end, let replacement):
        if !changed {
          out.reserveCapacity(s.count)
          changed = true
        }
        out.append(contentsOf: s[copied..<i])
        out.append(contentsOf: replacement)
        i = end
        copied = end
      case .noMatch:
        i += 1
      case .noMoreMatches:
        break scan
      }
    }
    guard changed else { return s }
    out.append(contentsOf: s[copied...])
    return out
  }

  @inline(__always)
  static func replace(_ s: Scalars, _ old: String, _ new: String) -> Scalars {
    PythonText.replace(s, PythonText.scalars(old), PythonText.scalars(new))
  }

  /// The end of the run of `\w` characters starting at `start` (== start when there is none).
  @inline(__always)
  static func wordRunEnd(_ s: Scalars, from start: Int) -> Int {
    var j = start
    while j < s.count && PythonText.isWord(s[j]) { j += 1 }
    return j
  }

  /// Python `$` without MULTILINE: the end of the text, or just before a final "\n".
  @inline(__always)
  static func isEndAnchor(_ s: Scalars, _ p: Int) -> Bool {
    p == s.count || (p == s.count - 1 && s[p] == "\n")
  }

  /// Python `[0-9]` in a `str` pattern: the ASCII digits only.
  @inline(__always)
  static func isASCIIDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }
}
