/// The four character classes that GPT-2's pre-tokenizer pattern tells apart.
///
/// The pattern's `\s` is the Unicode White_Space property and `\p{L}` / `\p{N}` are general categories
/// (L = Lu Ll Lt Lm Lo, N = Nd Nl No, so `²`, `½` and `Ⅻ` are numbers), as in the Rust `regex` crate that
/// tiktoken uses. No White_Space character is a letter or a number, so the classes do not overlap.
/// The data is the standard library's Unicode version; a character assigned in a newer Unicode version than the
/// regex crate's (or the other way round) could be classed differently. No such character occurs in the fixtures.
enum CharacterClasses {
  static let other: UInt8 = 0
  static let letter: UInt8 = 1
  static let number: UInt8 = 2
  static let space: UInt8 = 3

  /// Class of every Basic Multilingual Plane scalar, indexed by scalar value; the first 128 entries are the
  /// ASCII fast path. Built once (65,536 property look-ups, a few milliseconds) and never freed, so the hot loop
  /// reads a plain pointer instead of going through Unicode property tables for common scripts.
  static let basicPlane: UnsafePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 0x10000)
    for v in 0..<UInt32(0x10000) { table[Int(v)] = computeClass(v) }
    return UnsafePointer(table)
  }()

  /// Class of any scalar value (supplementary planes go through the Unicode properties directly).
  @inline(__always)
  static func classOf(_ v: UInt32, basicPlane table: UnsafePointer<UInt8>) -> UInt8 {
    v < 0x10000 ? table[Int(v)] : computeClass(v)
  }

  /// The class from the standard library's Unicode data; surrogate code points (never in a String) are "other".
  static func computeClass(_ v: UInt32) -> UInt8 {
    guard let scalar = Unicode.Scalar(v) else { return other }
    let props = scalar.properties
    if props.isWhitespace { return space }
    switch props.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return letter
    case .decimalNumber, .letterNumber, .otherNumber: return number
    default: return other
    }
  }
}
