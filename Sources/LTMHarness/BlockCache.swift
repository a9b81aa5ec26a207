import Foundation
import LTMReports

/// Per-block scores on disk (`block-cache.jsonl` in the output directory), so an interrupted or extended run
/// (`--limit-blocks` raised, another shard, more tasks) recomputes nothing it already has: each block's record
/// is appended and flushed as soon as it is computed, and a rerun scores only what is missing.
///
/// A record is reused only under exactly the same `Key`: checkpoint files, task, split, protocol, block index,
/// the block's tokens and the scorer settings. A changed checkpoint, tokenizer, detokenizer, protocol or setting
/// therefore never leaks a stale number into a report.
final class BlockCache {
  struct Key: Codable, Hashable {
    /// SHA-256 over the model family and its checkpoint files' SHA-256s.
    var model: String
    var task: String
    var split: String
    var protocolName: String
    /// `ScorerSettings.canonical` plus the run's seed (stochastic scorers draw from it).
    var settings: String
    var block: Int
    /// SHA-256 of the block's tokens (little-endian int32): the tokenizer is not part of the checkpoint digests.
    var tokensSHA256: String

    enum CodingKeys: String, CodingKey {
      case model, task, split, protocolName = "protocol", settings, block, tokensSHA256 = "tokens_sha256"
    }
  }

  struct Entry: Codable {
    var key: Key
    var score: BlockRecord
  }

  static let fileName = "block-cache.jsonl"

  let url: URL
  private var entries: [Key: BlockRecord] = [:]
  private var handle: FileHandle?

  /// Opens (or creates) the cache. With `reuse == false` (`--no-cache`) an existing cache is discarded.
  init(url: URL, reuse: Bool) throws {
    self.url = url
    let fm = FileManager.default
    if reuse, fm.fileExists(atPath: url.path) {
      let data = try Data(contentsOf: url)
      let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
      let endsWithNewline = data.last == UInt8(ascii: "\n")
      for (i, line) in lines.enumerated() {
        do {
          let entry = try JSONDecoder().decode(Entry.self, from: Data(line))
          entries[entry.key] = entry.score
        } catch {
          // Only the very last line may be cut short (the process was killed mid-write); anything else is damage.
          if i == lines.count - 1 && !endsWithNewline { break }
          throw HarnessError.cache("\(url.path) line \(i + 1) is not a cache entry; delete the file or pass --no-cache")
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
    if !fm.fileExists(atPath: url.path) { _ = fm.createFile(atPath: url.path, contents: nil) }
    guard let h = FileHandle(forWritingAtPath: url.path) else { throw HarnessError.unreadable(url.path) }
    try h.seekToEnd()
    handle = h
  }

  deinit { try? handle?.close() }

  func lookup(_ key: Key) -> BlockRecord? { entries[key] }

  func record(_ score: BlockRecord, for key: Key) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var line = try encoder.encode(Entry(key: key, score: score))
    line.append(UInt8(ascii: "\n"))
    try handle?.write(contentsOf: line)
    try handle?.synchronize()
    entries[key] = score
  }
}
