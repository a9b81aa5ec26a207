/// Python `str` semantics on Unicode scalar arrays.
///
/// The reference detokenizers are Python functions over code point sequences: `str.replace` compares code
/// points, never canonical equivalents, and `\s`/`\w` are Python's Unicode classes. Swift `String` compares by
/// canonical equivalence and groups scalars into grapheme clusters, so every rewrite here works on
/// `[Unicode.Scalar]` instead, which makes the output byte-identical to the reference.
typealias Scalars = [Unicode.Scalar]

enum PythonText {
  /// The scalars of `string`, in order, without normalisation.
  @inline(__always)
  static func scalars(_ string: String) -> Scalars { Array(string.unicodeScalars) }

  /// A `String` holding exactly `scalars` (no normalisation).
  static func string<C: Collection>(_ scalars: C) -> String where C.Element == Unicode.Scalar {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view)
  }

  /// Python `str.isspace()` for one code point, which is also what `str.strip()` and `re`'s `\s` use
  /// (CPython `_PyUnicode_IsWhitespace`: bidi class WS, B or S, or category Zs). Listed explicitly because
  /// it includes the ASCII separators U+001C–U+001F, which no Swift property covers.
  @inline(__always)
  static func isSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
      return true
    default:
      return false
    }
  }

  /// Python `re`'s `\w` on `str` patterns: `str.isalnum()` or `_`. `isalnum` is "alphabetic" in Python's sense
  /// (general category L*: not Swift's `isAlphabetic`, which adds combining marks) or numeric (any
  /// Numeric_Type: decimal, digit or numeric, which includes `½`, `²` and CJK numerals). The tables are those of
  /// the Swift runtime's Unicode version; against Python 3.11 (Unicode 14) the two differ only on code points
  /// assigned later, which the evaluation data does not contain.
  @inline(__always)
  static func isWord(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x80 {
      let v = c.value
      return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
    }
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return true
    default:
      return c.properties.numericType != nil
    }
  }

  /// `len(re.split(r"\s+", text))`: the whitespace runs plus one (an empty piece before a leading run and after a
  /// trailing one counts, as it does in Python). lm-eval's wikitext task counts words this way.
  static func whitespaceSplitCount(_ text: String) -> Int {
    var count = 1
    var inRun = false
    for c in text.unicodeScalars {
      let space = isSpace(c)
      if space && !inRun { count += 1 }
      inRun = space
    }
    return count
  }

  /// Python `str.strip()` (Unicode whitespace on both ends).
  static func strip<C: BidirectionalCollection>(_ s: C) -> C.SubSequence where C.Element == Unicode.Scalar {
    var lo = s.startIndex
    var hi = s.endIndex
    while lo < hi, isSpace(s[lo]) { lo = s.index(after: lo) }
    while hi > lo, isSpace(s[s.index(before: hi)]) { hi = s.index(before: hi) }
    return s[lo..<hi]
  }

  /// Python `str.strip()` on a `String`.
  static func strip(_ string: String) -> String {
    let view = string.unicodeScalars
    let stripped = strip(view)
    if stripped.startIndex == view.startIndex && stripped.endIndex == view.endIndex { return string }
    return String(stripped)
  }

  /// Python `str.replace(old, new)`: every non-overlapping occurrence, scanned left to right, in one pass.
  static func replace(_ s: Scalars, _ old: Scalars, _ new: Scalars) -> Scalars {
    precondition(!old.isEmpty, "replace needs a non-empty pattern")
    let n = s.count
    let m = old.count
    guard n >= m else { return s }
    let first = old[0]
    var out = Scalars()
    var i = 0
    var copied = 0  // s[copied..<i] is still to be copied
    var changed = false
    while i <= n - m {
      if s[i] == first && matches(s, at: i, old) {
        if !changed {
          out.reserveCapacity(n)
          changed = true
        }
        out.append(contentsOf: s[copied..<i])
        out.append(contentsOf: new)
        i += m
        copied = i
      } else {
        i += 1
      }
    }
    guard changed else { return s }
    out.append(contentsOf: s[copied..<n])
    return out
  }

  /// Whether `pattern` occurs in `s` starting at `i`.
  @inline(__always)
  static func matches(_ s: Scalars, at i: Int, _ pattern: Scalars) -> Bool {
    guard i >= 0, i + pattern.count <= s.count else { return false }
    for k in 0..<pattern.count where s[i + k] != pattern[k] { return false }
    return true
  }
}
