import CLTMPlatform
import Foundation
import LTMTensor

/// Elkan's bounds (Elkan 2003, "Using the triangle inequality to accelerate k-means"), widened by the rounding of
/// faiss's fp32 distance, so that a training row whose nearest centroid provably cannot change skips the distance
/// GEMM and every label is still the one the full GEMM scan would give. Late Lloyd iterations move few centroids, so
/// most rows are settled by the bounds or by a few exact distances.
///
/// For row x with label a, with true Euclidean distances:
/// - u ≥ ‖x − c_a‖ (kept valid by u += δ_a when c_a moves by δ_a);
/// - ‖x − c‖ ≥ base_c − S_c for every c ≠ a, where S_c = Σ_t δ_c⁽ᵗ⁾ is c's cumulative drift and base_c was set to
///   (a lower bound on ‖x − c‖) + S_c when that distance was last computed (the triangle inequality);
/// - a row floor ≤ min_c(base_c − S_c) taken at cumulative maximum drift M₀, so that with M = Σ_t max_c δ_c⁽ᵗ⁾ the
///   floor minus (M − M₀) bounds every other centroid without reading the row (Hamerly's single bound).
///
/// faiss's v_c = max(0, (‖x‖² + ‖c‖²) − 2·x·c) in fp32 is within e = κ(‖x‖ + max‖c‖)² of ‖x − c‖², with
/// κ = (d + 8)·2⁻²⁴·1.01, whatever order the sgemm sums in (Higham's γ_d bound on the dot product and the norms,
/// plus two roundings). So a lower bound ℓ > 0 on every other centroid with ℓ² > u² + 2e proves v_c > v_a for every
/// c ≠ a: the strict-< scan would return a again. A row the bounds cannot settle gets direct distances to the few
/// centroids they leave open (fp32 sums of squares, within a known relative error); when one of them is nearest by
/// more than the margin 2e the label is the one the GEMM would give, and otherwise (or with too many open centroids)
/// the row goes to the GEMM. The kernels are C (`ltm_vmin_difference`, `ltm_vopen_indices`, `ltm_vsquared_distance`)
/// for their AVX2 variants; any order of their sums is covered by the bounds.
final class KMeansBounds {
  let rows: Int, clusters: Int, dims: Int
  /// u per row.
  private let upper: UnsafeMutableBufferPointer<Double>
  /// base per row and centroid, rounded down to Float; +∞ in the label's own column.
  private let base: UnsafeMutableBufferPointer<Float>
  /// The row floor and the M at which it was taken.
  private let floor: UnsafeMutableBufferPointer<Float>
  private let floorMark: UnsafeMutableBufferPointer<Double>
  /// S_c, and S_c rounded down and up to Float for the vectorised loops; M.
  private var drift: [Double]
  private let driftDown: UnsafeMutableBufferPointer<Float>
  private let driftUp: UnsafeMutableBufferPointer<Float>
  private var maxDriftSum = 0.0
  /// ‖xᵢ‖ (rounded up) and max‖c‖ of the current centroids.
  private let rowNorms: [Double]
  private var maxCentroidNorm = 0.0
  /// ‖c‖ (rounded up) of every current centroid.
  private var centroidNorms: [Double] = []
  private let kappa: Double
  /// Relative error bound of `distance`: (d + 8)·2⁻²⁴.
  private let distanceError: Double
  /// False until the first full pass of a restart.
  private(set) var primed = false
  /// Beyond this many open centroids a row goes to the GEMM (one GEMM row of 500 centroids costs about as much).
  static let openCentroidLimit = 32

  init(_ x: UnsafePointer<Float>, rows: Int, clusters: Int, dims: Int) {
    self.rows = rows
    self.clusters = clusters
    self.dims = dims
    upper = .allocate(capacity: rows)
    base = .allocate(capacity: rows * clusters)
    floor = .allocate(capacity: rows)
    floorMark = .allocate(capacity: rows)
    drift = []
    driftDown = .allocate(capacity: clusters)
    driftUp = .allocate(capacity: clusters)
    rowNorms = (0..<rows).map { Self.norm(x + $0 * dims, count: dims) * (1 + 1e-12) }
    kappa = Double(dims + 8) * 0x1p-24 * 1.01
    distanceError = Double(dims + 8) * 0x1p-24
  }

  deinit {
    upper.deallocate()
    base.deallocate()
    floor.deallocate()
    floorMark.deallocate()
    driftDown.deallocate()
    driftUp.deallocate()
  }

  /// A new restart: nothing is known about its centroids.
  func reset(centroids: UnsafePointer<Float>) {
    primed = false
    drift = [Double](repeating: 0, count: clusters)
    driftDown.update(repeating: 0)
    driftUp.update(repeating: 0)
    maxDriftSum = 0
    centroidNorms = (0..<clusters).map { Self.norm(centroids + $0 * dims, count: dims) * (1 + 1e-12) }
    maxCentroidNorm = centroidNorms.max() ?? 0
  }

  /// e for row i under the current centroids (plus an absolute term for products that underflow).
  @inline(__always) private func margin(_ i: Int) -> Double {
    let s = rowNorms[i] + maxCentroidNorm
    return kappa * s * s + 1e-30
  }

  /// Bounds on the exact distance from a `distance` value: its relative error, and 1e-17 for squares that underflow.
  @inline(__always) private func above(_ computed: Double) -> Double { computed * (1 + distanceError) + 1e-17 }
  @inline(__always) private func below(_ computed: Double) -> Double { Swift.max(0, computed * (1 - distanceError) - 1e-17) }

  /// Rows settled first, alone, to recognise a pass the bounds cannot spare (the one after a restart's first
  /// centroid update, which moves every centroid far): it then goes straight to the full GEMM.
  static let sampleRows = 256

  /// Settles every row the bounds or a few exact distances can (their labels updated in place) and returns the rows
  /// left for the GEMM, in increasing order; nil when every row goes to it (the first pass of a restart, or a pass
  /// whose sample leaves too many rows to gather; the full pass then recomputes and refreshes the sample's rows too).
  func settleRows(_ x: UnsafePointer<Float>, labels: UnsafeMutablePointer<Int32>, centroids: UnsafePointer<Float>) -> [Int32]? {
    guard primed else { return nil }
    let needs = UnsafeMutableBufferPointer<Bool>.allocate(capacity: rows)
    defer { needs.deallocate() }
    func settleRange(_ range: Range<Int>) {
      let open = UnsafeMutablePointer<Int>.allocate(capacity: Self.openCentroidLimit + 1)
      let exact = UnsafeMutablePointer<Double>.allocate(capacity: Self.openCentroidLimit + 1)
      defer { open.deallocate(); exact.deallocate() }
      for i in range { needs[i] = !settle(i, x, labels, centroids, open, exact) }
    }
    let sample = Swift.min(rows, Self.sampleRows)
    settleRange(0..<sample)
    guard FaissKMeans.worthGathering(needs[0..<sample].filter { $0 }.count, of: sample) else { return nil }
    Parallel.forChunks(of: rows - sample, minimumChunk: 256) { range in
      settleRange((range.lowerBound + sample)..<(range.upperBound + sample))
    }
    var out: [Int32] = []
    out.reserveCapacity(rows)
    for i in 0..<rows where needs[i] { out.append(Int32(i)) }
    return out
  }

  /// Row i's label proven unchanged or moved to a decisively nearer open centroid (true), or left to the GEMM.
  private func settle(
    _ i: Int, _ x: UnsafePointer<Float>, _ labels: UnsafeMutablePointer<Int32>, _ centroids: UnsafePointer<Float>,
    _ open: UnsafeMutablePointer<Int>, _ exact: UnsafeMutablePointer<Double>
  ) -> Bool {
    let e = margin(i), k = clusters, d = dims
    // A lower bound above `reach` on every other centroid proves the label (ℓ² > u² + 2e, with room for roundings).
    var reach = (upper[i] * upper[i] + 2 * e).squareRoot() * (1 + 1e-6)
    if Double(floor[i]) - (maxDriftSum - floorMark[i]) - 1e-9 * (maxDriftSum + 1) > reach { return true }
    let row = base.baseAddress! + i * k
    let sUp = driftUp.baseAddress!
    let lower = ltm_vmin_difference(row, sUp, k)
    floor[i] = lower.nextDown
    floorMark[i] = maxDriftSum
    if Double(lower) > reach { return true }
    let a = Int(labels[i])
    guard a >= 0 else { return false }
    let xi = x + i * d
    let toLabel = Self.distance(xi, centroids + a * d, count: d)
    upper[i] = above(toLabel)
    reach = (upper[i] * upper[i] + 2 * e).squareRoot() * (1 + 1e-6)
    if Double(lower) > reach { return true }

    // The centroids the bounds leave open, then the exact distances to them and to the label.
    let count = ltm_vopen_indices(row, sUp, k, Float(reach).nextUp, open, Self.openCentroidLimit)
    guard count >= 0 else { return false }
    open[count] = a
    exact[count] = toLabel
    var best = count
    for j in 0..<count {
      exact[j] = Self.distance(xi, centroids + open[j] * d, count: d)
      if exact[j] < exact[best] { best = j }
    }
    let nearest = above(exact[best])
    for j in 0...count where j != best {
      let other = below(exact[j])
      if !(other * other > nearest * nearest + 2 * e) { return false }
    }
    // The closed centroids keep bounds above `reach`; the open ones and the old label get their exact distances.
    var newFloor = Float(reach / (1 + 1e-6)).nextDown
    for j in 0...count where j != best {
      let c = open[j]
      row[c] = Float(below(exact[j]) + drift[c]).nextDown
      newFloor = Swift.min(newFloor, row[c] - sUp[c])
    }
    row[open[best]] = .infinity
    upper[i] = nearest
    labels[i] = Int32(open[best])
    floor[i] = newFloor.nextDown
    return true
  }

  /// Resets row i's bounds from its freshly computed fp32 distances `v` (the scan's values) and its label a:
  /// base_c = √max(0, v_c − e) + S_c, each operation in Float and the result shrunk by 2⁻²⁰, which more than covers
  /// the four roundings, so it stays below the exact value.
  func refresh(row i: Int, distances v: UnsafePointer<Float>, label a: Int) {
    let e = margin(i)
    let eUp = Float(e).nextUp
    let shrink: Float = 1 - 0x1p-20
    let row = base.baseAddress! + i * clusters
    let s = driftDown.baseAddress!
    for c in 0..<clusters {
      let t = v[c] - eUp
      row[c] = ((t > 0 ? t : 0).squareRoot() + s[c]) * shrink
    }
    if a >= 0 {
      row[a] = .infinity
      upper[i] = (Double(v[a]) + e).squareRoot() * (1 + 1e-12)
    } else {
      upper[i] = .infinity
    }
    floor[i] = ltm_vmin_difference(row, driftUp.baseAddress!, clusters).nextDown
    floorMark[i] = maxDriftSum
  }

  /// Marks the end of a restart's first full pass.
  func markPrimed() { primed = true }

  /// After the centroid update (and the split of empty clusters): S_c += ‖new − old‖, M += max δ, u += δ_a, max‖c‖.
  /// `changed[c]` says whether centroid c's bits changed; one that did not moved by exactly 0 and keeps its norm.
  func centroidsMoved(
    from old: UnsafePointer<Float>, to new: UnsafePointer<Float>, changed: [Bool], labels: UnsafePointer<Int32>
  ) {
    let d = dims
    var moved = [Double](repeating: 0, count: clusters)
    moved.withUnsafeMutableBufferPointer { m in
      centroidNorms.withUnsafeMutableBufferPointer { norms in
        Parallel.forChunks(of: clusters, minimumChunk: 64) { range in
          for c in range where changed[c] {
            m[c] = above(Self.distance(new + c * d, old + c * d, count: d))
            norms[c] = Self.norm(new + c * d, count: d) * (1 + 1e-12)
          }
        }
      }
    }
    for c in 0..<clusters where moved[c] != 0 {
      drift[c] += moved[c]
      driftDown[c] = Float(drift[c]).nextDown
      driftUp[c] = Float(drift[c]).nextUp
    }
    maxDriftSum += moved.max() ?? 0
    for i in 0..<rows where labels[i] >= 0 { upper[i] += moved[Int(labels[i])] }
    maxCentroidNorm = centroidNorms.max() ?? 0
  }

  /// ‖x − c‖ from the fp32 sum of squares (`ltm_vsquared_distance`): all its terms are non-negative, so it is
  /// within a relative `distanceError` of the exact distance whatever the order (difference, square, γ_d, root).
  /// (NaN from NaN features or centroids, whose margin e is NaN too: such rows are never proven.)
  @inline(__always)
  private static func distance(_ x: UnsafePointer<Float>, _ c: UnsafePointer<Float>, count d: Int) -> Double {
    Double(ltm_vsquared_distance(x, c, d).squareRoot())
  }

  /// ‖x‖ in float64.
  private static func norm(_ x: UnsafePointer<Float>, count d: Int) -> Double {
    var s = 0.0
    for t in 0..<d { s += Double(x[t]) * Double(x[t]) }
    return s.squareRoot()
  }
}
