import ArgumentParser
import Foundation
import LTMHarness
import LTMMauve

/// `ltm-bench mauve`: MAUVE between two feature sets, equal to mauve-text 0.4.0 on float64 features.
struct MauveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mauve",
    abstract: "MAUVE, MAUVE*, frontier integrals, histograms and divergence curve from two feature files.",
    discussion: """
      Features are safetensors (F32 or F64; FILE:TENSOR names the tensor when the file holds several) or .npy
      ('<f4'/'<f8', C order), one row per text. The pipeline is mauve-text 0.4.0's: rows stacked Q then P, L2
      normalisation, float64 PCA to --explained-variance, faiss k-means, histograms, the divergence curve.
      Pass float64 features to reproduce the reference exactly. With --output-dir the full result goes to
      DIR/mauve.json (docs/mauve-schema.md).
      """)

  @Option(help: ArgumentHelp("Features of P (the human/reference side).", valueName: "FILE[:TENSOR]"))
  var pFeatures: String

  @Option(help: ArgumentHelp("Features of Q (the model side).", valueName: "FILE[:TENSOR]"))
  var qFeatures: String

  @Option(help: ArgumentHelp("k-means clusters, or auto = max(2, round(min(n_p, n_q)/10)).", valueName: "N|auto"))
  var numBuckets: String = "auto"

  @Option(help: "mauve-text seed (faiss k-means gets seed + 2).")
  var seed: Int = 25

  @Option(help: "Seeds seed, seed+1, … to report mean ± std over.")
  var seeds: Int = 1

  @Option(help: "Fraction of variance the PCA keeps, in (0, 1).")
  var explainedVariance: Double = 0.9

  @Option(help: "k-means restarts (the lowest objective wins).")
  var kmeansRestarts: Int = 5

  @Option(help: "k-means iterations per restart (at most; a restart stops at its fixed point).")
  var kmeansIterations: Int = 500

  @Flag(help: "Run every k-means iteration (faiss ≤ 1.13) instead of stopping a restart at its fixed point; same result, slower.")
  var allIterations = false

  @Option(help: "c in exp(-c·KL).")
  var scalingFactor: Double = 5

  @Option(help: "Interior points of the divergence curve.")
  var curvePoints: Int = 25

  @Option(help: "Threads for OpenBLAS and the k-means scans.")
  var threads: Int = 1

  @Option(help: "Directory for mauve.json; omitted: print only.")
  var outputDir: String?

  func run() throws {
    let outputs = try CLIErrors.oneLine { () -> MauveRunner.Outputs in
      var settings = MauveSettings()
      if numBuckets.lowercased() != "auto" {
        guard let k = Int(numBuckets), k >= 1 else {
          throw HarnessError.invalidArgument("--num-buckets must be a positive integer or auto, not '\(numBuckets)'")
        }
        settings.numBuckets = k
      }
      settings.seed = seed
      settings.explainedVariance = explainedVariance
      settings.kmeansRestarts = kmeansRestarts
      settings.kmeansIterations = kmeansIterations
      settings.stopAtFixedPoint = !allIterations
      settings.scalingFactor = scalingFactor
      settings.curvePoints = curvePoints
      let config = MauveConfiguration(
        pFeatures: pFeatures, qFeatures: qFeatures, settings: settings, seedCount: seeds, threads: threads,
        outputDirectory: outputDir.map { URL(fileURLWithPath: $0) })
      return try MauveRunner.run(config)
    }
    print(Self.table(outputs.document))
    if let url = outputs.json { print("wrote \(url.path)") }
  }

  static func table(_ d: MauveDocument) -> String {
    func side(_ name: String, _ i: MauveDocument.Input) -> String {
      "\(name)  \(i.path)\(i.tensor.map { ":" + $0 } ?? "")  \(i.rows) × \(i.dims) \(i.dtype)"
    }
    let s = d.settings
    var lines = [
      side("p", d.inputs.p), side("q", d.inputs.q),
      "k \(s.numBuckets) (\(s.numBucketsRequested)), PCA \(d.pca.inputDims) → \(d.pca.keptDims) dims, "
        + "\(s.kmeansRestarts) restarts × ≤\(s.kmeansIterations) iterations, c \(formatNumber(s.scalingFactor))",
      "",
    ]
    let multi = s.seeds.count > 1
    lines.append(pad("score", 24) + pad("seed \(s.seed)", 12) + (multi ? "mean ± std over \(s.seeds.count) seeds" : ""))
    let rows: [(String, Double, MauveSeedSummary.Stat)] = [
      ("mauve", d.scores.mauve, d.seedSummary.mauve),
      ("mauve_star", d.scores.mauveStar, d.seedSummary.mauveStar),
      ("frontier_integral", d.scores.frontierIntegral, d.seedSummary.frontierIntegral),
      ("frontier_integral_star", d.scores.frontierIntegralStar, d.seedSummary.frontierIntegralStar),
    ]
    for (name, value, stat) in rows {
      lines.append(pad(name, 24) + pad(String(format: "%.4f", value), 12)
                   + (multi ? String(format: "%.4f ± %.4f", stat.mean, stat.std) : ""))
    }
    return lines.joined(separator: "\n")
  }

  private static func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
  private static func formatNumber(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
