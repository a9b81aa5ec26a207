/// numpy's `add.reduce` over a contiguous float64 array (`np.sum`, `np.trapezoid`): pairwise summation. The MAUVE
/// curve, KL terms and areas are summed this way in the reference, so summing the same way keeps the
/// post-histogram numbers equal to the last bit rather than merely close.
///
/// n < 8: sequential. n ≤ 128: eight interleaved accumulators rᵢ over strides of 8, combined as
/// ((r₀+r₁)+(r₂+r₃))+((r₄+r₅)+(r₆+r₇)), then the n mod 8 tail added in order. Larger: split at
/// n₂ = ⌊n/2⌋ rounded down to a multiple of 8 and recurse on both halves.
enum NumpySum {
  static func pairwise(_ a: [Double]) -> Double {
    a.withUnsafeBufferPointer { pairwise($0.baseAddress, count: a.count) }
  }

  static func pairwise(_ a: UnsafePointer<Double>?, count n: Int) -> Double {
    guard let a, n > 0 else { return 0 }
    if n < 8 {
      var s = 0.0
      for i in 0..<n { s += a[i] }
      return s
    }
    if n <= 128 {
      var r = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
      var i = 8
      while i < n - n % 8 {
        r.0 += a[i]; r.1 += a[i + 1]; r.2 += a[i + 2]; r.3 += a[i + 3]
        r.4 += a[i + 4]; r.5 += a[i + 5]; r.6 += a[i + 6]; r.7 += a[i + 7]
        i += 8
      }
      var s = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
      while i < n {
        s += a[i]
        i += 1
      }
      return s
    }
    var half = n / 2
    half -= half % 8
    return pairwise(a, count: half) + pairwise(a + half, count: n - half)
  }
}
