import Foundation

/// Remembers the tokens of pieces that needed merging, shared by every thread that encodes with one tokenizer.
///
/// Text repeats its words, so after a few pages nearly every piece is either a vocabulary token (found without
/// any lock) or in this cache. The cache is split into shards by hash, each behind its own lock, so two threads
/// encoding at once rarely wait for each other. A shard that fills up is cleared rather than evicted entry by
/// entry: the bound on memory matters, the occasional re-merge does not.
///
/// The locks are pthread mutexes rather than `Synchronization.Mutex`: ThreadSanitizer intercepts pthread locks but
/// cannot see inside the standard library's uninstrumented `Mutex`, and reported every shard access as a race.
final class BPECache: @unchecked Sendable {
  /// Longer pieces are merged every time; they are rare and would fill the cache for little gain.
  static let maxPieceLength = 128
  static let shardCount = 64

  /// The shards' locks and tables live in two allocations, which spares the hot path the reference counting of a
  /// shard object; shard i is `locks[i]` guarding `tables[i]`.
  private let locks: UnsafeMutablePointer<pthread_mutex_t>
  private let tables: UnsafeMutablePointer<CacheTable>

  init(entriesPerShard: Int = 1 << 13) {
    locks = .allocate(capacity: BPECache.shardCount)
    tables = .allocate(capacity: BPECache.shardCount)
    for i in 0..<BPECache.shardCount {
      pthread_mutex_init(locks + i, nil)
      (tables + i).initialize(to: CacheTable(limit: entriesPerShard))
    }
  }

  deinit {
    for i in 0..<BPECache.shardCount { pthread_mutex_destroy(locks + i) }
    tables.deinitialize(count: BPECache.shardCount)
    tables.deallocate()
    locks.deallocate()
  }

  /// Runs `body` on shard `i`'s table under its lock.
  @inline(__always)
  private func withShard<R>(_ i: Int, _ body: (inout CacheTable) -> R) -> R {
    pthread_mutex_lock(locks + i)
    defer { pthread_mutex_unlock(locks + i) }
    return body(&tables[i])
  }

  @inline(__always)
  private func shard(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> 58) & (BPECache.shardCount - 1) }

  /// Appends the cached tokens of `p[0..<n]` to `out` and returns true, or returns false on a miss.
  func append(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, to out: inout [Int32]) -> Bool {
    withShard(shard(hash)) { $0.append(p, n, hash: hash, to: &out) }
  }

  /// Records the tokens of `p[0..<n]`.
  func insert(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, tokens: ArraySlice<Int32>) {
    withShard(shard(hash)) { $0.insert(p, n, hash: hash, tokens: tokens) }
  }

  /// Number of cached pieces (tests).
  var count: Int {
    (0..<BPECache.shardCount).reduce(0) { total, i in total + withShard(i) { $0.entries.count } }
  }
}

/// One shard: open addressing over entries whose keys and tokens live in two growing arenas.
struct CacheTable {
  struct Entry {
    var hash: UInt64
    var keyStart: UInt32
    var tokenStart: UInt32
    var keyLength: UInt16
    var tokenCount: UInt16
  }

  let limit: Int
  /// Entry index + 1, or 0 for empty.
  private var slots: [UInt32]
  private(set) var entries: [Entry] = []
  private var keys: [UInt8] = []
  private var tokens: [Int32] = []

  init(limit: Int) {
    self.limit = limit
    slots = [UInt32](repeating: 0, count: 64)
  }

  func append(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, to out: inout [Int32]) -> Bool {
    guard let e = find(p, n, hash: hash) else { return false }
    let entry = entries[e]
    let start = Int(entry.tokenStart)
    tokens.withUnsafeBufferPointer { all in
      out.append(contentsOf: UnsafeBufferPointer(rebasing: all[start..<(start + Int(entry.tokenCount))]))
    }
    return true
  }

  private func find(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64) -> Int? {
    slots.withUnsafeBufferPointer { slots in
      entries.withUnsafeBufferPointer { entries in
        keys.withUnsafeBufferPointer { keys in
          let mask = slots.count - 1
          var index = Int(truncatingIfNeeded: hash) & mask
          while true {
            let slot = slots[index]
            if slot == 0 { return nil }
            let entry = entries[Int(slot) - 1]
            if entry.hash == hash && Int(entry.keyLength) == n
              && bytesEqual(keys.baseAddress! + Int(entry.keyStart), p, n)
            {
              return Int(slot) - 1
            }
            index = (index + 1) & mask
          }
        }
      }
    }
  }

  mutating func insert(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, tokens newTokens: ArraySlice<Int32>) {
    guard n <= Int(UInt16.max), newTokens.count <= Int(UInt16.max) else { return }
    if find(p, n, hash: hash) != nil { return }  // another thread merged the same piece first
    if entries.count >= limit {
      entries.removeAll(keepingCapacity: true)
      keys.removeAll(keepingCapacity: true)
      tokens.removeAll(keepingCapacity: true)
      for i in slots.indices { slots[i] = 0 }
    }
    if 2 * (entries.count + 1) > slots.count { grow() }
    entries.append(
      Entry(
        hash: hash, keyStart: UInt32(keys.count), tokenStart: UInt32(tokens.count), keyLength: UInt16(n),
        tokenCount: UInt16(newTokens.count)))
    keys.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    tokens.append(contentsOf: newTokens)
    place(entries.count - 1)
  }

  private mutating func grow() {
    slots = [UInt32](repeating: 0, count: slots.count * 2)
    for e in entries.indices { place(e) }
  }

  private mutating func place(_ e: Int) {
    let mask = slots.count - 1
    var index = Int(truncatingIfNeeded: entries[e].hash) & mask
    while slots[index] != 0 { index = (index + 1) & mask }
    slots[index] = UInt32(e + 1)
  }
}
