/// Byte-pair merging of one pre-tokenized piece: start from one token per byte, then repeatedly merge the
/// adjacent pair with the lowest rank (the leftmost one on a tie) until no adjacent pair has a rank.
///
/// Merging every occurrence of the best pair at once (GPT-2's `encoder.py`) gives the same result, because a
/// merge can only create pairs that rank after the pair it merged.
extension BPEModel {
  /// Pieces up to this many bytes use the quadratic scan; longer ones (white-space runs, long words) use a heap.
  static let scanLimit = 64

  /// Appends the tokens of `p[0..<n]` (n ≥ 1) to `out`.
  @inline(__always)
  func merge(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) {
    if n <= BPEModel.scanLimit {
      mergeByScanning(p, n, into: &out)
    } else {
      mergeWithHeap(p, n, into: &out)
    }
  }

  /// O(n²) merging on stack buffers: for short pieces a linear scan over a few ranks beats any bookkeeping.
  func mergeByScanning(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) {
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: n) { part in
      withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { pairRank in
        byteTokens.withUnsafeBufferPointer { singles in
          for i in 0..<n { part[i] = UInt32(bitPattern: singles[Int(p[i])]) }
        }
        var m = n
        // pairRank[i] is `rank << 32 | merged` for (part[i], part[i + 1]), so the minimum is the best merge.
        var i = 0
        while i + 1 < m {
          pairRank[i] = pairs.lookup(part[i], part[i + 1])
          i += 1
        }
        while m > 1 {
          var best = PairRankTable.none
          var at = 0
          i = 0
          while i + 1 < m {
            if pairRank[i] < best {
              best = pairRank[i]
              at = i
            }
            i += 1
          }
          if best == PairRankTable.none { break }
          part[at] = UInt32(truncatingIfNeeded: best)
          // Close the gap left by part[at + 1]; pairRank[at + 1] described a pair that no longer exists.
          i = at + 1
          while i + 1 < m {
            part[i] = part[i + 1]
            i += 1
          }
          i = at + 1
          while i + 2 < m {
            pairRank[i] = pairRank[i + 1]
            i += 1
          }
          m -= 1
          if at + 1 < m { pairRank[at] = pairs.lookup(part[at], part[at + 1]) }
          if at > 0 { pairRank[at - 1] = pairs.lookup(part[at - 1], part[at]) }
        }
        for k in 0..<m { out.append(Int32(bitPattern: part[k])) }
      }
    }
  }

  /// O(n log n) merging for long pieces, so thousands of spaces in a row stay cheap.
  ///
  /// Parts form a linked list indexed by their first byte; a min-heap holds `rank << 32 | start` for candidate
  /// pairs. Entries go stale when a neighbour merges; a popped entry counts only if the pair now starting at
  /// `start` still has that rank, in which case it is a current pair with the smallest (rank, position) and so
  /// exactly the merge the quadratic scan would pick.
  func mergeWithHeap(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) {
    var part = [UInt32](repeating: 0, count: n)
    var next = [Int32](repeating: 0, count: n)  // start of the next part, or n
    var prev = [Int32](repeating: -1, count: n)  // start of the previous part, or -1
    var heap = MinHeap()
    for i in 0..<n {
      part[i] = UInt32(bitPattern: byteTokens[Int(p[i])])
      next[i] = Int32(i + 1)
      prev[i] = Int32(i - 1)
    }
    for i in 0..<(n - 1) {
      let value = pairs.lookup(part[i], part[i + 1])
      if value != PairRankTable.none { heap.push(value & 0xFFFF_FFFF_0000_0000 | UInt64(i)) }
    }
    while let entry = heap.pop() {
      let start = Int(entry & 0xFFFF_FFFF)
      let right = Int(next[start])
      // `prev[right] == start` holds only while both parts are alive and adjacent: a dead part is nobody's prev.
      guard right < n, prev[right] == Int32(start) else { continue }
      let value = pairs.lookup(part[start], part[right])
      guard value != PairRankTable.none, value >> 32 == entry >> 32 else { continue }
      part[start] = UInt32(truncatingIfNeeded: value)
      let after = Int(next[right])
      next[start] = Int32(after)
      if after < n { prev[after] = Int32(start) }
      prev[right] = -2  // dead
      let before = Int(prev[start])
      if before >= 0 {
        let v = pairs.lookup(part[before], part[start])
        if v != PairRankTable.none { heap.push(v & 0xFFFF_FFFF_0000_0000 | UInt64(before)) }
      }
      if after < n {
        let v = pairs.lookup(part[start], part[after])
        if v != PairRankTable.none { heap.push(v & 0xFFFF_FFFF_0000_0000 | UInt64(start)) }
      }
    }
    var i = 0
    while i < n {
      out.append(Int32(bitPattern: part[i]))
      i = Int(next[i])
    }
  }
}

/// A binary min-heap of packed `UInt64` keys.
struct MinHeap {
  private var items: [UInt64] = []

  mutating func push(_ value: UInt64) {
    items.append(value)
    var i = items.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      if items[parent] <= value { break }
      items[i] = items[parent]
      i = parent
    }
    items[i] = value
  }

  mutating func pop() -> UInt64? {
    guard let last = items.popLast() else { return nil }
    guard !items.isEmpty else { return last }
    let top = items[0]
    var i = 0
    let count = items.count
    while true {
      var child = 2 * i + 1
      if child >= count { break }
      if child + 1 < count && items[child + 1] < items[child] { child += 1 }
      if last <= items[child] { break }
      items[i] = items[child]
      i = child
    }
    items[i] = last
    return top
  }
}
