import Foundation

/// An append-only JSONL file of (key, value) entries, flushed per entry, so a killed run loses at most the line
/// being written: the block cache of `zero-shot` and the document cache of `fewshot` are both one.
///
/// A value is reused only under exactly the same key. Each line carries the SHA-256 of its canonical (key, value)
/// encoding, so a damaged or edited line (or one written before lines had checksums) is never trusted: it is skipped
/// and its entry recomputed (`damagedLines` says which). Two lines that give one key different values mean the cache
/// was edited or written by two different computations at once: that is an error, not a choice. A torn last line
/// (the process died mid-write) is dropped.
final class Journal<Key: Codable & Hashable, Value: Codable> {
  /// What the checksum covers: the entry without its checksum, encoded with sorted keys.
  struct Payload: Codable {
    var key: Key
    var score: Value
  }

  struct Entry: Codable {
    var key: Key
    var score: Value
    var sha256: String?
  }

  /// What reading a journal found.
  struct Contents {
    var entries: [Key: Value] = [:]
    /// 1-based numbers of lines skipped as damaged (checksum missing or wrong, or not an entry).
    var damagedLines: [Int] = []
    /// The file without its torn last line, when it has one.
    var tornTail: Data?
  }

  let url: URL
  private var entries: [Key: Value] = [:]
  /// Lines skipped when the journal was opened (see `Contents.damagedLines`).
  private(set) var damagedLines: [Int] = []
  private var handle: FileHandle?
  private let describe: (String) -> HarnessError

  /// Opens (or creates) the journal; with `reuse == false` an existing one is discarded. `describe` wraps error
  /// messages in the caller's error case.
  init(url: URL, reuse: Bool, errors describe: @escaping (String) -> HarnessError = HarnessError.cache) throws {
    self.url = url
    self.describe = describe
    let fm = FileManager.default
    if reuse, fm.fileExists(atPath: url.path) {
      let contents = try Self.read(url, errors: describe)
      entries = contents.entries
      damagedLines = contents.damagedLines
      if let keep = contents.tornTail {
        // Drop the torn tail so new entries start on a fresh line.
        try keep.write(to: url, options: .atomic)
      }
    } else {
      if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }
    }
    if !fm.fileExists(atPath: url.path) { _ = fm.createFile(atPath: url.path, contents: nil) }
    guard let h = FileHandle(forWritingAtPath: url.path) else { throw HarnessError.unreadable(url.path) }
    try h.seekToEnd()
    handle = h
  }

  /// Reads a journal without opening it for writing (`ltm-bench status` reads running shards' caches).
  static func read(_ url: URL, errors describe: (String) -> HarnessError = HarnessError.cache) throws -> Contents {
    let data = try Data(contentsOf: url)
    let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
    let endsWithNewline = data.last == UInt8(ascii: "\n")
    var contents = Contents()
    var lineOfKey: [Key: (line: Int, checksum: String)] = [:]
    for (i, line) in lines.enumerated() {
      guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line)) else {
        if i == lines.count - 1 && !endsWithNewline { break }  // torn by a kill mid-write
        contents.damagedLines.append(i + 1)
        continue
      }
      let checksum = try Self.checksum(Payload(key: entry.key, score: entry.score))
      guard entry.sha256 == checksum else {
        contents.damagedLines.append(i + 1)
        continue
      }
      if let earlier = lineOfKey[entry.key], earlier.checksum != checksum {
        throw describe(
          "\(url.path) lines \(earlier.line) and \(i + 1) hold different values for the same entry (edited, or written by two different runs at once); delete the file or pass --no-cache")
      }
      lineOfKey[entry.key] = (i + 1, checksum)
      contents.entries[entry.key] = entry.score
    }
    if endsWithNewline || data.isEmpty { return contents }
    contents.tornTail = data.lastIndex(of: UInt8(ascii: "\n")).map { data.prefix(through: $0) } ?? Data()
    return contents
  }

  /// SHA-256 (hex) of the payload's canonical encoding (sorted keys; JSON numbers round-trip exactly).
  static func checksum(_ payload: Payload) throws -> String {
    Digests.sha256(data: try canonicalEncoder.encode(payload))
  }

  private static var canonicalEncoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
  }

  deinit { try? handle?.close() }

  var count: Int { entries.count }

  func lookup(_ key: Key) -> Value? { entries[key] }

  func record(_ value: Value, for key: Key) throws {
    let payload = Payload(key: key, score: value)
    var line = try Self.canonicalEncoder.encode(Entry(key: key, score: value, sha256: try Self.checksum(payload)))
    line.append(UInt8(ascii: "\n"))
    try handle?.write(contentsOf: line)
    try handle?.synchronize()
    entries[key] = value
  }
}
