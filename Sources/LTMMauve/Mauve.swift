import Foundation

/// A float64 feature matrix [rows, cols], row-major: one text's embedding per row.
public struct FeatureMatrix: Sendable, Equatable {
  public var values: [Double]
  public var rows: Int
  public var cols: Int

  public init(values: [Double], rows: Int, cols: Int) {
    precondition(values.count == rows * cols, "FeatureMatrix: \(values.count) values for \(rows)×\(cols)")
    self.values = values
    self.rows = rows
    self.cols = cols
  }

  /// Rejects what MAUVE cannot use: fewer than 2 rows, no columns, NaN or ±∞ (reported with the first bad cell).
  public func validate(name: String) throws {
    guard rows >= 2 else { throw MauveError.invalidInput("\(name) has \(rows) row(s); MAUVE needs at least 2") }
    guard cols >= 1 else { throw MauveError.invalidInput("\(name) has no columns") }
    if let i = values.firstIndex(where: { !$0.isFinite }) {
      throw MauveError.invalidInput("\(name) has a non-finite value (\(values[i])) at row \(i / cols), column \(i % cols)")
    }
  }
}

/// mauve-text 0.4.0 `compute_mauve` settings, with its defaults. Every one is overridable.
public struct MauveSettings: Sendable, Equatable, Codable {
  /// k-means clusters; nil = "auto": max(2, round-half-even(min(n_p, n_q)/10)).
  public var numBuckets: Int?
  /// PCA keeps the leading components explaining at least this fraction of the variance (`kmeans_explained_var`).
  public var explainedVariance: Double = 0.9
  public var kmeansRestarts: Int = 5
  public var kmeansIterations: Int = 500
  /// mauve-text's seed: faiss gets seed + 2 (restart r initialised from rand_perm(seed + 3 + r·15486557)).
  public var seed: Int = 25
  /// c in exp(−c·KL) (`mauve_scaling_factor`).
  public var scalingFactor: Double = 5
  /// Interior points λ of the divergence curve (`divergence_curve_discretization_size`).
  public var curvePoints: Int = 25
  /// faiss ≥ 1.14's bit-identical-objective stop (same result as running every iteration, far faster).
  public var stopAtFixedPoint: Bool = true
  /// faiss `max_points_per_centroid`: above k·this many rows, k-means trains on a seeded subsample.
  public var maxPointsPerCentroid: Int = 256

  public init() {}

  enum CodingKeys: String, CodingKey {
    case numBuckets = "num_buckets", explainedVariance = "explained_variance", kmeansRestarts = "kmeans_restarts"
    case kmeansIterations = "kmeans_iterations", seed, scalingFactor = "scaling_factor", curvePoints = "curve_points"
    case stopAtFixedPoint = "stop_at_fixed_point", maxPointsPerCentroid = "max_points_per_centroid"
  }

  /// The reference's automatic bucket count, with Python's round (half to even: 25 → 2, 35 → 4, 45 → 4).
  public static func autoBuckets(pRows: Int, qRows: Int) -> Int {
    max(2, Int((Double(min(pRows, qRows)) / 10).rounded(.toNearestOrEven)))
  }

  public func validate() throws {
    func bad(_ m: String) -> MauveError { .invalidSetting(m) }
    if let k = numBuckets, k < 1 { throw bad("num_buckets must be at least 1 (got \(k))") }
    guard explainedVariance > 0, explainedVariance < 1 else {
      throw bad("explained variance must lie strictly between 0 and 1 (got \(explainedVariance))")
    }
    guard kmeansRestarts >= 1 else { throw bad("k-means restarts must be at least 1 (got \(kmeansRestarts))") }
    guard kmeansIterations >= 1 else { throw bad("k-means iterations must be at least 1 (got \(kmeansIterations))") }
    guard scalingFactor > 0, scalingFactor.isFinite else { throw bad("scaling factor must be positive (got \(scalingFactor))") }
    guard curvePoints >= 1 else { throw bad("the divergence curve needs at least 1 point (got \(curvePoints))") }
    guard maxPointsPerCentroid >= 1 else { throw bad("max points per centroid must be at least 1") }
  }
}

/// One MAUVE evaluation: the four scores, the histograms they come from and the divergence curve.
public struct MauveResult: Sendable, Codable, Equatable {
  public var mauve: Double
  public var mauveStar: Double
  public var frontierIntegral: Double
  public var frontierIntegralStar: Double
  public var numBuckets: Int
  public var seed: Int
  /// Unsmoothed cluster histograms of P and Q (what `mauve` and `frontier_integral` use).
  public var pHist: [Double]
  public var qHist: [Double]
  /// m + 2 points (x, y) = (exp(−c·KL(Q‖R)), exp(−c·KL(P‖R))), endpoints included.
  public var divergenceCurve: [[Double]]
  /// PCA components kept for k-means.
  public var pcaDims: Int
  public var kmeansObjectives: [Float]
  public var kmeansIterations: [Int]
  public var kmeansBestRestart: Int

  enum CodingKeys: String, CodingKey {
    case mauve, mauveStar = "mauve_star", frontierIntegral = "frontier_integral"
    case frontierIntegralStar = "frontier_integral_star", numBuckets = "num_buckets", seed
    case pHist = "p_hist", qHist = "q_hist", divergenceCurve = "divergence_curve", pcaDims = "pca_dims"
    case kmeansObjectives = "kmeans_objectives", kmeansIterations = "kmeans_iterations"
    case kmeansBestRestart = "kmeans_best_restart"
  }
}

/// MAUVE (Pillutla et al. 2021) from features, equal to mauve-text 0.4.0 `compute_mauve(p_features, q_features)` on
/// float64 features: rows stacked Q then P, L2-normalised, PCA to 90% variance (`MauvePCA`), faiss k-means
/// (`FaissKMeans`), cluster histograms, then the divergence frontier and its area (`MauveCurve`).
public enum Mauve {
  /// The seed-independent part (normalisation and PCA), computed once and shared by several k-means seeds.
  public struct Prepared: Sendable {
    public var projection: MauvePCA.Projection
    public var pRows: Int
    public var qRows: Int
    public var settings: MauveSettings
    public var numBuckets: Int
  }

  public static func prepare(p: FeatureMatrix, q: FeatureMatrix, settings: MauveSettings = MauveSettings()) throws -> Prepared {
    try settings.validate()
    try p.validate(name: "p_features")
    try q.validate(name: "q_features")
    guard p.cols == q.cols else {
      throw MauveError.invalidInput("p_features has \(p.cols) columns but q_features has \(q.cols)")
    }
    let k = settings.numBuckets ?? MauveSettings.autoBuckets(pRows: p.rows, qRows: q.rows)
    guard k <= p.rows + q.rows else {
      throw MauveError.invalidSetting("num_buckets \(k) exceeds the \(p.rows + q.rows) feature rows")
    }
    var stacked = q.values  // Q rows first, then P (the order the k-means initialisation sees).
    stacked.append(contentsOf: p.values)
    let projection = try MauvePCA.project(
      &stacked, rows: p.rows + q.rows, cols: p.cols, explainedVariance: settings.explainedVariance)
    return Prepared(projection: projection, pRows: p.rows, qRows: q.rows, settings: settings, numBuckets: k)
  }

  /// Clusters the prepared features with mauve seed `seed` (faiss seed + 2) and scores the histograms.
  public static func score(_ prepared: Prepared, seed: Int) throws -> MauveResult {
    let s = prepared.settings, k = prepared.numBuckets
    let proj = prepared.projection
    let kmeans = try FaissKMeans.fit(
      proj.features, rows: proj.rows, dims: proj.dims,
      settings: .init(clusters: k, iterations: s.kmeansIterations, restarts: s.kmeansRestarts, seed: Int64(seed) + 2,
                      maxPointsPerCentroid: s.maxPointsPerCentroid, stopAtFixedPoint: s.stopAtFixedPoint))
    var qCounts = [Int](repeating: 0, count: k), pCounts = [Int](repeating: 0, count: k)
    for (i, label) in kmeans.labels.enumerated() {
      if i < prepared.qRows { qCounts[Int(label)] += 1 } else { pCounts[Int(label)] += 1 }
    }
    return scores(pCounts: pCounts, qCounts: qCounts, settings: s, seed: seed, pcaDims: proj.dims, kmeans: kmeans)
  }

  /// MAUVE of the cluster counts alone (`get_mauve_score` plus the frontier integrals); the k-means fields are
  /// taken from `kmeans` when given.
  public static func scores(
    pCounts: [Int], qCounts: [Int], settings s: MauveSettings, seed: Int, pcaDims: Int = 0, kmeans: FaissKMeans.Result? = nil
  ) -> MauveResult {
    let p = MauveCurve.histogram(pCounts), q = MauveCurve.histogram(qCounts)
    let pKT = MauveCurve.krichevskyTrofimov(pCounts), qKT = MauveCurve.krichevskyTrofimov(qCounts)
    let curve = MauveCurve.divergenceCurve(p: p, q: q, points: s.curvePoints, scalingFactor: s.scalingFactor)
    let curveKT = MauveCurve.divergenceCurve(p: pKT, q: qKT, points: s.curvePoints, scalingFactor: s.scalingFactor)
    return MauveResult(
      mauve: MauveCurve.area(curve), mauveStar: MauveCurve.area(curveKT),
      frontierIntegral: MauveCurve.frontierIntegral(p: p, q: q),
      frontierIntegralStar: MauveCurve.frontierIntegral(p: pKT, q: qKT),
      numBuckets: pCounts.count, seed: seed, pHist: p, qHist: q, divergenceCurve: curve, pcaDims: pcaDims,
      kmeansObjectives: kmeans?.objectives ?? [], kmeansIterations: kmeans?.iterationsRun ?? [],
      kmeansBestRestart: kmeans?.bestRestart ?? 0)
  }

  /// `compute_mauve(p_features=p, q_features=q, …)` with `settings` (its seed included).
  public static func compute(p: FeatureMatrix, q: FeatureMatrix, settings: MauveSettings = MauveSettings()) throws -> MauveResult {
    try score(prepare(p: p, q: q, settings: settings), seed: settings.seed)
  }
}

/// Mean and standard deviation of the four scores over several k-means seeds: one MAUVE number moves by ±0.005
/// or more with the seed alone (mauve.md §4.3), so comparisons need the spread.
public struct MauveSeedSummary: Sendable, Codable, Equatable {
  public struct Stat: Sendable, Codable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n − 1 in the denominator); 0 for a single seed.
    public var std: Double

    public init(_ values: [Double]) {
      let n = Double(values.count)
      mean = values.reduce(0, +) / n
      let m = mean
      std = values.count > 1 ? (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
    }
  }
  public var seeds: [Int]
  public var mauve: Stat
  public var mauveStar: Stat
  public var frontierIntegral: Stat
  public var frontierIntegralStar: Stat

  enum CodingKeys: String, CodingKey {
    case seeds, mauve, mauveStar = "mauve_star", frontierIntegral = "frontier_integral"
    case frontierIntegralStar = "frontier_integral_star"
  }

  public init(_ runs: [MauveResult]) {
    seeds = runs.map(\.seed)
    mauve = Stat(runs.map(\.mauve))
    mauveStar = Stat(runs.map(\.mauveStar))
    frontierIntegral = Stat(runs.map(\.frontierIntegral))
    frontierIntegralStar = Stat(runs.map(\.frontierIntegralStar))
  }
}
