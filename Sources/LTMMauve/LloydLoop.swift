import Foundation
import LTMTensor

/// The Lloyd iterations of faiss's restarts over one training set (`FaissKMeans` documents the algorithm). With
/// `reuseUnchanged`, what cannot have changed since the previous iteration is kept instead of recomputed, and every
/// value is still the one a full recomputation gives, bit for bit:
/// - a cluster whose members are the same rows as before, and that no split touched, keeps its centroid: faiss would
///   sum the same rows in the same order and scale them by the same count;
/// - a row whose label and centroid are unchanged keeps its objective term dᵢ.
/// Late iterations move a few rows between a few clusters, so most of the update and the objective is skipped.
final class LloydLoop {
  let rows: Int, dims: Int, clusters: Int
  /// The centroids [clusters, dims] after the last `run`.
  private(set) var centroids: [Float]
  /// Training rows whose distances went through the GEMM, over every run.
  private(set) var rowsComputed = 0
  private let x: UnsafePointer<Float>
  private let xNorms: [Float]
  private let bounds: KMeansBounds?
  private let reuseUnchanged: Bool
  let labels: UnsafeMutableBufferPointer<Int32>
  private let previousLabels: UnsafeMutableBufferPointer<Int32>
  /// dᵢ of the last objective.
  private let terms: UnsafeMutableBufferPointer<Float>
  private var counts: [Float]
  /// Clusters the next update must recompute, and clusters whose centroid the last update changed.
  private var stale: [Bool]
  private var moved: [Bool]

  init(_ x: UnsafePointer<Float>, rows: Int, dims: Int, clusters: Int, bounds: KMeansBounds?, reuseUnchanged: Bool) {
    self.x = x
    self.rows = rows
    self.dims = dims
    self.clusters = clusters
    self.bounds = bounds
    self.reuseUnchanged = reuseUnchanged
    xNorms = FaissKMeans.squaredNorms(x, rows: rows, cols: dims)
    labels = .allocate(capacity: rows)
    labels.initialize(repeating: -1)
    previousLabels = .allocate(capacity: rows)
    previousLabels.initialize(repeating: -1)
    terms = .allocate(capacity: rows)
    terms.initialize(repeating: 0)
    centroids = [Float](repeating: 0, count: clusters * dims)
    counts = [Float](repeating: 0, count: clusters)
    stale = [Bool](repeating: true, count: clusters)
    moved = [Bool](repeating: true, count: clusters)
  }

  deinit {
    labels.deallocate()
    previousLabels.deallocate()
    terms.deallocate()
  }

  /// The labels of the last iteration when they are the nearest centroids of the current ones too: reuse is on and
  /// the last update changed no centroid (a restart that stopped at its fixed point); nil otherwise.
  var labelsOfCurrentCentroids: [Int32]? {
    reuseUnchanged && !moved.contains(true) ? Array(labels) : nil
  }

  /// One restart from the training rows `initialRows` as centroids: up to `iterations` Lloyd iterations, stopping
  /// early at a bit-identical objective when `stopAtFixedPoint`. Returns the last objective and the iterations run.
  func run(initialRows: ArraySlice<Int>, iterations: Int, stopAtFixedPoint: Bool) throws
    -> (objective: Float, iterations: Int)
  {
    let d = dims
    for (c, row) in initialRows.enumerated() { for j in 0..<d { centroids[c * d + j] = x[row * d + j] } }
    centroids.withUnsafeBufferPointer { bounds?.reset(centroids: $0.baseAddress!) }
    stale = [Bool](repeating: true, count: clusters)
    moved = [Bool](repeating: true, count: clusters)
    var objective: Float = 0
    var previous: Float? = nil  // the previous iteration's objective
    var ran = 0
    for _ in 0..<iterations {
      objective = assignAndScore()
      try updateCentroids()
      ran += 1
      if stopAtFixedPoint, let previous, previous.bitPattern == objective.bitPattern { break }
      previous = objective
    }
    return (objective, ran)
  }

  /// Labels every training row with its nearest centroid (bounds first, the GEMM for the rest) and returns faiss's
  /// obj for them.
  private func assignAndScore() -> Float {
    _ = previousLabels.update(fromContentsOf: labels)
    return centroids.withUnsafeBufferPointer { cb in
      let c = cb.baseAddress!
      let cNorms = FaissKMeans.squaredNorms(c, rows: clusters, cols: dims)
      let only = bounds?.settleRows(x, labels: labels.baseAddress!, centroids: c)
      rowsComputed += FaissKMeans.assign(x, rows: rows, dims: dims, xNorms: xNorms, centroids: c, cNorms: cNorms,
                                         clusters: clusters, labels: labels.baseAddress!, only: only, bounds: bounds)
      return objective(centroids: c, cNorms: cNorms)
    }
  }

  /// faiss's obj: Σᵢ dᵢ in row order in fp32, dᵢ = max(0, (‖xᵢ‖² + ‖c_aᵢ‖²) − 2·xᵢ·c_aᵢ) with the dot in eight lanes
  /// (`FaissKMeans.dot`), so that it depends on the labels and centroids alone. dᵢ is kept for a row whose label
  /// and centroid did not change.
  private func objective(centroids c: UnsafePointer<Float>, cNorms: [Float]) -> Float {
    let d = dims, labels = UnsafePointer(labels.baseAddress!), previous = UnsafePointer(previousLabels.baseAddress!)
    let out = terms.baseAddress!
    let reuse = reuseUnchanged, moved = moved
    Parallel.forChunks(of: rows, minimumChunk: 1024) { range in
      for i in range {
        let a = Int(labels[i])
        guard a >= 0 else { out[i] = .infinity; continue }
        if reuse && !moved[a] && labels[i] == previous[i] { continue }
        let value = (xNorms[i] + cNorms[a]) - 2 * FaissKMeans.dot(x + i * d, c + a * d, count: d)
        out[i] = value < 0 ? 0 : value
      }
    }
    var objective: Float = 0
    for i in 0..<rows { objective += out[i] }
    return objective
  }

  /// The centroid update, the split of empty clusters and the bounds' drift; then which clusters the next update
  /// must recompute (those whose members changed, and those a split touched) and which centroids changed.
  private func updateCentroids() throws {
    if reuseUnchanged {
      for i in 0..<rows where labels[i] != previousLabels[i] {
        for label in [labels[i], previousLabels[i]] where label >= 0 { stale[Int(label)] = true }
      }
    }
    let before = centroids
    let touched = try centroids.withUnsafeMutableBufferPointer { cb in
      try counts.withUnsafeMutableBufferPointer { hb in
        Self.recomputeCentroids(x, rows: rows, dims: dims, labels: labels.baseAddress!, clusters: clusters,
                                centroids: cb.baseAddress!, counts: hb.baseAddress!, only: stale)
        return try Self.splitEmptyClusters(dims: dims, clusters: clusters, points: rows, counts: hb.baseAddress!,
                                           centroids: cb.baseAddress!)
      }
    }
    stale = [Bool](repeating: !reuseUnchanged, count: clusters)
    for c in touched { stale[c] = true }
    let rowBytes = dims * MemoryLayout<Float>.size
    before.withUnsafeBytes { old in
      centroids.withUnsafeBytes { new in
        for c in 0..<clusters {
          moved[c] = memcmp(old.baseAddress! + c * rowBytes, new.baseAddress! + c * rowBytes, rowBytes) != 0
        }
      }
    }
    before.withUnsafeBufferPointer { old in
      centroids.withUnsafeBufferPointer { new in
        bounds?.centroidsMoved(
          from: old.baseAddress!, to: new.baseAddress!, changed: moved, labels: labels.baseAddress!)
      }
    }
  }

  /// faiss `compute_centroids` for the clusters `only` marks: cⱼ = (Σ_{i: label i = j} xᵢ, summed in row order in
  /// fp32) × fp32(1/countⱼ); every count is recomputed; empty clusters are left at zero for `splitEmptyClusters`.
  static func recomputeCentroids(
    _ x: UnsafePointer<Float>, rows n: Int, dims d: Int, labels: UnsafePointer<Int32>, clusters k: Int,
    centroids: UnsafeMutablePointer<Float>, counts: UnsafeMutablePointer<Float>, only: [Bool]
  ) {
    counts.update(repeating: 0, count: k)
    for j in 0..<k where only[j] { (centroids + j * d).update(repeating: 0, count: d) }
    // Each worker owns a range of clusters and walks all rows, so every centroid still sums its members in row order.
    Parallel.forChunks(of: k, minimumChunk: 64) { owned in
      for i in 0..<n {
        let j = Int(labels[i])
        guard owned.contains(j) else { continue }
        counts[j] += 1
        guard only[j] else { continue }
        add(x + i * d, to: centroids + j * d, count: d)
      }
    }
    for j in 0..<k where only[j] && counts[j] != 0 {
      let norm = 1 / counts[j]
      let c = centroids + j * d
      for t in 0..<d { c[t] *= norm }
    }
  }

  /// c ← c + x elementwise, eight lanes at a time (each element's sum is the same fp32 addition).
  @inline(__always)
  static func add(_ x: UnsafePointer<Float>, to c: UnsafeMutablePointer<Float>, count d: Int) {
    var t = 0
    while t + 8 <= d {
      let sum = UnsafeRawPointer(c + t).loadUnaligned(as: SIMD8<Float>.self)
        + UnsafeRawPointer(x + t).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(c + t).storeBytes(of: sum, as: SIMD8<Float>.self)
      t += 8
    }
    while t < d {
      c[t] += x[t]
      t += 1
    }
  }

  /// faiss `split_clusters`: every empty cluster i takes a copy of a populated cluster j chosen by walking
  /// j = 0, 1, … cyclically with a fresh mt19937(1234) and accepting when rand_float() < (countⱼ − 1)/(n − k)
  /// (computed in double, compared in float, as the C++ does); the two copies are pushed apart by factors
  /// 1 ± 1/1024 with alternating signs by dimension parity, and the count is shared in half. After 10·k refused
  /// draws the largest cluster is taken (faiss 1.15's guard against an endless walk). Returns the clusters it
  /// changed (each i and its j).
  static func splitEmptyClusters(
    dims d: Int, clusters k: Int, points n: Int, counts: UnsafeMutablePointer<Float>, centroids: UnsafeMutablePointer<Float>
  ) throws -> [Int] {
    guard (0..<k).contains(where: { counts[$0] == 0 }) else { return [] }
    guard n > k else { throw MauveError.numerical("empty cluster with as many points as clusters") }
    var rng = MT19937(seed: 1234)
    let denominator = Double(Float(n - k))
    let eps: Float = 1.0 / 1024
    var touched: [Int] = []
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
      touched += [i, j]
    }
    return touched
  }
}
