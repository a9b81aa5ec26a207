import Foundation

/// Everything after the histograms (mauve.md §2.5–2.8): smoothing, the divergence frontier, its area (MAUVE) and the
/// frontier integral. All float64, summed the way numpy sums, so given the same histograms the scores equal the
/// reference's to the last bit or so.
public enum MauveCurve {
  /// pⱼ = countⱼ / Σ counts (no smoothing: `mauve`, `frontier_integral` and the returned histograms).
  public static func histogram(_ counts: [Int]) -> [Double] {
    let total = Double(counts.reduce(0, +))
    return counts.map { Double($0) / total }
  }

  /// Krichevsky–Trofimov (add-½) smoothing: p̃ⱼ = (countⱼ + ½) / Σ (count + ½), for `mauve_star` and
  /// `frontier_integral_star` (mauve-text 0.4.0, JMLR 2023).
  public static func krichevskyTrofimov(_ counts: [Int]) -> [Double] {
    let shifted = counts.map { Double($0) + 0.5 }
    let total = NumpySum.pairwise(shifted)
    return shifted.map { $0 / total }
  }

  /// `np.linspace(lo, hi, m)`: λᵢ = i·((hi − lo)/(m − 1)) + lo, the last point set to hi exactly.
  public static func linspace(_ lo: Double, _ hi: Double, count m: Int) -> [Double] {
    guard m > 1 else { return m == 1 ? [lo] : [] }
    let step = (hi - lo) / Double(m - 1)
    var out = (0..<m).map { Double($0) * step + lo }
    out[m - 1] = hi
    return out
  }

  /// KL(u‖v) = Σ_{uᵢ>0, vᵢ>0} uᵢ·ln(uᵢ/vᵢ), +∞ when some uᵢ > 0 has vᵢ = 0.
  public static func kl(_ u: [Double], _ v: [Double]) -> Double {
    var terms: [Double] = []
    terms.reserveCapacity(u.count)
    for i in u.indices where u[i] != 0 {
      if v[i] == 0 { return .infinity }
      terms.append(u[i] * Foundation.log(u[i] / v[i]))
    }
    return NumpySum.pairwise(terms)
  }

  /// The divergence frontier: (0, ∞), then (KL(Q‖Rλ), KL(P‖Rλ)) with Rλ = λP + (1−λ)Q for each λ of
  /// linspace(1e−6, 1 − 1e−6, m), then (∞, 0); every coordinate mapped through exp(−c·KL). m + 2 points, from (1, 0)
  /// to (0, 1).
  public static func divergenceCurve(p: [Double], q: [Double], points m: Int, scalingFactor c: Double) -> [[Double]] {
    var raw: [[Double]] = [[0, .infinity]]
    for w in linspace(1e-6, 1 - 1e-6, count: m).sorted() {
      let r = zip(p, q).map { w * $0 + (1 - w) * $1 }
      raw.append([kl(q, r), kl(p, r)])
    }
    raw.append([.infinity, 0])
    return raw.map { $0.map { Foundation.exp(-c * $0) } }
  }

  /// MAUVE = ½·[∫ y dx over the points sorted by x + ∫ x dy over the points sorted by y], each by the trapezoid
  /// rule Σ (xᵢ₊₁ − xᵢ)(yᵢ₊₁ + yᵢ)/2 (sklearn.metrics.auc). Sorting is stable; the reference's unstable argsort can
  /// order exact ties differently, which only matters when P = Q exactly (mauve.md §4.4: both then give 0.75 for
  /// dyadic histograms, not 1).
  public static func area(_ curve: [[Double]]) -> Double {
    let x = curve.map { $0[0] }, y = curve.map { $0[1] }
    return 0.5 * (trapezoid(along: x, of: y) + trapezoid(along: y, of: x))
  }

  static func trapezoid(along x: [Double], of y: [Double]) -> Double {
    let order = x.indices.sorted { x[$0] < x[$1] || (x[$0] == x[$1] && $0 < $1) }
    guard order.count > 1 else { return 0 }
    var terms: [Double] = []
    for i in 0..<(order.count - 1) {
      let a = order[i], b = order[i + 1]
      terms.append((x[b] - x[a]) * (y[b] + y[a]) / 2.0)
    }
    return NumpySum.pairwise(terms)
  }

  /// Frontier integral (Liu et al. 2021), 2·Σᵢ tᵢ with tᵢ = qᵢ/4 if pᵢ = 0, pᵢ/4 if qᵢ = 0, 0 if |pᵢ − qᵢ| ≤ 1e−8,
  /// else (pᵢ + qᵢ)/4 − ½·pᵢqᵢ(ln pᵢ − ln qᵢ)/(pᵢ − qᵢ); summed in order. In [0, 1], lower is closer.
  public static func frontierIntegral(p: [Double], q: [Double]) -> Double {
    var total = 0.0
    for (a, b) in zip(p, q) {
      if a == 0 && b == 0 { continue }
      if a == 0 {
        total += b / 4
      } else if b == 0 {
        total += a / 4
      } else if abs(a - b) > 1e-8 {
        let t2 = a * b * (Foundation.log(a) - Foundation.log(b)) / (a - b)
        total += 0.25 * (a + b) - 0.5 * t2
      }
    }
    return total * 2
  }
}
