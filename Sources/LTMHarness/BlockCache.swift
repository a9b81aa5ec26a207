import Foundation
import LTMReports
import LTMMetrics

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
    /// `ScorerSettings.canonical`, plus the run's seed for stochastic scorers (LTM, MDLM draw from it; GPT-2 does not).
    var settings: String
    var block: Int
    /// SHA-256 of the block's tokens (little-endian int32): the tokenizer is not part of the checkpoint digests.
    var tokensSHA256: String

    enum CodingKeys: String, CodingKey {
      case model, task, split, protocolName = "protocol", settings, block, tokensSHA256 = "tokens_sha256"
    }
  }

  static let fileName = "block-cache.jsonl"

  private let journal: Journal<Key, BlockRecord>
  var url: URL { journal.url }

  /// Opens (or creates) the cache. With `reuse == false` (`--no-cache`) an existing cache is discarded.
  init(url: URL, reuse: Bool) throws {
    journal = try Journal(url: url, reuse: reuse)
  }

  func lookup(_ key: Key) -> BlockRecord? { journal.lookup(key) }

  /// Lines skipped as damaged when the cache was opened: their blocks are computed again.
  var damagedLines: [Int] { journal.damagedLines }

  func record(_ score: BlockRecord, for key: Key) throws { try journal.record(score, for: key) }
}
