import Foundation
import LTMTensor

/// k-means exactly as `faiss.Kmeans(d, k, niter, nredo, seed, update_index=True).train(x)` followed by
/// `index.search(x, 1)` computes it (faiss `Clustering::train` with an `IndexFlatL2`), because MAUVE is a function
/// of the cluster histogram and a single different assignment moves it; see mauve.md §2.4.
///
/// - Training set: all rows, or when n > k·maxPointsPerCentroid the rows `rand_perm(n, seed)[0..<k·256]`.
/// - Restart r initialises centroid c to training row `rand_perm(n_train, seed + 1 + r·15486557)[c]`.
/// - Lloyd iteration, fp32 throughout:
///   dᵢ = min_c max(0, (‖xᵢ‖² + ‖c‖²) − 2·xᵢ·c) (sgemm for the dot products; ties to the lowest c),
///   obj = Σᵢ dᵢ summed sequentially, centroids = (Σ of the members in row order) × (1/count),
///   then empty clusters are split off populated ones (`splitEmptyClusters`).
/// - Rows whose nearest centroid the bounds prove, or a few exact distances decide by more than the fp32 rounding,
///   skip the GEMM (`KMeansBounds`, `pruneWithBounds`): the labels are those of the full scan. dᵢ in obj is
///   recomputed from the label with an 8-lane dot product, so obj is a function of the labels and centroids alone,
///   whichever rows the GEMM saw (faiss takes it from its own BLAS's GEMM, whose last bits differ from any other
///   BLAS's anyway).
/// - A restart stops after `iterations` or, with `stopAtFixedPoint` (faiss ≥ 1.14), as soon as obj is
///   bit-identical to the previous iteration's: the assignment has stopped changing, so further iterations would
///   reproduce the same centroids and the result is the same as running all of them.
/// - The restart with the strictly lowest final obj wins (the first on ties); labels are the nearest of its
///   centroids for every input row.
public enum FaissKMeans {
  public struct Settings: Sendable, Equatable {
    public var clusters: Int
    public var iterations: Int
    public var restarts: Int
    /// faiss's seed (mauve-text passes its own seed + 2).
    public var seed: Int64
    public var maxPointsPerCentroid: Int
    public var stopAtFixedPoint: Bool
    /// Skip the distance GEMM for rows whose label the bounds prove (same labels; off only to test that).
    public var pruneWithBounds: Bool

    public init(clusters: Int, iterations: Int = 500, restarts: Int = 5, seed: Int64, maxPointsPerCentroid: Int = 256,
                stopAtFixedPoint: Bool = true, pruneWithBounds: Bool = true) {
      self.clusters = clusters
      self.iterations = iterations
      self.restarts = restarts
      self.seed = seed
      self.maxPointsPerCentroid = maxPointsPerCentroid
      self.stopAtFixedPoint = stopAtFixedPoint
      self.pruneWithBounds = pruneWithBounds
    }
  }

  public struct Result: Sendable {
    /// [k, d] row-major, of the winning restart.
    public var centroids: [Float]
    /// Nearest centroid of every input row.
    public var labels: [Int32]
    /// Final objective of each restart.
    public var objectives: [Float]
    /// Lloyd iterations each restart ran.
    public var iterationsRun: [Int]
    public var bestRestart: Int
    /// Training rows whose distances the GEMM computed, over all iterations, and rows × iterations run.
    public var distanceRowsComputed: Int
    public var distanceRowsVisited: Int
  }

  /// faiss's `Clustering` magic number between restart seeds.
  static let restartSeedStride: Int64 = 15_486_557
  /// Most memory the pruning bounds may take (10000 rows × 500 clusters take 20 MB).
  static let boundsMemoryLimit = 512 << 20
  /// Rows per distance block, as faiss's `distance_compute_blas_query_bs`.
  static let blockRows = 4096

  public static func fit(_ x: [Float], rows n: Int, dims d: Int, settings s: Settings) throws -> Result {
    let k = s.clusters
    guard k >= 1, d >= 1 else { throw MauveError.invalidSetting("k-means needs k ≥ 1 and d ≥ 1 (k \(k), d \(d))") }
    guard n >= k else { throw MauveError.invalidSetting("cannot cluster \(n) points into \(k) clusters") }
    guard s.restarts >= 1, s.iterations >= 0 else {
      throw MauveError.invalidSetting("k-means restarts must be ≥ 1 and iterations ≥ 0")
    }
    guard x.count == n * d else { throw MauveError.invalidInput("k-means input holds \(x.count) values, not \(n)×\(d)") }

    // Training subsample (faiss subsample_training_set: the first k·max rows of rand_perm(n, seed)).
    let train: [Float]
    if n > k * s.maxPointsPerCentroid {
      let perm = MT19937.permutation(n, seed: s.seed)
      let nt = k * s.maxPointsPerCentroid
      var t = [Float](repeating: 0, count: nt * d)
      for i in 0..<nt { for c in 0..<d { t[i * d + c] = x[perm[i] * d + c] } }
      train = t
    } else {
      train = x
    }
    let nt = train.count / d

    var best: [Float] = []
    var bestObjective = Float.infinity
    var bestRestart = 0
    var objectives: [Float] = []
    var iterationsRun: [Int] = []
    var rowsComputed = 0
    try train.withUnsafeBufferPointer { tb in
      let tx = tb.baseAddress!
      let xNorms = squaredNorms(tx, rows: nt, cols: d)
      let labels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: nt)
      defer { labels.deallocate() }
      // The bounds hold one Float per row and centroid: beyond `boundsMemoryLimit` the plain scan runs (same labels).
      let bounds = s.pruneWithBounds && nt * k * MemoryLayout<Float>.size <= boundsMemoryLimit
        ? KMeansBounds(tx, rows: nt, clusters: k, dims: d) : nil
      var centroids = [Float](repeating: 0, count: k * d)
      var counts = [Float](repeating: 0, count: k)

      if nt == k {
        // faiss: as many points as centroids, the points are the centroids (no iterations).
        best = Array(tb)
        objectives = [0]
        iterationsRun = [0]
        return
      }
      for restart in 0..<s.restarts {
        let perm = MT19937.permutation(nt, seed: s.seed + 1 + Int64(restart) * restartSeedStride)
        for c in 0..<k { for j in 0..<d { centroids[c * d + j] = tx[perm[c] * d + j] } }
        centroids.withUnsafeBufferPointer { bounds?.reset(centroids: $0.baseAddress!) }
        var objective: Float = 0
        var previous: Float? = nil  // the previous iteration's objective
        var ran = 0
        for _ in 0..<s.iterations {
          objective = centroids.withUnsafeBufferPointer { cb in
            let c = cb.baseAddress!
            let cNorms = squaredNorms(c, rows: k, cols: d)
            let only = bounds?.settleRows(tx, labels: labels.baseAddress!, centroids: c)
            rowsComputed += assign(tx, rows: nt, dims: d, xNorms: xNorms, centroids: c, cNorms: cNorms, clusters: k,
                                   labels: labels.baseAddress!, only: only, bounds: bounds)
            return assignedObjective(tx, rows: nt, dims: d, xNorms: xNorms, centroids: c, cNorms: cNorms,
                                     labels: labels.baseAddress!)
          }
          let before = bounds == nil ? [] : centroids
          try centroids.withUnsafeMutableBufferPointer { cb in
            try counts.withUnsafeMutableBufferPointer { hb in
              updateCentroids(tx, rows: nt, dims: d, labels: labels.baseAddress!, clusters: k,
                              centroids: cb.baseAddress!, counts: hb.baseAddress!)
              try splitEmptyClusters(dims: d, clusters: k, points: nt, counts: hb.baseAddress!, centroids: cb.baseAddress!)
            }
            before.withUnsafeBufferPointer { old in
              bounds?.centroidsMoved(from: old.baseAddress!, to: cb.baseAddress!, labels: labels.baseAddress!)
            }
          }
          ran += 1
          if s.stopAtFixedPoint, let previous, previous.bitPattern == objective.bitPattern { break }
          previous = objective
        }
        objectives.append(objective)
        iterationsRun.append(ran)
        if s.restarts == 1 || objective < bestObjective {
          best = centroids
          bestObjective = objective
          bestRestart = restart
        }
      }
    }
    guard best.count == k * d else {
      throw MauveError.numerical("k-means produced no finite objective (NaN in the projected features?)")
    }

    // Final assignment of every input row against the winning centroids (mauve: kmeans.index.search(x, 1)).
    var finalLabels = [Int32](repeating: 0, count: n)
    x.withUnsafeBufferPointer { xb in
      best.withUnsafeBufferPointer { cb in
        finalLabels.withUnsafeMutableBufferPointer { lb in
          let norms = squaredNorms(xb.baseAddress!, rows: n, cols: d)
          assign(xb.baseAddress!, rows: n, dims: d, xNorms: norms, centroids: cb.baseAddress!,
                 cNorms: squaredNorms(cb.baseAddress!, rows: k, cols: d), clusters: k, labels: lb.baseAddress!)
        }
      }
    }
    return Result(centroids: best, labels: finalLabels, objectives: objectives, iterationsRun: iterationsRun,
                  bestRestart: bestRestart, distanceRowsComputed: rowsComputed,
                  distanceRowsVisited: iterationsRun.reduce(0, +) * nt)
  }

  /// ‖xᵢ‖² in fp32 for every row, accumulated in eight lanes then folded as an AVX2 horizontal sum would
  /// ((l₀+l₄)+(l₂+l₆)) + ((l₁+l₅)+(l₃+l₇)), with the d mod 8 tail added in order.
  static func squaredNorms(_ x: UnsafePointer<Float>, rows: Int, cols d: Int) -> [Float] {
    var out = [Float](repeating: 0, count: rows)
    out.withUnsafeMutableBufferPointer { o in
      let ob = o.baseAddress!
      Parallel.forChunks(of: rows, minimumChunk: 1024) { range in
        for r in range { ob[r] = squaredNorm(x + r * d, count: d) }
      }
    }
    return out
  }

  @inline(__always)
  static func squaredNorm(_ v: UnsafePointer<Float>, count d: Int) -> Float { dot(v, v, count: d) }

  /// u·w accumulated in eight lanes, folded ((l₀+l₄)+(l₂+l₆)) + ((l₁+l₅)+(l₃+l₇)), the d mod 8 tail added in order.
  @inline(__always)
  static func dot(_ v: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count d: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= d {
      let a = UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self)
      let b = UnsafeRawPointer(w + i).loadUnaligned(as: SIMD8<Float>.self)
      acc += a * b
      i += 8
    }
    let h = acc.lowHalf + acc.highHalf
    var s = (h[0] + h[2]) + (h[1] + h[3])
    while i < d {
      s += v[i] * w[i]
      i += 1
    }
    return s
  }

  /// Nearest centroid of each row (or of the rows `only` lists, gathered): the sgemm of a row block against all
  /// centroids (the same transposed call as faiss's `exhaustive_L2sqr_blas`), then faiss's scan (`nearest`); the
  /// scanned rows' bounds are refreshed. `cNorms` are the centroids' `squaredNorms`. Returns the rows computed.
  @discardableResult
  static func assign(
    _ x: UnsafePointer<Float>, rows n: Int, dims d: Int, xNorms: [Float], centroids: UnsafePointer<Float>,
    cNorms: [Float], clusters k: Int, labels: UnsafeMutablePointer<Int32>, only: [Int32]? = nil,
    bounds: KMeansBounds? = nil
  ) -> Int {
    // Gathering pays only when few rows are left; otherwise the whole matrix goes through (all bounds refreshed).
    let only = only.flatMap { $0.count * 5 < n * 3 ? $0 : nil }
    let count = only?.count ?? n
    let block = Swift.max(1, min(blockRows, count))
    let ip = UnsafeMutablePointer<Float>.allocate(capacity: block * k)
    let gathered = UnsafeMutablePointer<Float>.allocate(capacity: only == nil ? 0 : block * d)
    defer { ip.deallocate(); gathered.deallocate() }
    xNorms.withUnsafeBufferPointer { xn in
      cNorms.withUnsafeBufferPointer { cn in
        let xnb = xn.baseAddress!, cnb = cn.baseAddress!
        for i0 in stride(from: 0, to: count, by: block) {
          let rows = min(block, count - i0)
          var a = x + i0 * d
          if let only {
            for r in 0..<rows { (gathered + r * d).update(from: x + Int(only[i0 + r]) * d, count: d) }
            a = UnsafePointer(gathered)
          }
          BLAS.gemm(transB: true, m: rows, n: k, k: d, a: a, lda: d, b: centroids, ldb: d, c: ip, ldc: k)
          Parallel.forChunks(of: rows, minimumChunk: 64) { range in
            let values = UnsafeMutablePointer<Float>.allocate(capacity: k)
            defer { values.deallocate() }
            for r in range {
              let i = only.map { Int($0[i0 + r]) } ?? i0 + r
              let label = nearest(ip + r * k, xNorm: xnb[i], cNorms: cnb, count: k, values: values)
              labels[i] = label
              bounds?.refresh(row: i, distances: values, label: Int(label))
            }
          }
        }
      }
    }
    bounds?.markPrimed()
    return count
  }

  /// faiss's row scan: vⱼ = (‖x‖² + ‖cⱼ‖²) − 2·ipⱼ clamped at 0 (written to `values`), and the index a strict-<
  /// scan keeps: the first j of the smallest v (NaN never wins; -1 when no v is below +∞).
  @inline(__always)
  static func nearest(
    _ ip: UnsafePointer<Float>, xNorm: Float, cNorms: UnsafePointer<Float>, count k: Int, values v: UnsafeMutablePointer<Float>
  ) -> Int32 {
    for j in 0..<k {
      let value = (xNorm + cNorms[j]) - 2 * ip[j]
      v[j] = value < 0 ? 0 : value
    }
    var m = SIMD16<Float>(repeating: .infinity)
    var j = 0
    while j + 16 <= k {
      let u = UnsafeRawPointer(v + j).loadUnaligned(as: SIMD16<Float>.self)
      m = m.replacing(with: u, where: u .< m)
      j += 16
    }
    var best = Float.infinity
    for lane in 0..<16 where m[lane] < best { best = m[lane] }
    while j < k {
      if v[j] < best { best = v[j] }
      j += 1
    }
    guard best < .infinity else { return -1 }
    var first = 0
    while !(v[first] == best) { first += 1 }
    return Int32(first)
  }

  /// faiss's obj: Σᵢ dᵢ in row order in fp32, dᵢ = max(0, (‖xᵢ‖² + ‖c_aᵢ‖²) − 2·xᵢ·c_aᵢ) with the dot in eight lanes
  /// (folded as `squaredNorm`), so that it depends on the labels and centroids alone.
  static func assignedObjective(
    _ x: UnsafePointer<Float>, rows n: Int, dims d: Int, xNorms: [Float], centroids: UnsafePointer<Float>,
    cNorms: [Float], labels: UnsafePointer<Int32>
  ) -> Float {
    var distances = [Float](repeating: 0, count: n)
    distances.withUnsafeMutableBufferPointer { db in
      let out = db.baseAddress!
      Parallel.forChunks(of: n, minimumChunk: 1024) { range in
        for i in range {
          let a = Int(labels[i])
          guard a >= 0 else { out[i] = .infinity; continue }
          let value = (xNorms[i] + cNorms[a]) - 2 * dot(x + i * d, centroids + a * d, count: d)
          out[i] = value < 0 ? 0 : value
        }
      }
    }
    var objective: Float = 0
    for value in distances { objective += value }
    return objective
  }

  /// faiss `compute_centroids`: cⱼ = (Σ_{i: label i = j} xᵢ, summed in row order in fp32) × fp32(1/countⱼ);
  /// empty clusters are left at zero for `splitEmptyClusters`.
  static func updateCentroids(
    _ x: UnsafePointer<Float>, rows n: Int, dims d: Int, labels: UnsafePointer<Int32>, clusters k: Int,
    centroids: UnsafeMutablePointer<Float>, counts: UnsafeMutablePointer<Float>
  ) {
    centroids.update(repeating: 0, count: k * d)
    counts.update(repeating: 0, count: k)
    // Each worker owns a range of clusters and walks all rows, so every centroid still sums its members in row order.
    Parallel.forChunks(of: k, minimumChunk: 64) { owned in
      for i in 0..<n {
        let j = Int(labels[i])
        guard owned.contains(j) else { continue }
        counts[j] += 1
        let c = centroids + j * d, xi = x + i * d
        for t in 0..<d { c[t] += xi[t] }
      }
    }
    for j in 0..<k where counts[j] != 0 {
      let norm = 1 / counts[j]
      let c = centroids + j * d
      for t in 0..<d { c[t] *= norm }
    }
  }

  /// faiss `split_clusters`: every empty cluster i takes a copy of a populated cluster j chosen by walking
  /// j = 0, 1, … cyclically with a fresh mt19937(1234) and accepting when rand_float() < (countⱼ − 1)/(n − k)
  /// (computed in double, compared in float, as the C++ does); the two copies are pushed apart by factors
  /// 1 ± 1/1024 with alternating signs by dimension parity, and the count is shared in half. After 10·k refused
  /// draws the largest cluster is taken (faiss 1.15's guard against an endless walk).
  static func splitEmptyClusters(
    dims d: Int, clusters k: Int, points n: Int, counts: UnsafeMutablePointer<Float>, centroids: UnsafeMutablePointer<Float>
  ) throws {
    guard (0..<k).contains(where: { counts[$0] == 0 }) else { return }
    guard n > k else { throw MauveError.numerical("empty cluster with as many points as clusters") }
    var rng = MT19937(seed: 1234)
    let denominator = Double(Float(n - k))
    let eps: Float = 1.0 / 1024
    for i in 0..<k where counts[i] == 0 {
      var j = 0
      var tries = 0
      while true {
        let p = Float((Double(counts[j]) - 1.0) / denominator)
        if rng.randFloat() < p { break }
        tries += 1
        if tries >= 10 * k {
          j = (0..<k).max { counts[$0] < counts[$1] }!
          break
        }
        j = (j + 1) % k
      }
      let ci = centroids + i * d, cj = centroids + j * d
      ci.update(from: cj, count: d)
      for t in 0..<d {
        if t % 2 == 0 {
          ci[t] *= 1 + eps
          cj[t] *= 1 - eps
        } else {
          ci[t] *= 1 - eps
          cj[t] *= 1 + eps
        }
      }
      counts[i] = counts[j] / 2
      counts[j] -= counts[i]
    }
  }
}
