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
/// - A cluster whose members did not change keeps its centroid, and a row whose label and centroid did not change
///   keeps dᵢ (`LloydLoop`, `reuseUnchanged`): the values recomputing them would give.
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
    /// Keep the centroids of clusters whose members did not change, and the objective terms of rows whose label and
    /// centroid did not change (same values; off only to test that; `LloydLoop`).
    public var reuseUnchanged: Bool

    public init(clusters: Int, iterations: Int = 500, restarts: Int = 5, seed: Int64, maxPointsPerCentroid: Int = 256,
                stopAtFixedPoint: Bool = true, pruneWithBounds: Bool = true, reuseUnchanged: Bool = true) {
      self.clusters = clusters
      self.iterations = iterations
      self.restarts = restarts
      self.seed = seed
      self.maxPointsPerCentroid = maxPointsPerCentroid
      self.stopAtFixedPoint = stopAtFixedPoint
      self.pruneWithBounds = pruneWithBounds
      self.reuseUnchanged = reuseUnchanged
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
    var bestLabels: [Int32]? = nil
    var bestObjective = Float.infinity
    var bestRestart = 0
    var objectives: [Float] = []
    var iterationsRun: [Int] = []
    var rowsComputed = 0
    try train.withUnsafeBufferPointer { tb in
      let tx = tb.baseAddress!
      if nt == k {
        // faiss: as many points as centroids, the points are the centroids (no iterations).
        best = Array(tb)
        objectives = [0]
        iterationsRun = [0]
        return
      }
      // The bounds hold one Float per row and centroid: beyond `boundsMemoryLimit` the plain scan runs (same labels).
      let bounds = s.pruneWithBounds && nt * k * MemoryLayout<Float>.size <= boundsMemoryLimit
        ? KMeansBounds(tx, rows: nt, clusters: k, dims: d) : nil
      let loop = LloydLoop(tx, rows: nt, dims: d, clusters: k, bounds: bounds, reuseUnchanged: s.reuseUnchanged)
      for restart in 0..<s.restarts {
        let perm = MT19937.permutation(nt, seed: s.seed + 1 + Int64(restart) * restartSeedStride)
        let (objective, ran) = try loop.run(initialRows: perm.prefix(k), iterations: s.iterations,
                                            stopAtFixedPoint: s.stopAtFixedPoint)
        objectives.append(objective)
        iterationsRun.append(ran)
        if s.restarts == 1 || objective < bestObjective {
          best = loop.centroids
          bestLabels = nt == n ? loop.labelsOfCurrentCentroids : nil  // a subsample's labels cannot be reused
          bestObjective = objective
          bestRestart = restart
        }
      }
      rowsComputed = loop.rowsComputed
    }
    guard best.count == k * d else {
      throw MauveError.numerical("k-means produced no finite objective (NaN in the projected features?)")
    }

    // Final assignment of every input row against the winning centroids (mauve: kmeans.index.search(x, 1)): the
    // training labels when every row trained and no centroid moved after they were assigned.
    let finalLabels = bestLabels ?? nearestLabels(x, rows: n, dims: d, centroids: best, clusters: k)
    return Result(centroids: best, labels: finalLabels, objectives: objectives, iterationsRun: iterationsRun,
                  bestRestart: bestRestart, distanceRowsComputed: rowsComputed,
                  distanceRowsVisited: iterationsRun.reduce(0, +) * nt)
  }

  /// The nearest of `centroids` for every row of `x` (the full GEMM scan).
  static func nearestLabels(_ x: [Float], rows n: Int, dims d: Int, centroids: [Float], clusters k: Int) -> [Int32] {
    var labels = [Int32](repeating: 0, count: n)
    x.withUnsafeBufferPointer { xb in
      centroids.withUnsafeBufferPointer { cb in
        labels.withUnsafeMutableBufferPointer { lb in
          assign(xb.baseAddress!, rows: n, dims: d, xNorms: squaredNorms(xb.baseAddress!, rows: n, cols: d),
                 centroids: cb.baseAddress!, cNorms: squaredNorms(cb.baseAddress!, rows: k, cols: d), clusters: k,
                 labels: lb.baseAddress!)
        }
      }
    }
    return labels
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
    let only = only.flatMap { worthGathering($0.count, of: n) ? $0 : nil }
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

  /// Whether `count` of `n` rows are few enough to gather for the distance GEMM (under 60%); otherwise all rows go.
  static func worthGathering(_ count: Int, of n: Int) -> Bool { count * 5 < n * 3 }

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
}
