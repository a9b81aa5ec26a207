import Foundation
import LTMMauve
import LTMModels

/// What `ltm-bench mauve` was asked to do.
public struct MauveConfiguration: Sendable {
  public var pFeatures: String
  public var qFeatures: String
  public var settings: MauveSettings
  /// k-means seeds settings.seed, settings.seed + 1, …: the scores are reported as mean ± std over them.
  public var seedCount: Int
  public var threads: Int
  /// Where `mauve.json` goes; nil writes nothing.
  public var outputDirectory: URL?

  public init(pFeatures: String, qFeatures: String, settings: MauveSettings = MauveSettings(), seedCount: Int = 1,
              threads: Int = ThreadCount.usable, outputDirectory: URL? = nil) {
    self.pFeatures = pFeatures
    self.qFeatures = qFeatures
    self.settings = settings
    self.seedCount = seedCount
    self.threads = threads
    self.outputDirectory = outputDirectory
  }
}

/// MAUVE from two feature files: load and validate them, prepare once (normalise, PCA), cluster per seed, and
/// write `mauve.json`. Never prints.
public enum MauveRunner {
  public struct Outputs: Sendable {
    public var document: MauveDocument
    public var json: URL?
  }

  public static func run(_ config: MauveConfiguration) throws -> Outputs {
    guard (1...OptionBounds.repeats).contains(config.seedCount) else { throw HarnessError.invalidArgument("--seeds must be in 1...\(OptionBounds.repeats)") }
    try ThreadCount.validate(config.threads)
    HarnessSettings.setThreads(config.threads)
    let started = Date()
    let p = try FeatureFile.load(config.pFeatures)
    let q = try FeatureFile.load(config.qFeatures)
    guard p.matrix.cols == q.matrix.cols else {
      throw HarnessError.invalidArgument(
        "feature dimensions differ: \(p.path) has \(p.matrix.cols) columns, \(q.path) has \(q.matrix.cols)")
    }
    try p.matrix.validate(name: p.path)
    try q.matrix.validate(name: q.path)
    let prepared = try Mauve.prepare(p: p.matrix, q: q.matrix, settings: config.settings)
    let seeds = (0..<config.seedCount).map { config.settings.seed + $0 }
    let results = try seeds.map { try Mauve.score(prepared, seed: $0) }
    let first = results[0]

    func input(_ l: FeatureFile.Loaded) throws -> MauveDocument.Input {
      let (sha, bytes) = try Digests.sha256(file: URL(fileURLWithPath: l.path))
      return .init(path: l.path, tensor: l.tensor, format: l.format, dtype: l.dtype, rows: l.matrix.rows,
                   dims: l.matrix.cols, bytes: bytes, sha256: sha)
    }
    let s = config.settings
    let proj = prepared.projection
    let document = MauveDocument(
      run: .init(startedAt: ISO8601DateFormatter().string(from: started), wallSeconds: Date().timeIntervalSince(started),
                 threads: config.threads),
      inputs: .init(p: try input(p), q: try input(q)),
      settings: .init(
        numBucketsRequested: s.numBuckets.map(String.init) ?? "auto", numBuckets: prepared.numBuckets,
        explainedVariance: s.explainedVariance, kmeansRestarts: s.kmeansRestarts, kmeansIterations: s.kmeansIterations,
        seed: s.seed, seeds: seeds, scalingFactor: s.scalingFactor, curvePoints: s.curvePoints,
        stopAtFixedPoint: s.stopAtFixedPoint, maxPointsPerCentroid: s.maxPointsPerCentroid),
      pca: .init(inputDims: proj.inputDims, keptDims: proj.dims,
                 explainedVarianceKept: proj.explainedVarianceRatio.prefix(proj.dims).reduce(0, +)),
      scores: .init(mauve: first.mauve, mauveStar: first.mauveStar, frontierIntegral: first.frontierIntegral,
                    frontierIntegralStar: first.frontierIntegralStar),
      histograms: .init(p: first.pHist, q: first.qHist), divergenceCurve: first.divergenceCurve,
      seedSummary: MauveSeedSummary(results), perSeed: results)
    var url: URL?
    if let dir = config.outputDirectory {
      try OutputFolder.prepare(dir)
      let file = dir.appendingPathComponent("mauve.json")
      try document.jsonData().write(to: file, options: .atomic)
      url = file
    }
    return Outputs(document: document, json: url)
  }
}
