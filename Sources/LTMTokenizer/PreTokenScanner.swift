/// Splits UTF-8 text into the pieces that tiktoken's GPT-2 pattern matches, without a regex engine:
///
///     '(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Read as a scanner, at each position the first alternative that matches wins:
/// - an apostrophe followed by `s d m t ll ve re` (ASCII, lower case only) is a contraction;
/// - otherwise a letter, number or "other" character starts a maximal run of its class, and a single
///   U+0020 space directly before a non-space character joins that run (` ?` admits only U+0020);
/// - otherwise the character is white space. A white-space run that reaches the end of the text is one piece;
///   one followed by a non-space character gives up its last character (`\s+(?!\S)` backtracks one step), which
///   then starts the next piece: a U+0020 joins the following run, any other space stands alone (`\s+`).
/// A contraction is only recognised where a piece starts: inside an "other" run (`?'s`) the apostrophe
/// belongs to the run, as with the regex.
///
/// The scanner walks raw bytes with a table for ASCII and decodes a scalar only for non-ASCII, so no
/// `Character` or `String` is made per piece. Input is expected to be valid UTF-8 (any Swift string's is);
/// stray bytes are treated as one-byte "other" characters instead of trapping.
struct PreTokenScanner {
  private let base: UnsafePointer<UInt8>
  private let count: Int
  private let classes: UnsafePointer<UInt8>
  /// Byte offset where the next piece starts.
  private(set) var position = 0

  init(_ text: UnsafeBufferPointer<UInt8>) {
    // An empty buffer may have no base address; any valid pointer will do since nothing is read.
    base = text.baseAddress ?? CharacterClasses.basicPlane
    count = text.count
    classes = CharacterClasses.basicPlane
  }

  /// The byte range of the next piece, or nil at the end of the text.
  @inline(__always)
  mutating func next() -> (start: Int, end: Int)? {
    let start = position
    guard start < count else { return nil }
    let end = pieceEnd(from: start)
    position = end
    return (start, end)
  }

  @inline(__always)
  private func pieceEnd(from i: Int) -> Int {
    let b0 = base[i]
    if b0 == 0x27, let end = contractionEnd(apostropheAt: i) { return end }
    let (c0, length0) = character(at: i)
    if c0 != CharacterClasses.space { return run(of: c0, from: i + length0) }
    if b0 == 0x20 && i + 1 < count {
      let (c1, length1) = character(at: i + 1)
      if c1 != CharacterClasses.space { return run(of: c1, from: i + 1 + length1) }
    }
    return whitespaceEnd(from: i)
  }

  /// End of `'s 'd 'm 't 'll 've 're` starting at the apostrophe at `i`, or nil.
  @inline(__always)
  private func contractionEnd(apostropheAt i: Int) -> Int? {
    guard i + 1 < count else { return nil }
    switch base[i + 1] {
    case UInt8(ascii: "s"), UInt8(ascii: "d"), UInt8(ascii: "m"), UInt8(ascii: "t"): return i + 2
    case UInt8(ascii: "l"): return i + 2 < count && base[i + 2] == UInt8(ascii: "l") ? i + 3 : nil
    case UInt8(ascii: "v"), UInt8(ascii: "r"): return i + 2 < count && base[i + 2] == UInt8(ascii: "e") ? i + 3 : nil
    default: return nil
    }
  }

  /// Extends a run of class `cls` from byte offset `i` to the first character of another class.
  @inline(__always)
  private func run(of cls: UInt8, from i: Int) -> Int {
    var j = i
    while j < count {
      let b = base[j]
      if b < 0x80 {
        if classes[Int(b)] != cls { break }
        j += 1
      } else {
        let (c, length) = character(at: j)
        if c != cls { break }
        j += length
      }
    }
    return j
  }

  /// The piece for white space starting at `i` (see the type's comment for the three cases).
  private func whitespaceEnd(from i: Int) -> Int {
    var j = i
    var lastStart = i
    var characters = 0
    while j < count {
      let (c, length) = character(at: j)
      if c != CharacterClasses.space { break }
      lastStart = j
      j += length
      characters += 1
    }
    if j == count || characters == 1 { return j }
    return lastStart
  }

  /// Class and UTF-8 length of the character starting at byte offset `i`.
  @inline(__always)
  private func character(at i: Int) -> (UInt8, Int) {
    let b0 = base[i]
    if b0 < 0x80 { return (classes[Int(b0)], 1) }
    let length: Int
    var value: UInt32
    if b0 >= 0xF0 {
      length = 4
      value = UInt32(b0 & 0x07)
    } else if b0 >= 0xE0 {
      length = 3
      value = UInt32(b0 & 0x0F)
    } else if b0 >= 0xC0 {
      length = 2
      value = UInt32(b0 & 0x1F)
    } else {
      return (CharacterClasses.other, 1)  // a continuation byte where a character should start
    }
    guard i + length <= count else { return (CharacterClasses.other, 1) }
    for k in 1..<length {
      let b = base[i + k]
      guard b & 0xC0 == 0x80 else { return (CharacterClasses.other, 1) }
      value = value << 6 | UInt32(b & 0x3F)
    }
    return (CharacterClasses.classOf(value, basicPlane: classes), length)
  }
}

extension PreTokenScanner {
  /// All pieces of `text` as strings: for tests and debugging, not for the encoder's hot path.
  static func pieces(of text: String) -> [String] {
    var copy = text
    return copy.withUTF8 { buffer in
      var scanner = PreTokenScanner(buffer)
      var out: [String] = []
      while let (start, end) = scanner.next() {
        out.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self))
      }
      return out
    }
  }
}
