/// The 32-bit Mersenne Twister (`std::mt19937`), because faiss's `RandomGenerator` is exactly that and the
/// k-means initial centroids, the training subsample and the empty-cluster splits all come from it: matching
/// mauve-text's histograms bit for bit needs the same stream.
///
/// Seeding is the standard `init_genrand(s)`: mt[0] = s, mt[i] = 1812433253·(mt[i−1] ⊕ (mt[i−1] ≫ 30)) + i.
/// faiss seeds with `(unsigned int) seed`, i.e. the low 32 bits of its int64 seed.
public struct MT19937: Sendable {
  private var state = [UInt32](repeating: 0, count: 624)
  private var index = 624

  public init(seed: Int64) {
    state[0] = UInt32(truncatingIfNeeded: seed)
    for i in 1..<624 {
      let prev = state[i - 1]
      state[i] = 1_812_433_253 &* (prev ^ (prev >> 30)) &+ UInt32(i)
    }
  }

  /// The next tempered 32-bit output.
  public mutating func next() -> UInt32 {
    if index >= 624 { twist() }
    var y = state[index]
    index += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C_5680
    y ^= (y << 15) & 0xEFC6_0000
    y ^= y >> 18
    return y
  }

  private mutating func twist() {
    state.withUnsafeMutableBufferPointer { mt in
      for i in 0..<624 {
        let y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % 624] & 0x7FFF_FFFF)
        var v = mt[(i + 397) % 624] ^ (y >> 1)
        if y & 1 != 0 { v ^= 0x9908_B0DF }
        mt[i] = v
      }
    }
    index = 0
  }

  /// faiss `rand_int(max)`: `mt() % max` (modulo bias included, as faiss has it).
  public mutating func randInt(_ max: Int) -> Int { Int(next() % UInt32(max)) }

  /// faiss `rand_float()`: `mt() / float(mt.max())`, i.e. the output rounded to float, divided by 2³² (the float
  /// nearest to 2³²−1). Can return 1.0.
  public mutating func randFloat() -> Float { Float(next()) / Float(UInt32.max) }

  /// faiss `rand_perm(n, seed)`: the identity permutation shuffled by a forward Fisher–Yates,
  /// for i in 0..<n−1: j = i + mt() % (n − i); swap(perm[i], perm[j]).
  public static func permutation(_ n: Int, seed: Int64) -> [Int] {
    var perm = Array(0..<n)
    var rng = MT19937(seed: seed)
    if n > 1 {
      for i in 0..<(n - 1) {
        let j = i + rng.randInt(n - i)
        perm.swapAt(i, j)
      }
    }
    return perm
  }
}
