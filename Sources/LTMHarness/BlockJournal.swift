import Foundation

/// An append-only record of scored blocks, so an interrupted run loses nothing: each block's result is written
/// (and flushed) as soon as it is computed, and a rerun with the same `--output-dir` scores only what is missing.
///
/// A block is identified by (model key, protocol, SHA-256 of its tokens): a result is reused only for exactly the
/// same tokens under the same model and scoring settings, so a changed checkpoint, tokenizer, detokenizer or
/// protocol can never leak a stale number into a report.
final class BlockJournal {
  struct Entry: Codable {
    var model: String
    var protocolName: String
    var block: String
    var nll: Double
    var tokens: Int

    enum CodingKeys: String, CodingKey {
      case model, protocolName = "protocol", block = "block_sha256", nll, tokens
    }
    var key: String { "\(model)|\(protocolName)|\(block)" }
  }

  let url: URL
  private var entries: [String: Entry] = [:]
  private var handle: FileHandle?

  /// Opens (or creates) the journal. With `resume == false` an existing journal is discarded.
  init(url: URL, resume: Bool) throws {
    self.url = url
    let fm = FileManager.default
    if resume, fm.fileExists(atPath: url.path) {
      let data = try Data(contentsOf: url)
      let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
      let endsWithNewline = data.last == UInt8(ascii: "\n")
      for (i, line) in lines.enumerated() {
        do {
          let entry = try JSONDecoder().decode(Entry.self, from: Data(line))
          entries[entry.key] = entry
        } catch {
          // Only the very last line may be cut short (the process was killed mid-write); anything else is damage.
          if i == lines.count - 1 && !endsWithNewline { break }
          throw HarnessError.journal("\(url.path) line \(i + 1) is not a journal entry; delete the file or pass --no-resume")
        }
      }
      if !endsWithNewline, !data.isEmpty {
        // Drop the torn tail so new entries start on a fresh line.
        let keep = data.lastIndex(of: UInt8(ascii: "\n")).map { data.prefix(through: $0) } ?? Data()
        try keep.write(to: url, options: .atomic)
      }
    } else {
      if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }
    }
    if !fm.fileExists(atPath: url.path) { fm.createFile(atPath: url.path, contents: nil) }
    guard let h = FileHandle(forWritingAtPath: url.path) else { throw HarnessError.unreadable(url.path) }
    try h.seekToEnd()
    handle = h
  }

  deinit { try? handle?.close() }

  func lookup(model: String, protocolName: String, block: String) -> Entry? {
    entries["\(model)|\(protocolName)|\(block)"]
  }

  func record(_ entry: Entry) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var line = try encoder.encode(entry)
    line.append(UInt8(ascii: "\n"))
    try handle?.write(contentsOf: line)
    try handle?.synchronize()
    entries[entry.key] = entry
  }
}
