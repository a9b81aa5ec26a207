/// Reads `vocab.json` / `encoder.json`: one JSON object from token text to id, e.g. `{"!": 0, "Ġthe": 262}`.
///
/// A purpose-built reader rather than `JSONSerialization`: the file has one shape, reading it this way is several
/// times faster (it is read on every start), and an error can say where the file goes wrong.
struct VocabularyJSON {
  struct Failure: Error {
    let reason: String
  }

  private let text: [Unicode.Scalar]
  private var i = 0

  /// The (key, id) pairs in file order.
  static func parse(_ bytes: [UInt8]) throws(Failure) -> [(key: [Unicode.Scalar], id: Int)] {
    guard let string = String(validating: bytes, as: UTF8.self) else { throw Failure(reason: "not valid UTF-8") }
    var reader = VocabularyJSON(text: Array(string.unicodeScalars))
    return try reader.object()
  }

  private init(text: [Unicode.Scalar]) { self.text = text }

  private mutating func object() throws(Failure) -> [(key: [Unicode.Scalar], id: Int)] {
    var entries: [(key: [Unicode.Scalar], id: Int)] = []
    skipSpace()
    try expect("{")
    skipSpace()
    if peek() == "}" {
      i += 1
    } else {
      while true {
        skipSpace()
        let key = try string()
        skipSpace()
        try expect(":")
        skipSpace()
        let id = try integer()
        entries.append((key, id))
        skipSpace()
        if peek() == "," {
          i += 1
          continue
        }
        try expect("}")
        break
      }
    }
    skipSpace()
    guard i == text.count else { throw fail("unexpected text after the object") }
    return entries
  }

  private func peek() -> Unicode.Scalar? { i < text.count ? text[i] : nil }

  private func fail(_ what: String) -> Failure {
    Failure(reason: "not a JSON object of token → id: \(what) at character \(i)")
  }

  private mutating func skipSpace() {
    while let c = peek(), c == " " || c == "\n" || c == "\r" || c == "\t" { i += 1 }
  }

  private mutating func expect(_ c: Unicode.Scalar) throws(Failure) {
    guard peek() == c else { throw fail("expected '\(c)'") }
    i += 1
  }

  private mutating func integer() throws(Failure) -> Int {
    var value = 0
    var digits = 0
    while let c = peek(), ("0"..."9").contains(c) {
      let d = Int(c.value) - 48
      guard value < 1 << 40 else { throw fail("id too large") }
      value = value * 10 + d
      digits += 1
      i += 1
    }
    guard digits > 0 else { throw fail("expected a non-negative integer id") }
    return value
  }

  private mutating func string() throws(Failure) -> [Unicode.Scalar] {
    try expect("\"")
    var out: [Unicode.Scalar] = []
    while true {
      guard let c = peek() else { throw fail("unterminated string") }
      i += 1
      switch c {
      case "\"": return out
      case "\\":
        guard let e = peek() else { throw fail("unterminated escape") }
        i += 1
        switch e {
        case "\"", "\\", "/": out.append(e)
        case "b": out.append("\u{08}")
        case "f": out.append("\u{0C}")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "u":
          var unit = try hex4()
          if (0xD800..<0xDC00).contains(unit) {
            // A high surrogate must be followed by an escaped low surrogate.
            guard peek() == "\\", i + 1 < text.count, text[i + 1] == "u" else { throw fail("lone surrogate escape") }
            i += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("lone surrogate escape") }
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let scalar = Unicode.Scalar(unit) else { throw fail("lone surrogate escape") }
          out.append(scalar)
        default: throw fail("unknown escape '\\\(e)'")
        }
      default:
        guard c.value >= 0x20 else { throw fail("control character in a string") }
        out.append(c)
      }
    }
  }

  private mutating func hex4() throws(Failure) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let c = peek(), c.isASCII, let d = UInt32(String(c), radix: 16) else { throw fail("bad \\u escape") }
      value = value << 4 | d
      i += 1
    }
    return value
  }
}
