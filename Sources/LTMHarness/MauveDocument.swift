import Foundation
import LTMMauve
import LTMTensor

/// `mauve.json`, written by `ltm-bench mauve` (documented in docs/mauve-schema.md). Its own small document, apart
/// from the zero-shot `results.json`: inputs with their digests, every setting, the scores of `--seed`, its
/// histograms and divergence curve, and the mean ± std over `--seeds`.
public struct MauveDocument: Codable, Sendable {
  public static let schemaVersion = 1

  public struct Tool: Codable, Sendable {
    public var name = "ltm-bench"
    public var version = LTMBenchVersion.current
  }
  public struct Run: Codable, Sendable {
    public var startedAt: String
    public var wallSeconds: Double
    public var threads: Int
    /// The OpenBLAS kernels that ran.
    public var blasKernels: BLASKernelStatus? = HarnessSettings.blasKernels
    enum CodingKeys: String, CodingKey {
      case startedAt = "started_at", wallSeconds = "wall_seconds", threads, blasKernels = "blas_kernels"
    }
  }
  public struct Input: Codable, Sendable {
    public var path: String
    public var tensor: String?
    public var format: String
    public var dtype: String
    public var rows: Int
    public var dims: Int
    public var bytes: Int
    public var sha256: String
  }
  public struct Inputs: Codable, Sendable {
    public var p: Input
    public var q: Input
  }
  public struct Settings: Codable, Sendable {
    /// "auto" or the number given.
    public var numBucketsRequested: String
    public var numBuckets: Int
    public var explainedVariance: Double
    public var kmeansRestarts: Int
    public var kmeansIterations: Int
    public var seed: Int
    public var seeds: [Int]
    public var scalingFactor: Double
    public var curvePoints: Int
    public var stopAtFixedPoint: Bool
    public var maxPointsPerCentroid: Int
    /// The reference scheme the numbers reproduce.
    public var reference = "mauve-text 0.4.0 compute_mauve(p_features, q_features) on float64 features"
    enum CodingKeys: String, CodingKey {
      case numBucketsRequested = "num_buckets_requested", numBuckets = "num_buckets"
      case explainedVariance = "explained_variance", kmeansRestarts = "kmeans_restarts"
      case kmeansIterations = "kmeans_iterations", seed, seeds, scalingFactor = "scaling_factor"
      case curvePoints = "curve_points", stopAtFixedPoint = "stop_at_fixed_point"
      case maxPointsPerCentroid = "max_points_per_centroid", reference
    }
  }
  public struct PCA: Codable, Sendable {
    public var inputDims: Int
    public var keptDims: Int
    public var explainedVarianceKept: Double
    enum CodingKeys: String, CodingKey {
      case inputDims = "input_dims", keptDims = "kept_dims", explainedVarianceKept = "explained_variance_kept"
    }
  }
  public struct Scores: Codable, Sendable {
    public var mauve: Double
    public var mauveStar: Double
    public var frontierIntegral: Double
    public var frontierIntegralStar: Double
    enum CodingKeys: String, CodingKey {
      case mauve, mauveStar = "mauve_star", frontierIntegral = "frontier_integral"
      case frontierIntegralStar = "frontier_integral_star"
    }
  }
  public struct Histograms: Codable, Sendable {
    public var p: [Double]
    public var q: [Double]
  }

  public var schemaVersion = MauveDocument.schemaVersion
  public var command = "mauve"
  public var tool = Tool()
  public var run: Run
  public var inputs: Inputs
  public var settings: Settings
  public var pca: PCA
  /// Scores of `settings.seed`.
  public var scores: Scores
  public var histograms: Histograms
  public var divergenceCurve: [[Double]]
  /// Mean ± sample std over `settings.seeds`.
  public var seedSummary: MauveSeedSummary
  /// Every seed's full result, `settings.seed` first.
  public var perSeed: [MauveResult]

  enum CodingKeys: String, CodingKey {
    case schemaVersion = "schema_version", command, tool, run, inputs, settings, pca, scores, histograms
    case divergenceCurve = "divergence_curve", seedSummary = "seed_summary", perSeed = "per_seed"
  }

  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // The curve's endpoints are exactly 0 and 1, never ±∞ (exp(−c·∞) = 0), so plain JSON numbers suffice.
    return try encoder.encode(self)
  }
}
