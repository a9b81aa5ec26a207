/// A fast 64-bit hash of a short byte string (eight bytes per multiply), shared by the vocabulary index and the
/// piece cache so each piece is hashed once. Not for anything adversarial: a table only ever slows down.
@inline(__always)
func hashBytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
  let raw = UnsafeRawPointer(p)
  var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
  var i = 0
  while i + 8 <= n {
    h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 32
    i += 8
  }
  if i < n {
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
      tail |= UInt64(p[i]) << shift
      shift += 8
      i += 1
    }
    h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
  }
  h ^= h >> 33
  h = h &* 0xFF51_AFD7_ED55_8CCD
  h ^= h >> 29
  return h
}

/// Equality of two short byte strings, eight bytes at a time. Inlined: for the 2–10 byte keys of a vocabulary a
/// call into libc's `memcmp` cost more than the comparison (15% of warm encoding time).
@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
  let ra = UnsafeRawPointer(a)
  let rb = UnsafeRawPointer(b)
  var i = 0
  while i + 8 <= n {
    if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
      return false
    }
    i += 8
  }
  while i < n {
    if a[i] != b[i] { return false }
    i += 1
  }
  return true
}

/// Smallest power of two ≥ 2·`count` (load factor ≤ ½ keeps linear probing short).
func tableCapacity(for count: Int) -> Int {
  var capacity = 16
  while capacity < 2 * count { capacity <<= 1 }
  return capacity
}

/// Token id → bytes and bytes → token id for the ordinary (non-special) vocabulary.
///
/// Built once and then only read, so every thread probes it without a lock. Stored in manually allocated
/// buffers: the encoder's inner loop does a probe per piece and should not pay for array bounds checks or
/// reference counting.
final class TokenTable: @unchecked Sendable {
  /// One past the largest id.
  let idLimit: Int
  /// `offsets[id] ..< offsets[id + 1]` is the token's range in `bytes`; empty for an unused id.
  private let offsets: UnsafeMutablePointer<UInt32>
  private let bytes: UnsafeMutablePointer<UInt8>
  /// Open addressing: upper 32 bits are the key's hash, lower 32 bits are id + 1; 0 is an empty slot.
  private let slots: UnsafeMutablePointer<UInt64>
  private let mask: Int

  /// Builds the table; when two ids have the same bytes, returns them in `duplicate` instead.
  init(tokens: [[UInt8]?], duplicate: inout (Int, Int)?) {
    idLimit = tokens.count
    offsets = .allocate(capacity: tokens.count + 1)
    let total = tokens.reduce(0) { $0 + ($1?.count ?? 0) }
    bytes = .allocate(capacity: max(total, 1))
    let capacity = tableCapacity(for: tokens.count)
    mask = capacity - 1
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: 0, count: capacity)
    var offset = 0
    for (id, token) in tokens.enumerated() {
      offsets[id] = UInt32(offset)
      guard let token, !token.isEmpty else { continue }
      token.withUnsafeBufferPointer { (bytes + offset).initialize(from: $0.baseAddress!, count: token.count) }
      let p = UnsafePointer(bytes + offset)
      offset += token.count
      let h = hashBytes(p, token.count)
      if let other = lookup(p, token.count, hash: h) {
        if duplicate == nil { duplicate = (Int(other), id) }
        continue
      }
      var index = Int(truncatingIfNeeded: h) & mask
      while slots[index] != 0 { index = (index + 1) & mask }
      slots[index] = (h >> 32) << 32 | UInt64(id + 1)
    }
    offsets[tokens.count] = UInt32(offset)
  }

  deinit {
    offsets.deallocate()
    bytes.deallocate()
    slots.deallocate()
  }

  /// The id whose bytes are `p[0..<n]`, given `hash == hashBytes(p, n)`.
  @inline(__always)
  func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64) -> UInt32? {
    var index = Int(truncatingIfNeeded: hash) & mask
    let tag = hash >> 32
    while true {
      let slot = slots[index]
      if slot == 0 { return nil }
      if slot >> 32 == tag {
        let id = Int(slot & 0xFFFF_FFFF) - 1
        let start = Int(offsets[id])
        if Int(offsets[id + 1]) - start == n && bytesEqual(bytes + start, p, n) { return UInt32(id) }
      }
      index = (index + 1) & mask
    }
  }

  /// The id of a byte string given as an array (loading only).
  func lookup(_ token: [UInt8]) -> UInt32? {
    token.withUnsafeBufferPointer { buffer in
      guard let p = buffer.baseAddress, !buffer.isEmpty else { return nil }
      return lookup(p, buffer.count, hash: hashBytes(p, buffer.count))
    }
  }

  /// The bytes of `id` (empty for an unused or out-of-range id).
  @inline(__always)
  func bytes(of id: Int) -> UnsafeBufferPointer<UInt8> {
    guard id >= 0 && id < idLimit else { return UnsafeBufferPointer(start: nil, count: 0) }
    let start = Int(offsets[id])
    return UnsafeBufferPointer(start: bytes + start, count: Int(offsets[id + 1]) - start)
  }
}

/// Adjacent token pair → (merge rank, merged token), the table a BPE merge step consults.
///
/// Keys pack the pair as `left << 32 | right`; values pack `rank << 32 | merged`, so comparing two values orders
/// by rank first. Read-only after construction.
final class PairRankTable: @unchecked Sendable {
  /// A value no real pair has: rank and merged id all ones. `UInt64.max` also marks an empty key slot.
  static let none = UInt64.max
  let count: Int
  private let keys: UnsafeMutablePointer<UInt64>
  private let values: UnsafeMutablePointer<UInt64>
  private let mask: Int

  /// Later entries for the same pair replace earlier ones (as in GPT-2's `encoder.py`, a dict built from the list).
  init(pairs: [(left: UInt32, right: UInt32, rank: UInt32, merged: UInt32)]) {
    let capacity = tableCapacity(for: pairs.count)
    mask = capacity - 1
    keys = .allocate(capacity: capacity)
    keys.initialize(repeating: PairRankTable.none, count: capacity)
    values = .allocate(capacity: capacity)
    values.initialize(repeating: PairRankTable.none, count: capacity)
    var stored = 0
    for pair in pairs {
      let key = UInt64(pair.left) << 32 | UInt64(pair.right)
      var index = PairRankTable.slot(key) & mask
      while keys[index] != PairRankTable.none && keys[index] != key { index = (index + 1) & mask }
      if keys[index] == PairRankTable.none { stored += 1 }
      keys[index] = key
      values[index] = UInt64(pair.rank) << 32 | UInt64(pair.merged)
    }
    count = stored
  }

  deinit {
    keys.deallocate()
    values.deallocate()
  }

  @inline(__always)
  private static func slot(_ key: UInt64) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 24)
  }

  /// `rank << 32 | merged` for the pair, or `PairRankTable.none` when the pair never merges.
  @inline(__always)
  func lookup(_ left: UInt32, _ right: UInt32) -> UInt64 {
    let key = UInt64(left) << 32 | UInt64(right)
    var index = PairRankTable.slot(key) & mask
    while true {
      let k = keys[index]
      if k == key { return values[index] }
      if k == PairRankTable.none { return PairRankTable.none }
      index = (index + 1) & mask
    }
  }
}
