import Foundation

/// An append-only JSONL file of (key, value) entries, flushed per entry, so a killed run loses at most the line
/// being written: the block cache of `zero-shot` and the document cache of `fewshot` are both one.
///
/// A value is reused only under exactly the same key. Reopening reads every line; a torn last line (the process
/// died mid-write) is dropped, any other unreadable line is an error naming the file and line.
final class Journal<Key: Codable & Hashable, Value: Codable> {
  struct Entry: Codable {
    var key: Key
    var score: Value
  }

  let url: URL
  private var entries: [Key: Value] = [:]
  private var handle: FileHandle?
  private let describe: (String) -> HarnessError

  /// Opens (or creates) the journal; with `reuse == false` an existing one is discarded. `describe` wraps error
  /// messages in the caller's error case.
  init(url: URL, reuse: Bool, errors describe: @escaping (String) -> HarnessError = HarnessError.cache) throws {
    self.url = url
    self.describe = describe
    let fm = FileManager.default
    if reuse, fm.fileExists(atPath: url.path) {
      let (read, tornTail) = try Self.read(url, errors: describe)
      entries = read
      if let keep = tornTail {
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

  /// Reads a journal without opening it for writing (`ltm-bench status` reads running shards' caches). Only the very
  /// last line may be cut short (the process was killed mid-write); anything else is damage. `tornTail` is the
  /// file's content without that line, when there is one.
  static func read(_ url: URL, errors describe: (String) -> HarnessError = HarnessError.cache) throws
    -> (entries: [Key: Value], tornTail: Data?)
  {
    let data = try Data(contentsOf: url)
    let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
    let endsWithNewline = data.last == UInt8(ascii: "\n")
    var entries: [Key: Value] = [:]
    for (i, line) in lines.enumerated() {
      do {
        let entry = try JSONDecoder().decode(Entry.self, from: Data(line))
        entries[entry.key] = entry.score
      } catch {
        if i == lines.count - 1 && !endsWithNewline { break }
        throw describe("\(url.path) line \(i + 1) is not a cache entry; delete the file or pass --no-cache")
      }
    }
    guard !endsWithNewline, !data.isEmpty else { return (entries, nil) }
    return (entries, data.lastIndex(of: UInt8(ascii: "\n")).map { data.prefix(through: $0) } ?? Data())
  }

  deinit { try? handle?.close() }

  var count: Int { entries.count }

  func lookup(_ key: Key) -> Value? { entries[key] }

  func record(_ value: Value, for key: Key) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var line = try encoder.encode(Entry(key: key, score: value))
    line.append(UInt8(ascii: "\n"))
    try handle?.write(contentsOf: line)
    try handle?.synchronize()
    entries[key] = value
  }
}
