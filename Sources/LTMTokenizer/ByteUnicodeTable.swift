/// GPT-2's reversible byte ↔ character map, used by `vocab.json`/`encoder.json` keys and `merges.txt` lines.
///
/// GPT-2 stores byte strings as text, so every byte needs a visible, non-space character: the 188 printable
/// Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves and the other 68 (controls, space, DEL, NBSP,
/// soft hyphen) take U+0100, U+0101, … in byte order. That is why a leading space shows up as `Ġ` (U+0120).
enum ByteUnicodeTable {
  /// The character (as a scalar value) that stands for each byte.
  static let scalarForByte: [UInt32] = {
    var table = [UInt32](repeating: 0, count: 256)
    var next: UInt32 = 0x100
    for byte in 0..<256 {
      if isPrintable(UInt8(byte)) {
        table[byte] = UInt32(byte)
      } else {
        table[byte] = next
        next += 1
      }
    }
    return table
  }()

  /// The inverse: index = scalar value (all lie below U+0144), entry = byte + 1, or 0 for "not in the alphabet".
  static let byteForScalar: [UInt16] = {
    var table = [UInt16](repeating: 0, count: 0x144)
    for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar)] = UInt16(byte) + 1 }
    return table
  }()

  /// The byte a scalar stands for, or nil when the scalar is not one of the 256 characters.
  @inline(__always)
  static func byte(for scalar: Unicode.Scalar) -> UInt8? {
    let v = Int(scalar.value)
    guard v < byteForScalar.count else { return nil }
    let entry = byteForScalar[v]
    return entry == 0 ? nil : UInt8(entry - 1)
  }

  /// The bytes that a GPT-2 vocabulary key or merge half stands for, or nil if a character is outside the alphabet.
  static func bytes<S: Sequence>(of scalars: S) -> [UInt8]? where S.Element == Unicode.Scalar {
    var out: [UInt8] = []
    for s in scalars {
      guard let b = byte(for: s) else { return nil }
      out.append(b)
    }
    return out
  }

  /// The text form of a byte string (the inverse of `bytes(of:)`), for error messages and tests.
  static func text(of bytes: [UInt8]) -> String {
    var s = String.UnicodeScalarView()
    for b in bytes { s.append(Unicode.Scalar(scalarForByte[Int(b)])!) }
    return String(s)
  }

  private static func isPrintable(_ b: UInt8) -> Bool {
    (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
  }
}
